/**
 * Where a redirect after sign-in may go: only a path on this site. Anything that a browser could
 * read as another host (`//evil`, `/\evil`, `http://evil`) is refused, so `?next=` cannot be used
 * as an open redirect. The path comes back percent-encoded (pure ASCII), so it is always a valid
 * `Location` header: `/Ā` would otherwise make Node refuse the header and the answer fail.
 */
const BASE = "http://breakwater.invalid"

export const safeNextPath = (value: string | undefined): string | undefined => {
  if (value === undefined || value.length === 0 || value.length > 2048) return undefined
  if (!value.startsWith("/") || value.startsWith("//")) return undefined
  // Browsers treat a backslash like a slash; control characters have no business in a path.
  if (value.includes("\\") || [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return undefined
  if (!value.isWellFormed()) return undefined
  let url: URL
  try {
    url = new URL(value, BASE)
  } catch {
    return undefined
  }
  if (url.origin !== BASE) return undefined
  return `${url.pathname}${url.search}`
}
