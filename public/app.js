// Marks the document once htmx has loaded, so browser tests (and people) can tell the console is live.
document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.dataset.htmx = typeof window.htmx === "undefined" ? "missing" : "ready"
})
