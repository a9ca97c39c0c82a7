/**
 * Long-lived answers (event streams) check their caller again while they run: a request is
 * authorized once, but a stream may stay open for hours, through a revoked key, a sign-out, a
 * disabled user or a removed permission. {@link credentialEnds} asks the stores (through
 * `AccessControl.recheck`, which shares one query a second per credential) every
 * {@link CREDENTIAL_RECHECK} and completes once the credential no longer grants what the stream
 * shows; race the stream's end against it. While the database cannot be asked, the credential
 * stands, as for every request during an outage.
 */
import { Effect } from "effect"
import type { HttpServerRequest } from "effect/http"
import type { AccessControlShape, Principal } from "../auth/access.ts"
import type { Permission } from "../auth/permissions.ts"

/** How often an open stream's credential is checked again (a stream ends within ~2 of these). */
export const CREDENTIAL_RECHECK = "2 seconds"

/** Whether a principal still holds every one of `permissions`. */
export const holdsAll =
  (permissions: Iterable<Permission>) =>
  (principal: Principal): boolean => {
    for (const permission of permissions) if (!principal.permissions.has(permission)) return false
    return true
  }

/** Completes once the request's credential is gone or no longer satisfies `allowed`. */
export const credentialEnds = (
  access: AccessControlShape,
  request: HttpServerRequest.HttpServerRequest,
  allowed: (principal: Principal) => boolean
): Effect.Effect<void> =>
  access.recheck(request).pipe(
    Effect.map((principal) => principal !== undefined && allowed(principal)),
    Effect.catchTag("ServiceUnavailable", () => Effect.succeed(true)),
    Effect.delay(CREDENTIAL_RECHECK),
    Effect.repeat({ while: (still) => still }),
    Effect.asVoid
  )
