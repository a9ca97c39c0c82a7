/**
 * The headers every answer carries, whatever path produced it (routes, error pages, the fast
 * lane). The console loads scripts and styles only from this origin: htmx is configured to need no
 * eval and the pages carry no inline script or style, so the policy can be strict. `data:` images
 * are Pico's form icons.
 */

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join("; ")

/** Sent on every answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin"
}

/** An answer to a signed-in user or an API key is theirs alone: never kept by a browser or a proxy. */
export const PRIVATE_CACHE_CONTROL = "no-store"
