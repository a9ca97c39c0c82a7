/**
 * User management under `/admin/users` (`MANAGE_USERS`): the page, adding a user with a generated
 * password shown once, changing a role, disabling and enabling, ending sessions and setting a new
 * generated password. Every change goes through the Users service, which audits it in the same
 * transaction and ends the user's sessions where rights are taken away, and every change needs a
 * recent password: a stolen session must not be able to lock out, promote or add anyone.
 *
 * A refusal a person can act on (the last administrator, a password needed, an email taken, a
 * field wrong) comes back as the page with the reason next to the user's row or the form's field,
 * with the answer's status (409, 403, 400); clients that ask for JSON get the standard error body.
 */
import { Clock, Effect, Redacted, Result, Schema } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import type { SqlError } from "effect/sql"
import { actorOf } from "../../core/audit/entry.ts"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import { generatePassword } from "../../core/auth/passwords.ts"
import { Permissions } from "../../core/auth/permissions.ts"
import { REAUTH_WINDOW_MINUTES, ReauthenticationRequired, requireRecentAuthentication } from "../../core/auth/reauth.ts"
import { Role, roles } from "../../core/auth/roles.ts"
import { DisplayName, Email, type User, Users } from "../../core/auth/users.ts"
import { badRequestFrom, Conflict, issuesOf, type NotFound } from "../../core/errors/generic.ts"
import { decodeForm, decodePath, decodeQuery } from "../../core/http/decode.ts"
import { wantsJson } from "../../core/http/negotiation.ts"
import { page } from "../../core/http/page.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import type { CoreServices } from "../../core/module.ts"
import {
  type AddUserField,
  type AddUserState,
  type GeneratedPassword,
  type UserNotice,
  userNotices,
  usersPage
} from "./users-page.ts"

const UserPath = Schema.Struct({ id: Schema.String.check(Schema.isUUID()) })
const UsersQuery = Schema.Struct({
  notice: Schema.optional(Schema.Literals(Object.keys(userNotices) as ReadonlyArray<UserNotice>)),
  reauth: Schema.optional(Schema.Literal("wrong"))
})
const Password = Schema.optional(Schema.String.check(Schema.isMaxLength(256)))
const RoleField = Role.annotate({ message: `must be one of ${roles.join(", ")}` })
const RoleForm = Schema.Struct({ role: RoleField, password: Password })
const ActionForm = Schema.Struct({ password: Password })

/** The add form as sent, bounded, only to show it again; {@link AddForm} decides what is valid. */
const Typed = Schema.optionalKey(Schema.String.check(Schema.isMaxLength(2_000)))
const RawAddForm = Schema.Struct({ email: Typed, name: Typed, role: Typed, password: Typed })
const AddForm = Schema.Struct({ email: Email, name: DisplayName, role: RoleField, password: Password })

interface RenderOptions {
  readonly notice?: UserNotice | undefined
  readonly reauthWrong?: boolean
  readonly add?: AddUserState
  readonly generated?: GeneratedPassword
  readonly refusal?: { readonly userId: string; readonly message: string }
}

/** The users page for the current principal, with what this request has to say on it. */
const renderUsers = (options: RenderOptions, status = 200) =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    const list = yield* (yield* Users).list
    const declared = (yield* Permissions).all()
    const now = yield* Clock.currentTimeMillis
    const authenticatedAt = principal.session?.authenticatedAt.getTime() ?? now
    return yield* page(
      "Users",
      usersPage({
        users: list,
        roles,
        rolePermissions: roles.map((role) => ({
          role,
          permissions: declared
            .filter((p) => p.roles.some((r) => r === role))
            .map((p) => ({ name: p.name, description: p.description }))
        })),
        notice: options.notice,
        csrfToken: principal.session?.csrfToken ?? "",
        currentUserId: principal.id,
        passwordNeeded: now - authenticatedAt >= REAUTH_WINDOW_MINUTES * 60_000,
        reauthWrong: options.reauthWrong ?? false,
        add: options.add,
        generated: options.generated,
        refusal: options.refusal
      }),
      { status }
    )
  })

