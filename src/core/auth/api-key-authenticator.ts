/**
 * The seam for bearer credentials. AccessControl hands every `Authorization: Bearer …` token to
 * this service; the API keys feature provides the real implementation (prefix lookup, hash check,
 * scopes, expiry, revocation, last use): `ApiKeyAuthenticatorLive` in `api-keys.ts`.
 */
import { Context, type Effect, type Redacted } from "effect"
import type { ServiceUnavailable } from "../http/errors.ts"
import type { Principal } from "./access.ts"

export interface ApiKeyAuthenticatorShape {
  /**
   * The principal (`kind: "api_key"`, its permissions from its scopes) of a valid, unexpired,
   * unrevoked key; `undefined` for anything else. Fails only when it cannot tell (database down).
   */
  readonly authenticate: (token: Redacted.Redacted<string>) => Effect.Effect<Principal | undefined, ServiceUnavailable>
}

export class ApiKeyAuthenticator extends Context.Service<ApiKeyAuthenticator, ApiKeyAuthenticatorShape>()(
  "breakwater/ApiKeyAuthenticator"
) {}
