// The Circuit Breaker page's own script. Its live updates, the staleness rule (UNKNOWN — treat as
// halted), the countdowns and the form handling are public/app.js's, on every page; this adds what
// only this page needs: a new scope's name is written in lower case as it is typed (scope names
// are lower case), so a capital letter is not a refusal.
;(() => {
  document.addEventListener("input", (event) => {
    const input = event.target
    if (!(input instanceof HTMLInputElement) || input.id !== "create-scope-name") return
    const lower = input.value.toLowerCase()
    if (lower !== input.value) {
      const at = input.selectionStart
      input.value = lower
      if (at !== null) input.setSelectionRange(at, at)
    }
  })
})()
