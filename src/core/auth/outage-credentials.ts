/**
 * Credentials recently verified against the database, remembered so that an operator who was
 * signed in a moment ago can still trip the breaker while the database is unreachable. Used only
 * when the database cannot be asked: a credential it rejects is forgotten at once, and nothing can
 * be revoked while it is down. Keys are SHA-256 hashes of the credential, never the credential.
 */
import { hash } from "node:crypto"
import type { Principal } from "./access.ts"

/** How old a verification may be and still stand in for the database during an outage. */
export const OUTAGE_GRACE_MS = 10 * 60_000
const MAX_ENTRIES = 10_000

export interface OutageCredentials {
  readonly remember: (credential: string, principal: Principal, now: number) => void
  readonly forget: (credential: string) => void
  /** The principal verified for this credential within the grace period, if any. */
  readonly recall: (credential: string, now: number) => Principal | undefined
}

export const makeOutageCredentials = (graceMs = OUTAGE_GRACE_MS): OutageCredentials => {
  const verified = new Map<string, { readonly principal: Principal; readonly at: number }>()
  const keyOf = (credential: string) => hash("sha256", credential, "base64url")
  return {
    remember: (credential, principal, now) => {
      const key = keyOf(credential)
      // Runs on every authenticated request: refresh at most once a second per credential.
      const seen = verified.get(key)
      if (seen !== undefined && seen.principal.id === principal.id && now - seen.at < 1_000) return
      // Re-inserting moves the entry to the end: the map stays ordered oldest first.
      verified.delete(key)
      verified.set(key, { principal, at: now })
      if (verified.size > MAX_ENTRIES) {
        const oldest = verified.keys().next()
        if (oldest.done !== true) verified.delete(oldest.value)
      }
    },
    forget: (credential) => void verified.delete(keyOf(credential)),
    recall: (credential, now) => {
      const entry = verified.get(keyOf(credential))
      return entry !== undefined && now - entry.at <= graceMs ? entry.principal : undefined
    }
  }
}
