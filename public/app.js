// Breakwater's console script, on every page (views/layout.ts). The Content-Security-Policy allows
// no inline script, so everything a page does by itself is here:
// - the live breaker: one event stream per page (<body data-live-stream>), and on every event the
//   page's breaker displays re-fetch themselves (htmx, `hx-trigger="breaker-changed from:body"`);
//   the badge's state goes to the title and the favicon;
// - fail closed: when the stream has been lost for longer than the staleness limit
//   (<body data-staleness-seconds>), <html data-live="stale"> makes every breaker display say
//   "UNKNOWN — treat as halted" until the stream is back (the browser resumes it with
//   Last-Event-ID) and the displays have re-read the true state;
// - clocks that keep ticking: countdowns (<time data-countdown>), "last confirmed … ago", and submit
//   buttons disabled until a retry time (<button data-retry-in>);
// - forms that never fail the first click of a page loaded earlier: a refused CSRF token (the
//   session was renewed meanwhile) is replaced by the current one and the form sent again; an ended
//   sign-in keeps the form and says how to go on; an error page is never swapped over a form.
;(() => {
  const root = document.documentElement

  // Marks the document once htmx has loaded, so browser tests (and people) can tell the console is live.
  document.addEventListener("DOMContentLoaded", () => {
    root.dataset.htmx = typeof window.htmx === "undefined" ? "missing" : "ready"
  })

  // On a phone the navigation folds behind its "Menu" button (app.css); Escape folds it again.
  document.addEventListener("DOMContentLoaded", () => {
    const toggle = document.querySelector(".nav-toggle")
    const links = document.getElementById("nav-links")
    if (toggle === null || links === null) return
    root.dataset.nav = "menu"
    toggle.hidden = false
    const show = (open) => {
      links.classList.toggle("open", open)
      toggle.setAttribute("aria-expanded", String(open))
    }
    toggle.addEventListener("click", () => show(!links.classList.contains("open")))
    links.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return
      show(false)
      toggle.focus()
    })
  })

  // ---------------------------------------------------------------------------------------------
  // Time, as the server's views write it (views/format.ts).

  const duration = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000))
    const d = Math.floor(s / 86_400)
    const h = Math.floor((s % 86_400) / 3600)
    const m = Math.floor((s % 3600) / 60)
    const parts = [d > 0 ? `${d}d` : "", h > 0 ? `${h}h` : "", m > 0 ? `${m}m` : "", `${s % 60}s`]
    return parts.filter((p) => p !== "").join(" ")
  }
  const clockTime = (ms) => `${new Date(ms).toISOString().slice(11, 19)} UTC`

  // A countdown carries the milliseconds left when it was rendered: counted from when this page
  // first saw it, so the browser's clock need not agree with the server's.
  const deadlines = new WeakMap()
  const deadlineOf = (element, attribute) => {
    const raw = element.getAttribute(attribute)
    const known = deadlines.get(element)
    if (known !== undefined && known.raw === raw) return known.at
    const left = Number(raw)
    const at = Date.now() + (Number.isFinite(left) ? left : 0)
    deadlines.set(element, { raw, at })
    return at
  }

  const tickClocks = () => {
    const now = Date.now()
    for (const element of document.querySelectorAll("[data-countdown]")) {
      const left = duration(deadlineOf(element, "data-countdown") - now)
      const text = `${element.dataset.before ?? ""}${left}${element.dataset.after ?? ""}`
      if (element.textContent !== text) element.textContent = text
    }
    for (const button of document.querySelectorAll("button[data-retry-in]")) {
      if (deadlineOf(button, "data-retry-in") <= now) {
        button.removeAttribute("data-retry-in")
        button.disabled = false
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The live breaker.

  const holder = document.body.dataset.liveStream
    ? document.body
    : document.querySelector("[data-live-indicator][data-stream]")
  const stream = holder?.dataset.liveStream ?? holder?.dataset.stream
  const limitSeconds = Number(holder?.dataset.stalenessSeconds ?? document.body.dataset.stalenessSeconds ?? 5)
  const staleAfterMs = (Number.isFinite(limitSeconds) && limitSeconds > 0 ? limitSeconds : 5) * 1000

  // connecting → open → reconnecting → stale (→ open again); signed-out; unsupported.
  let status = "connecting"
  // The page's state was last known to be current at this time (the page load counts).
  let confirmedAt = Date.now()
  // Reconnected after being stale: the displays stay UNKNOWN until they have re-read the state.
  let syncing = false
  let source
  let reconnectTimer

  const displaysStale = () => syncing || status === "stale" || status === "signed-out"

  const statusWords = () => {
    if (syncing) return "Reconnected: reading the current state…"
    switch (status) {
      case "connecting":
        return "Connecting to live updates…"
      case "open":
        return "Live: this page updates by itself."
      case "reconnecting":
        return "Connection lost, reconnecting: the state shown may be out of date."
      case "stale":
        return `No live connection for more than ${staleAfterMs / 1000} s: every breaker state here is UNKNOWN — treat as halted. Reconnecting…`
      case "signed-out":
        return "Your sign-in has ended: every breaker state here is UNKNOWN — treat as halted."
      default:
        return "This browser cannot receive live updates: reload the page to see the current state."
    }
  }

  const paintIndicators = () => {
    const words = statusWords()
    const since =
      status === "open" && !syncing
        ? ""
        : `Last confirmed ${clockTime(confirmedAt)}, ${duration(Date.now() - confirmedAt)} ago.`
    for (const indicator of document.querySelectorAll("[data-live-indicator]")) {
      const shown = syncing ? "stale" : status
      if (indicator.dataset.live !== shown) indicator.dataset.live = shown
      const line = indicator.querySelector(".live-status")
      if (line !== null && line.dataset.words !== words) {
        line.dataset.words = words
        line.textContent = words
        if (status === "signed-out") {
          const link = document.createElement("a")
          link.href = `/login?next=${encodeURIComponent(location.pathname)}`
          link.target = "_blank"
          link.rel = "noopener"
          link.textContent = "Sign in again (new tab)"
          line.append(" ", link)
        }
      }
      const detail = indicator.querySelector(".live-since")
      if (detail !== null && detail.textContent !== since) detail.textContent = since
    }
  }

  // The title and the favicon say the global state, or UNKNOWN while it cannot be confirmed.
  const paintTab = () => {
    const badge = document.getElementById("breaker-badge")
    if (badge === null) return
    const word = displaysStale() ? "UNKNOWN" : (badge.dataset.state ?? "UNKNOWN")
    const title = document.querySelector("title")
    const base = title?.dataset.base
    if (base !== undefined && document.title !== `${word} · ${base}`) document.title = `${word} · ${base}`
    const icon = document.getElementById("favicon")
    const href = `/assets/favicon-${word.toLowerCase()}.svg`
    if (icon !== null && icon.getAttribute("href") !== href) icon.setAttribute("href", href)
  }

  const paint = () => {
    const live = displaysStale() ? "stale" : status
    if (root.dataset.live !== live) root.dataset.live = live
    paintIndicators()
    paintTab()
  }

  // Re-fetches every display once for a burst of events; while syncing, counts the requests so the
  // displays leave UNKNOWN only once each has re-read the state.
  let refreshTimer
  let inFlight = 0
  let refreshFailed = false
  const refresh = () => {
    clearTimeout(refreshTimer)
    refreshTimer = setTimeout(() => {
      refreshFailed = false
      document.body.dispatchEvent(new CustomEvent("breaker-changed"))
      // Nothing re-fetches (or htmx is missing): nothing to wait for.
      if (syncing && inFlight === 0) setTimeout(settleSync, 50)
    }, 25)
  }
  const settleSync = () => {
    if (!syncing || inFlight > 0) return
    if (refreshFailed) {
      setTimeout(refresh, 2000)
      return
    }
    syncing = false
    paint()
  }
  const isLiveRefresh = (ctx) => ctx?.sourceElement?.hasAttribute?.("data-live-refresh") === true
  document.addEventListener("htmx:before:request", (event) => {
    if (isLiveRefresh(event.detail?.ctx)) inFlight++
  })
  document.addEventListener("htmx:finally:request", (event) => {
    const ctx = event.detail?.ctx
    // Signed in again (in another tab) while the stream stayed open: re-read everything, then live.
    const answered = ctx?.response?.status
    if (status === "signed-out" && answered !== undefined && answered < 400 && source?.readyState === 1 /* EventSource.OPEN */) {
      status = "open"
      syncing = true
      paint()
      refresh()
    }
    if (!isLiveRefresh(ctx)) return
    inFlight = Math.max(0, inFlight - 1)
    if (ctx.response === undefined || ctx.response.status >= 400) refreshFailed = true
    if (inFlight === 0) settleSync()
  })

  const signedOut = () => {
    status = "signed-out"
    paint()
  }

  // After the stream closed for good (an HTTP error, not a dropped connection): is the sign-in over?
  const checkSignIn = () =>
    fetch("/breaker/badge", { headers: { "HX-Request": "true" }, redirect: "manual", cache: "no-store" })
      .then((response) => {
        if (response.status === 401 || response.type === "opaqueredirect") signedOut()
      })
      .catch(() => {})

  const fresh = () => {
    confirmedAt = Date.now()
    if (status === "stale" || status === "signed-out") syncing = true
    status = "open"
    paint()
    // Every (re)connection re-reads what the page shows: it covers what happened while away.
    refresh()
  }
  const changed = () => {
    confirmedAt = Date.now()
    refresh()
  }

  const connect = () => {
    clearTimeout(reconnectTimer)
    source?.close()
    source = new EventSource(stream)
    // The stream's first frame on every connection: `ready` or `reset` (the event stream), `snapshot` (the breaker's).
    for (const name of ["ready", "reset", "snapshot"]) source.addEventListener(name, fresh)
    for (const name of ["transition", "reset_requested", "scope_created"]) source.addEventListener(name, changed)
    source.addEventListener("error", () => {
      if (status === "open") {
        status = "reconnecting"
        confirmedAt = Date.now()
      }
      // The browser retries a dropped connection by itself (resuming with Last-Event-ID); after an
      // HTTP error it gives up, so this page tries again.
      if (source.readyState === EventSource.CLOSED) {
        checkSignIn()
        reconnectTimer = setTimeout(connect, 5000)
      }
      paint()
    })
  }

  const tick = () => {
    const now = Date.now()
    if (status === "open") confirmedAt = now
    else if ((status === "connecting" || status === "reconnecting") && now - confirmedAt > staleAfterMs)
      status = "stale"
    paint()
    tickClocks()
  }

  if (stream !== undefined && stream !== "") {
    if (typeof EventSource === "undefined") status = "unsupported"
    else connect()
    window.addEventListener("offline", () => {
      if (status === "open") {
        status = "reconnecting"
        confirmedAt = Date.now()
        paint()
      }
    })
    window.addEventListener("pagehide", () => source?.close())
    paint()
  }
  setInterval(stream === undefined ? tickClocks : tick, 500)
  tickClocks()

  // ---------------------------------------------------------------------------------------------
  // Forms.

  const isDocument = (text) => /^\s*<!doctype html/i.test(text ?? "")
  const parse = (text) => new DOMParser().parseFromString(text, "text/html")
  const tokenOf = (body) => {
    try {
      const token = JSON.parse(body?.getAttribute("hx-headers:inherited") ?? "null")?.["X-CSRF-Token"]
      return typeof token === "string" ? token : undefined
    } catch {
      return undefined
    }
  }
  const useToken = (token) => {
    document.body.setAttribute("hx-headers:inherited", JSON.stringify({ "X-CSRF-Token": token }))
    for (const input of document.querySelectorAll('input[name="_csrf"]')) input.value = token
  }

  /** Says why a form was not accepted, next to it, keeping everything typed in it. */
  const explain = (form, message, link) => {
    let box = form.querySelector('[data-field="client-error"]')
    if (box === null) {
      box = document.createElement("div")
      box.className = "form-error"
      box.setAttribute("role", "alert")
      box.dataset.field = "client-error"
      const button = form.querySelector('button[type="submit"], button:not([type])')
      if (button === null) form.append(box)
      else button.before(box)
    }
    const paragraph = document.createElement("p")
    paragraph.textContent = message
    if (link !== undefined) {
      const anchor = document.createElement("a")
      anchor.href = link.href
      anchor.target = "_blank"
      anchor.rel = "noopener"
      anchor.textContent = link.label
      paragraph.append(" ", anchor)
    }
    box.replaceChildren(paragraph)
  }

  // One automatic resend per form (and minute) with the renewed token.
  const resent = new WeakMap()

  document.addEventListener("htmx:after:request", (event) => {
    const ctx = event.detail?.ctx
    const status = ctx?.response?.status
    if (status === undefined || status < 400) return
    const method = (ctx.request?.method ?? "GET").toUpperCase()
    const element = ctx.sourceElement
    if (method === "GET") {
      // A live page whose sign-in ended (a display's refresh or a poll was refused): say so here,
      // with a link to sign in again, rather than leave the page — and a half-typed form — for the login.
      if (status === 401 && stream !== undefined) {
        event.preventDefault()
        signedOut()
      }
      return
    }
    const form = element instanceof HTMLFormElement ? element : element?.closest?.("form")
    if (form === null || form === undefined) return
    if (status === 401) {
      event.preventDefault()
      explain(
        form,
        "Your sign-in has ended, so this was not sent. Sign in again in a new tab — this page keeps what you typed — then send it again.",
        { href: `/login?next=${encodeURIComponent(location.pathname)}`, label: "Sign in again (new tab)" }
      )
      return
    }
    // A fragment (the form again, with the refusal next to it) is swapped as usual; an error page is not.
    if (!isDocument(ctx.text)) return
    event.preventDefault()
    const page = parse(ctx.text)
    const current = tokenOf(document.body)
    const renewed = tokenOf(page.body)
    const last = resent.get(form) ?? 0
    if (status === 403 && renewed !== undefined && renewed !== current && Date.now() - last > 60_000) {
      // The session was renewed since this page was loaded (a sign-in in another tab): the same
      // browser, the same user — send the form again with the current token.
      resent.set(form, Date.now())
      useToken(renewed)
      setTimeout(() => form.requestSubmit(), 0)
      return
    }
    const said = page.querySelector(".error-page p")?.textContent?.trim()
    explain(form, `Not sent (${status}): ${said === undefined || said === "" ? "the server refused it" : said}`)
  })

  // No answer at all (the server is down, the network gone): the form stays as typed and says so.
  document.addEventListener("htmx:error", (event) => {
    const ctx = event.detail?.ctx
    if (ctx?.response !== undefined || (ctx?.request?.method ?? "GET").toUpperCase() === "GET") return
    const element = ctx?.sourceElement
    const form = element instanceof HTMLFormElement ? element : element?.closest?.("form")
    if (form === null || form === undefined) return
    explain(
      form,
      "Not sent: the server did not answer. What you typed is kept: send it again, or use the API or the CLI (see the runbook) if the console stays unreachable."
    )
  })

  // After a form's answer is swapped in, bring its outcome into view and focus (a screen reader reads it).
  document.addEventListener("htmx:after:swap", (event) => {
    const ctx = event.detail?.ctx
    tickClocks()
    paintTab()
    if ((ctx?.request?.method ?? "GET").toUpperCase() === "GET") return
    const selector = ctx?.sourceElement?.getAttribute?.("hx-target")
    const target = selector ? document.querySelector(selector) : null
    const outcome = target?.querySelector('[role="alert"], [data-field="notice"]')
    if (outcome === null || outcome === undefined) return
    outcome.tabIndex = -1
    outcome.focus({ preventScroll: true })
    outcome.scrollIntoView({ block: "nearest" })
  })

  // Opening a folded trip (or new scope) form puts the cursor in its first field.
  document.addEventListener(
    "toggle",
    (event) => {
      const details = event.target
      if (!(details instanceof HTMLDetailsElement) || !details.open) return
      if (!details.matches(".breaker-trip-details, .breaker-create")) return
      details.querySelector("textarea, input:not([type=hidden])")?.focus()
    },
    true
  )
})()