/** A browser gets the page `render` makes; a JSON client the error itself (its standard answer). */
const pageOrError = <E, E2, R>(
  error: E,
  render: Effect.Effect<HttpServerResponse.HttpServerResponse, E2, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E | E2, R | HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(
    HttpServerRequest.HttpServerRequest,
    (request): Effect.Effect<HttpServerResponse.HttpServerResponse, E | E2, R> =>
      wantsJson(request) ? Effect.fail(error) : render
  )

/** A refusal a person can act on: the last administrator (409), a password needed or wrong (403). */
const actionable = (error: unknown): error is Conflict | ReauthenticationRequired =>
  error instanceof Conflict || error instanceof ReauthenticationRequired

/** Actionable refusals are said in the user's row; anything else takes the standard answer. */
const refusedInRow =
  (userId: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.catch(effect, (error) =>
      Effect.gen(function* () {
        if (!actionable(error)) return yield* Effect.fail(error)
        const status = error instanceof Conflict ? 409 : 403
        return yield* pageOrError(error, renderUsers({ refusal: { userId, message: error.message } }, status))
      })
    )

const backToUsers = (notice: UserNotice) =>
  HttpServerResponse.redirect(`/admin/users?notice=${notice}`, { status: 303 })

const generated = (kind: GeneratedPassword["kind"], user: User, password: Redacted.Redacted<string>) => ({
  kind,
  email: user.email,
  displayName: user.displayName,
  role: user.role,
  password: Redacted.value(password)
})

/** A one-click change to the user named in the path, audited as the current principal. */
const userAction = (
  action: "disable" | "enable" | "end-sessions",
  summary: string,
  run: (
    users: Users["Service"],
    id: string,
    principal: CurrentPrincipal["Service"]
  ) => Effect.Effect<unknown, SqlError.SqlError | NotFound | Conflict>,
  notice: UserNotice
): RouteSpec<CoreServices> => ({
  method: "POST",
  path: `/admin/users/:id/${action}`,
  access: "MANAGE_USERS",
  summary,
  handler: Effect.gen(function* () {
    const { id } = yield* decodePath(UserPath)
    const form = yield* decodeForm(ActionForm)
    return yield* Effect.gen(function* () {
      yield* requireRecentAuthentication(form.password)
      yield* run(yield* Users, id, yield* CurrentPrincipal)
      return backToUsers(notice)
    }).pipe(refusedInRow(id))
  })
})

/** The add form's problems by field, from a schema failure. */
const fieldErrors = (error: Schema.SchemaError): Partial<Record<AddUserField, string>> => {
  const errors: Partial<Record<AddUserField, string>> = {}
  for (const issue of issuesOf(error)) {
    const field = issue.path.split(".")[0]
    if (field === "email" || field === "name" || field === "role" || field === "password")
      errors[field] ??= issue.message
  }
  return errors
}

const addUser: RouteSpec<CoreServices> = {
  method: "POST",
  path: "/admin/users",
  access: "MANAGE_USERS",
  summary:
    "Adds a user (email, name, role) with a generated password shown once on the page that answers (201); needs a recent password.",
  handler: Effect.gen(function* () {
    const raw = yield* decodeForm(RawAddForm)
    const values = { email: raw.email ?? "", name: raw.name ?? "", role: raw.role ?? "viewer" }
    const kept = (errors: AddUserState["errors"]) => ({ add: { values, errors } })
    const decoded = Schema.decodeUnknownResult(AddForm)(raw, { errors: "all" })
    if (Result.isFailure(decoded))
      return yield* pageOrError(badRequestFrom(decoded.failure), renderUsers(kept(fieldErrors(decoded.failure)), 400))
    const form = decoded.success
    return yield* Effect.gen(function* () {
      yield* requireRecentAuthentication(form.password)
      const password = generatePassword()
      const user = yield* (yield* Users).create(
        { email: form.email, displayName: form.name, role: form.role, password },
        actorOf(yield* CurrentPrincipal)
      )
      return yield* renderUsers({ generated: generated("new-user", user, password) }, 201)
    }).pipe(
      Effect.catchTags({
        Conflict: (e) => pageOrError(e, renderUsers(kept({ email: e.message }), 409)),
        ReauthenticationRequired: (e) => pageOrError(e, renderUsers(kept({ password: e.message }), 403))
      })
    )
  })
}

export const userRoutes: ReadonlyArray<RouteSpec<CoreServices>> = [
  {
    method: "GET",
    path: "/admin/users",
    access: "MANAGE_USERS",
    summary: "Users: roles, state and last activity, with the forms to add users and change them.",
    handler: Effect.gen(function* () {
      const { notice, reauth } = yield* decodeQuery(UsersQuery)
      return yield* renderUsers({ notice, reauthWrong: reauth === "wrong" })
    })
  },
  addUser,
  {
    method: "POST",
    path: "/admin/users/:id/role",
    access: "MANAGE_USERS",
    summary: "Changes a user's role (needs a recent password); ends the user's sessions.",
    handler: Effect.gen(function* () {
      const { id } = yield* decodePath(UserPath)
      const form = yield* decodeForm(RoleForm)
      return yield* Effect.gen(function* () {
        yield* requireRecentAuthentication(form.password)
        yield* (yield* Users).setRole(id, form.role, actorOf(yield* CurrentPrincipal))
        return backToUsers("role_changed")
      }).pipe(refusedInRow(id))
    })
  },
  {
    method: "POST",
    path: "/admin/users/:id/password",
    access: "MANAGE_USERS",
    summary:
      "Replaces a user's password with a generated one shown once on the page that answers; ends their sessions; needs a recent password.",
    handler: Effect.gen(function* () {
      const { id } = yield* decodePath(UserPath)
      const form = yield* decodeForm(ActionForm)
      return yield* Effect.gen(function* () {
        yield* requireRecentAuthentication(form.password)
        const password = generatePassword()
        const user = yield* (yield* Users).setPassword(id, password, actorOf(yield* CurrentPrincipal))
        return yield* renderUsers({ generated: generated("new-password", user, password) })
      }).pipe(refusedInRow(id))
    })
  },
  userAction(
    "disable",
    "Disables a user and ends their sessions.",
    (users, id, principal) => users.setDisabled(id, true, actorOf(principal)),
    "disabled"
  ),
  userAction(
    "enable",
    "Enables a disabled user.",
    (users, id, principal) => users.setDisabled(id, false, actorOf(principal)),
    "enabled"
  ),
  userAction(
    "end-sessions",
    "Ends every session of a user at once.",
    (users, id, principal) => users.endSessions(id, actorOf(principal)),
    "sessions_ended"
  )
]
