/**
 * Identity and access as one layer: users, sessions, sign-in and the access control every route
 * goes through. Bearer tokens are resolved by whichever {@link ApiKeyAuthenticator} the
 * application provides.
 */
import { Effect, Layer } from "effect"
import { AccessControlLive } from "./access-control.ts"
import { ApiKeyAuthenticator } from "./api-key-authenticator.ts"
import { Login } from "./login.ts"
import { Sessions } from "./sessions.ts"
import { Users } from "./users.ts"

/**
 * Users whose role or enabled state changes make this process forget the API keys it verified:
 * a key acts within its owner's rights, so the owner's change holds for the key from the next request.
 */
const UsersLive = Layer.effect(
  Users,
  Effect.gen(function* () {
    const users = yield* Users
    const keys = yield* ApiKeyAuthenticator
    return Users.of({
      ...users,
      setRole: (id, role, actor) => Effect.tap(users.setRole(id, role, actor), () => keys.forgetVerified),
      setDisabled: (id, disabled, actor) =>
        Effect.tap(users.setDisabled(id, disabled, actor), () => keys.forgetVerified)
    })
  })
).pipe(Layer.provide(Users.layer))

export const IdentityLive = Layer.mergeAll(AccessControlLive, Login.layer).pipe(
  Layer.provideMerge(Layer.mergeAll(UsersLive, Sessions.layer))
)
