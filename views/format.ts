/** Small formatting helpers shared by views. */

export const formatDuration = (seconds: number): string => {
  const s = Math.max(0, Math.floor(seconds))
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const parts = [d > 0 ? `${d}d` : "", h > 0 ? `${h}h` : "", m > 0 ? `${m}m` : "", `${s % 60}s`]
  return parts.filter((p) => p !== "").join(" ")
}

export const formatTimestamp = (date: Date | number | undefined): string =>
  date === undefined
    ? "never"
    : new Date(date)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC")

export const formatBytes = (bytes: number): string => {
  const units = ["B", "KiB", "MiB", "GiB"]
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`
}
