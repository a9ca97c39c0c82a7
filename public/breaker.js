// Live updates for the Circuit Breaker page. htmx 4 has no server-sent events in its core (that is
// the hx-sse extension, which the console does not load), so this listens to the breaker's event
// stream and fires `breaker-changed` on <body>; the panel's `hx-trigger="breaker-changed from:body"`
// then re-fetches it. The indicator says when the page may be out of date.
;(() => {
  const indicator = document.getElementById("breaker-live")
  const url = indicator?.dataset.stream
  if (indicator === null || url === undefined) return
  const show = (state, text) => {
    indicator.dataset.live = state
    indicator.innerHTML = ""
    const small = document.createElement("small")
    small.textContent = text
    indicator.append(small)
  }
  if (typeof EventSource === "undefined") {
    show("unsupported", "This browser cannot receive live updates: reload the page to see the current state.")
    return
  }
  const refresh = () => document.body.dispatchEvent(new CustomEvent("breaker-changed"))
  const source = new EventSource(url)
  source.addEventListener("open", () => show("open", "Live: this page updates by itself."))
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED)
      show("closed", "Live updates stopped: the state shown may be out of date. Reload the page.")
    else show("reconnecting", "Live updates interrupted, reconnecting: the state shown may be out of date.")
  })
  // Every (re)connection starts with a snapshot: re-fetching then also catches what was missed.
  for (const name of ["snapshot", "transition", "reset_requested", "scope_created"]) {
    source.addEventListener(name, refresh)
  }
  window.addEventListener("pagehide", () => source.close())
})()
