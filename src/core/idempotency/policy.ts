/**
 * The rules of idempotency keys as pure functions: which requests they apply to, what a valid key
 * is, whose key it is, what identifies "the same request", and which answers are kept. The reasons
 * are in docs/CONCEPTS/idempotency.md; the HTTP hook is `core/http/idempotency.ts`.
 */
import { createHash } from "node:crypto"
import type { Principal } from "../auth/access.ts"

/** The request header (draft-ietf-httpapi-idempotency-key-header), lower case as Node gives it. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key"
/** Set to `true` on an answer that is a stored one, replayed. */
export const REPLAYED_HEADER = "idempotent-replayed"
export const MAX_KEY_LENGTH = 255
/** Visible ASCII: no spaces, no control characters, nothing a log line or a header could mangle. */
const KEY = /^[!-~]+$/

/** How long a duplicate waits for the first request of its key to finish before a 409. */
export const DEFAULT_WAIT_MILLIS = 10_000
/**
 * How long a claim holds without being renewed; the executing process renews it every third of
 * this, so only a dead process's claim runs out and can be taken over by a retry.
 */
export const DEFAULT_LEASE_MILLIS = 30_000

/** Every `POST` of the JSON API, and nothing else (other methods are idempotent by definition). */
export const appliesTo = (method: string, path: string): boolean => method === "POST" && path.startsWith("/api/v1/")

export type ParsedKey =
  | { readonly _tag: "Key"; readonly key: string }
  | { readonly _tag: "Invalid"; readonly problem: string }

/**
 * A key as sent: bare (`abc-123`, as Stripe takes it) or as the draft's structured-field string
 * (`"abc-123"`). Either way 1 to 255 visible ASCII characters, without `"` or `\` inside quotes.
 */
export const parseKey = (raw: string): ParsedKey => {
  const quoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')
  const key = quoted ? raw.slice(1, -1) : raw
  if (key.length === 0) return { _tag: "Invalid", problem: "must not be empty" }
  if (key.length > MAX_KEY_LENGTH) return { _tag: "Invalid", problem: `must be at most ${MAX_KEY_LENGTH} characters` }
  if (!KEY.test(key))
    return { _tag: "Invalid", problem: "must be visible ASCII characters only (no spaces or control characters)" }
  if (quoted && /["\\]/.test(key)) return { _tag: "Invalid", problem: 'a quoted key must not contain " or \\' }
  return { _tag: "Key", key }
}

/**
 * Whose keys these are: the API key or the user (through any of their sessions). An anonymous
 * caller has no scope to keep a key in, so its header is ignored.
 */
export const callerScope = (principal: Principal): string | undefined =>
  principal.kind === "anonymous" ? undefined : `${principal.kind}:${principal.id}`

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")

/** "The same request": the method, the path with its query, and the SHA-256 of the raw body. */
export const fingerprintOf = (method: string, url: string, body: Uint8Array): string =>
  sha256(`${method}\n${url}\n${sha256(body)}`)

/**
 * Answers that say the request did not act, or that a retry may get another answer, are not kept:
 * the claim is released and a retry with the key executes. 5xx: a bug or an outage, and every
 * change runs in one transaction, so nothing was done; 400: the body was refused before anything
 * ran (Stripe keeps no result for a request that failed validation, so a corrected body may reuse
 * the key); 401/403: credentials or re-authentication, which the caller may fix; 408/413: the
 * request was not read; 429: a limit that passes. Everything else (2xx, 3xx, 404, 409, 422…) is
 * the request's outcome and is replayed.
 */
export const isKeptStatus = (status: number): boolean =>
  status < 500 &&
  status !== 400 &&
  status !== 401 &&
  status !== 403 &&
  status !== 408 &&
  status !== 413 &&
  status !== 429

/** The headers of an answer worth replaying; the pipeline adds the rest to every answer. */
export const REPLAYED_HEADERS: ReadonlyArray<string> = ["content-type", "location", "retry-after"]

/** An answer its handler marked `no-store` carries a secret (a new API key): its body is never kept. */
export const carriesSecret = (cacheControl: string | undefined): boolean =>
  cacheControl !== undefined && /(^|[\s,])no-store($|[\s,])/i.test(cacheControl)
