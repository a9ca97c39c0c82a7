/**
 * The seam for bearer credentials. AccessControl hands every `Authorization: Bearer …` token to
 * this service; the API keys feature provides the real implementation (prefix lookup, hash check,
 * scopes, expiry, revocation, last use, a short-lived cache of verified keys):
 * `ApiKeyAuthenticatorLive` in `api-keys.ts`.
 */
import { Context, type Effect, type Redacted } from "effect"
import type { ServiceUnavailable } from "../errors/generic.ts"
import type { Principal } from "./access.ts"

export interface ApiKeyAuthenticatorShape {
  /**
   * The principal (`kind: "api_key"`, its permissions from its scopes) of a valid, unexpired,
   * unrevoked key; `undefined` for anything else. Fails only when it cannot tell (database down).
   */
  readonly authenticate: (token: Redacted.Redacted<string>) => Effect.Effect<Principal | undefined, ServiceUnavailable>
  /**
   * Like `authenticate`, but always asks the database (the cache of verified keys is refreshed,
   * not read): for long-lived answers such as event streams, which must end soon after a revocation
   * made by another replica too.
   */
  readonly authenticateFresh: (
    token: Redacted.Redacted<string>
  ) => Effect.Effect<Principal | undefined, ServiceUnavailable>
  /**
   * Forgets every key verified so far, so the next use asks the database again. Called after a
   * change that takes rights from a key (revocation, the owner's role or enabled state).
   */
  readonly forgetVerified: Effect.Effect<void>
  /**
   * For the HTTP fast lane: the key's principal if this process verified it within the cache
   * period (and its use needs no recording now), else `undefined` and the request takes the
   * normal path. Never asks the database.
   */
  readonly verifiedUnsafe: (token: string, now: number) => Principal | undefined
}

export class ApiKeyAuthenticator extends Context.Service<ApiKeyAuthenticator, ApiKeyAuthenticatorShape>()(
  "breakwater/ApiKeyAuthenticator"
) {}
