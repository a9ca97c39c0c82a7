// The Diagnostics page (src/plugins/diagnostics/page.ts). Without this script the forms work the
// same (the browser waits, then downloads the file); with it, the page says what is happening:
// a capture answers only when it is done, after the profile's seconds or once the snapshot is written.
;(() => {
  for (const form of document.querySelectorAll("form[data-capture]")) {
    const status = form.querySelector("[data-capture-status]")
    const button = form.querySelector('button[type="submit"]')
    if (status === null || button === null) continue
    form.addEventListener("submit", () => {
      const seconds = Number(form.querySelector('input[name="seconds"]')?.value ?? "0")
      const cpu = form.dataset.capture === "cpu"
      let left = cpu && Number.isFinite(seconds) ? Math.round(seconds) : 0
      const show = () => {
        status.textContent = cpu
          ? left > 0
            ? `Profiling: ${left} s left. The download starts when it ends.`
            : "Finishing the profile: the download starts in a moment."
          : "Writing the heap snapshot: the download starts when it is written."
      }
      show()
      // Disabled after the submit event, so the form is still sent; enabled again in case the
      // answer is a download (the page stays) rather than a new page.
      setTimeout(() => {
        button.disabled = true
      }, 0)
      const timer = setInterval(() => {
        left = Math.max(0, left - 1)
        show()
      }, 1000)
      setTimeout(
        () => {
          clearInterval(timer)
          button.disabled = false
          status.textContent = "Done: check your downloads (or capture again)."
        },
        (cpu ? left + 3 : 5) * 1000
      )
    })
  }
})()
