// The Audit Log page (src/plugins/audit-log/page.ts) in the viewer's time zone. Without this script
// the page shows and reads UTC, and says so.
// - Each <time datetime data-local> is rewritten in the viewer's zone; its title keeps UTC.
// - The filter form's hidden `tz` field gets the viewer's zone, so the date-time pickers are read
//   in it; a zone already in the address (a shared link) is kept, and the pickers stay in it.
;(() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
  const pad = (n, width = 2) => String(n).padStart(width, "0")
  const zoneName = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" })
  // As the UTC text is written (2026-11-28 09:30:00 UTC), on the viewer's clock: 2026-11-28 10:30:00 GMT+1.
  const local = (at) =>
    `${pad(at.getFullYear(), 4)}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())} ${
      zoneName.formatToParts(at).find((p) => p.type === "timeZoneName")?.value ?? ""
    }`.trim()
  for (const element of document.querySelectorAll("time[data-local]")) {
    const at = new Date(element.getAttribute("datetime") ?? "")
    if (Number.isNaN(at.getTime())) continue
    element.textContent = local(at)
  }
  const field = document.querySelector("input[data-tz]")
  const hint = document.querySelector("[data-tz-hint]")
  if (field === null || typeof zone !== "string" || zone === "") return
  // A picker's value read as UTC, written as the same instant on the viewer's clock.
  const fromUtc = (value) => {
    const at = new Date(`${value}Z`)
    if (value === "" || Number.isNaN(at.getTime())) return value
    const base = `${pad(at.getFullYear(), 4)}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`
    return at.getSeconds() === 0 ? base : `${base}:${pad(at.getSeconds())}`
  }
  if (field.value === "") {
    // The pickers show UTC so far: move them to the viewer's clock with the zone.
    for (const picker of field.form?.querySelectorAll('input[type="datetime-local"]') ?? []) {
      picker.value = fromUtc(picker.value)
    }
    field.value = zone
    if (hint !== null) hint.textContent = `Times are in your time zone (${zone}); hover over a time for UTC.`
  } else if (hint !== null && field.value === zone) {
    hint.textContent = `Times are in your time zone (${zone}); hover over a time for UTC.`
  }
})()
