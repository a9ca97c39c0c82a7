/**
 * Identity and access as one layer: users, sessions, sign-in and the access control every route
 * goes through. Bearer tokens are resolved by whichever {@link ApiKeyAuthenticator} the
 * application provides.
 */
import { Layer } from "effect"
import { AccessControlLive } from "./access-control.ts"
import { Login } from "./login.ts"
import { Sessions } from "./sessions.ts"
import { Users } from "./users.ts"

export const IdentityLive = Layer.mergeAll(AccessControlLive, Login.layer).pipe(
  Layer.provideMerge(Layer.mergeAll(Users.layer, Sessions.layer))
)
