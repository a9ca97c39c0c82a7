/**
 * CSRF decisions, as pure functions. Two layers (OWASP, ASVS 5.0): a state-changing request that
 * a browser marks as cross-site (`Sec-Fetch-Site`) or whose `Origin` is not this host is refused
 * outright, whoever sends it; and a cookie session must echo its per-session token (header or form
 * field), compared in constant time.
 */
import { timingSafeEqual } from "node:crypto"

/** The header htmx sends (set on `<body>` with `hx-headers:inherited`). */
export const CSRF_HEADER = "x-csrf-token"
/** The hidden field of plain HTML forms. */
export const CSRF_FIELD = "_csrf"

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"])

export const isStateChanging = (method: string): boolean => STATE_CHANGING.has(method.toUpperCase())

export interface OriginHeaders {
  readonly origin?: string | undefined
  readonly host?: string | undefined
  readonly "sec-fetch-site"?: string | undefined
}

/**
 * Why a request is cross-site, or undefined if nothing says it is. A request without `Origin`
 * and `Sec-Fetch-Site` (curl, an API client) passes this check; sessions still need the token.
 */
export const crossSiteReason = (headers: OriginHeaders): string | undefined => {
  if (headers["sec-fetch-site"]?.toLowerCase() === "cross-site") return "the browser marked the request cross-site"
  const origin = headers.origin
  if (origin === undefined) return undefined
  // "null" is an opaque origin (sandboxed frame, some redirects): nothing to trust.
  if (origin === "null") return "the request's origin is opaque"
  let originUrl: URL
  try {
    originUrl = new URL(origin)
  } catch {
    return "the Origin header is malformed"
  }
  const host = headers.host
  if (host === undefined || host === "") return "the request names no host to compare its origin with"
  let hostUrl: URL
  try {
    // Parsed with the origin's scheme so default ports compare equal (a:443 and https://a).
    hostUrl = new URL(`${originUrl.protocol}//${host}`)
  } catch {
    return "the Host header is malformed"
  }
  return originUrl.host === hostUrl.host ? undefined : `origin ${originUrl.origin} is not this host (${hostUrl.host})`
}

/** Constant-time comparison of the token a request carries with the session's. */
export const tokensMatch = (given: string | undefined, expected: string): boolean => {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
