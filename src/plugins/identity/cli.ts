/**
 * `breakwater user add|passwd|role|disable|enable|list`: user management from the shell (the
 * first admin, a forgotten password, an emergency lock-out). Every change is audited with the
 * system actor `cli`. A generated password is printed once, alone on the last line.
 */
import { Console, Effect, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import { systemActor } from "../../core/audit/entry.ts"
import { generatePassword, NewPassword } from "../../core/auth/passwords.ts"
import { roles } from "../../core/auth/roles.ts"
import { Email, type User, Users } from "../../core/auth/users.ts"
import { checkedFlag } from "../../core/cli/checked-flag.ts"
import { BadRequest, Conflict, NotFound } from "../../core/errors/generic.ts"
import { CommandUsageError } from "../../core/run.ts"

const actor = systemActor("cli")

/** The user's mistakes (a bad value, an unknown or duplicate user): one line and exit 2. */
const toCliError = (error: unknown) =>
  error instanceof BadRequest || error instanceof NotFound || error instanceof Conflict
    ? new CommandUsageError({ message: error.message })
    : error

const withUsers = <A, E>(effect: Effect.Effect<A, E, Users>) => effect.pipe(Effect.mapError(toCliError))

/** The given password (checked against the policy) or a generated one, and whether it was generated. */
const passwordFrom = (given: Option.Option<Redacted.Redacted<string>>) =>
  Option.isSome(given)
    ? Effect.map(checkedFlag(NewPassword, "password", Redacted.value(given.value)), () => ({
        password: given.value,
        generated: false
      }))
    : Effect.succeed({ password: generatePassword(), generated: true })

const userByEmail = (email: string) =>
  Effect.gen(function* () {
    const found = yield* (yield* Users).findByEmail(email)
    if (Option.isNone(found)) return yield* new CommandUsageError({ message: `there is no user ${email}` })
    return found.value
  })

const printOnce = (email: string, password: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    yield* Console.log(`generated password for ${email} (shown only this once):`)
    yield* Console.log(Redacted.value(password))
  })

const describe = (u: User) => `${u.email} (${u.displayName}), role ${u.role}${u.disabled ? ", disabled" : ""}`

const emailFlag = Flag.String("email").pipe(Flag.withDescription("The user's email address."))
const roleFlag = Flag.Literals("role", roles).pipe(Flag.withDescription("viewer, operator or admin."))
const passwordFlag = Flag.Redacted("password").pipe(
  Flag.withDescription("At least 12 characters; omit it to have one generated and printed once."),
  Flag.optional
)

const add = Command.make(
  "add",
  {
    email: emailFlag,
    role: roleFlag,
    name: Flag.String("name").pipe(
      Flag.withDescription("Display name (default: the email's local part)."),
      Flag.optional
    ),
    password: passwordFlag
  },
  ({ email, role, name, password }) =>
    withUsers(
      Effect.gen(function* () {
        const address = yield* checkedFlag(Email, "email", email.trim())
        const chosen = yield* passwordFrom(password)
        const user = yield* (yield* Users).create(
          { email: address, role, displayName: Option.getOrUndefined(name), password: chosen.password },
          actor
        )
        yield* Console.log(`created ${describe(user)}`)
        if (chosen.generated) yield* printOnce(user.email, chosen.password)
      })
    )
).pipe(Command.withDescription("Add a user; without --password one is generated and printed once."))

const passwd = Command.make("passwd", { email: emailFlag, password: passwordFlag }, ({ email, password }) =>
  withUsers(
    Effect.gen(function* () {
      const user = yield* userByEmail(email)
      const chosen = yield* passwordFrom(password)
      yield* (yield* Users).setPassword(user.id, chosen.password, actor)
      yield* Console.log(`password of ${user.email} changed; their sessions were ended`)
      if (chosen.generated) yield* printOnce(user.email, chosen.password)
    })
  )
).pipe(Command.withDescription("Set a user's password (ends their sessions); without --password one is generated."))

const role = Command.make("role", { email: emailFlag, role: roleFlag }, ({ email, role }) =>
  withUsers(
    Effect.gen(function* () {
      const user = yield* userByEmail(email)
      const changed = yield* (yield* Users).setRole(user.id, role, actor)
      yield* Console.log(
        changed.role === user.role && user.role === role
          ? `${user.email} already has the role ${role}`
          : `${changed.email} is now ${changed.role}; their sessions were ended`
      )
    })
  )
).pipe(Command.withDescription("Change a user's role (ends their sessions)."))

const setDisabled = (name: "disable" | "enable", disabled: boolean, description: string) =>
  Command.make(name, { email: emailFlag }, ({ email }) =>
    withUsers(
      Effect.gen(function* () {
        const user = yield* userByEmail(email)
        yield* (yield* Users).setDisabled(user.id, disabled, actor)
        yield* Console.log(disabled ? `disabled ${user.email}; their sessions were ended` : `enabled ${user.email}`)
      })
    )
  ).pipe(Command.withDescription(description))

const list = Command.make("list", {}, () =>
  withUsers(
    Effect.gen(function* () {
      const users = yield* (yield* Users).list
      for (const u of users)
        yield* Console.log(
          `${describe(u)}, ${u.activeSessions} session(s), last seen ${u.lastSeenAt?.toISOString() ?? "never"}`
        )
    })
  )
).pipe(Command.withDescription("List users with role, state and last session activity."))

export const userCommand = Command.make("user").pipe(
  Command.withDescription("Users: add, passwd, role, disable, enable, list."),
  Command.withSubcommands([
    add,
    passwd,
    role,
    setDisabled("disable", true, "Disable a user at once (ends their sessions)."),
    setDisabled("enable", false, "Enable a disabled user."),
    list
  ])
)
