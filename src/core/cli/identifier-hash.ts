/**
 * `breakwater audit identifier-hash`: prints the `identifierHash` under which a sign-in with this
 * value as its identifier is audited, so an administrator can check whether a suspected value (a
 * colleague's password typed into the email field, say) was tried. The value is read from a masked
 * prompt, or from standard input when that is not a terminal, never from the command line, which
 * would keep it in the shell history and show it in the process list.
 */
import { Console, Effect, Redacted } from "effect"
import { Command } from "effect/cli"
import { identifierHash, loadIdentifierKey } from "../auth/identifier-hash.ts"
import { CommandInput } from "./command-input.ts"

export const identifierHashCommand = Command.make("identifier-hash", {}, () =>
  Effect.gen(function* () {
    const typed = yield* (yield* CommandInput).secret("Value to hash (not shown)")
    const key = yield* loadIdentifierKey()
    yield* Console.log(identifierHash(key, Redacted.value(typed)))
  })
).pipe(
  Command.withDescription(
    "Print the identifierHash an unknown sign-in identifier is audited under; the value is read from a prompt or stdin."
  )
)
