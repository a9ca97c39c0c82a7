// The API keys page (src/plugins/api-keys/page.ts), made quicker with JavaScript; without it the
// page works the same (the key is selectable text, a preset is granted by the server).
// - The one-time key gets a Copy button (a real <button>: Enter and Space work), with a spoken
//   confirmation; where the clipboard is not available the key is selected for Ctrl+C instead.
// - Choosing a preset ticks exactly its permissions, so what the key will hold is what is ticked;
//   changing a tick afterwards switches back to "Custom", so the form never grants more than shown.
;(() => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const secret = document.getElementById(button.dataset.copy ?? "")
    const status = document.getElementById(button.dataset.copyStatus ?? "")
    if (secret === null) continue
    const say = (text) => {
      if (status === null) return
      status.textContent = ""
      const small = document.createElement("small")
      small.textContent = text
      status.append(small)
    }
    const select = () => {
      const range = document.createRange()
      range.selectNodeContents(secret)
      const selection = window.getSelection()
      selection?.removeAllRanges()
      selection?.addRange(range)
    }
    button.hidden = false
    say("Copy the key now, or select it (a click selects all of it).")
    button.addEventListener("click", async () => {
      const text = (secret.textContent ?? "").trim()
      try {
        if (navigator.clipboard === undefined) throw new Error("no clipboard")
        await navigator.clipboard.writeText(text)
        button.textContent = "Copied"
        say("Copied to the clipboard. Store it now: it is not shown again.")
      } catch {
        select()
        say("The browser did not allow copying: the key is selected, press Ctrl+C (⌘C on a Mac).")
      }
    })
  }

  const form = document.getElementById("create-api-key")
  if (form === null) return
  const radios = [...form.querySelectorAll('input[type="radio"][data-preset]')]
  const boxes = [...form.querySelectorAll('input[type="checkbox"][name="scopes"]')]
  if (radios.length === 0) return
  const hint = form.querySelector("[data-hint-nojs] small")
  if (hint !== null) hint.textContent = "A preset ticks its permissions below; review them before you create the key."
  const custom = radios.find((r) => r.dataset.preset === "")
  const permissionsOf = (radio) => new Set((radio.dataset.permissions ?? "").split(" ").filter((p) => p !== ""))
  for (const radio of radios) {
    radio.addEventListener("change", () => {
      if (!radio.checked || radio === custom) return
      const wanted = permissionsOf(radio)
      for (const box of boxes) box.checked = wanted.has(box.value)
    })
  }
  // A preset posted with a refused form is granted with the ticks: show them ticked.
  const posted = radios.find((r) => r.checked && r !== custom)
  if (posted !== undefined) for (const box of boxes) if (permissionsOf(posted).has(box.value)) box.checked = true
  for (const box of boxes) {
    box.addEventListener("change", () => {
      const chosen = radios.find((r) => r.checked && r !== custom)
      if (chosen === undefined) return
      const wanted = permissionsOf(chosen)
      const same = boxes.every((b) => b.checked === wanted.has(b.value))
      if (!same && custom !== undefined) custom.checked = true
    })
  }
})()
