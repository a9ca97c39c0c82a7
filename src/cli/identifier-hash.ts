/**
 * `breakwater audit identifier-hash`: prints the `identifierHash` under which a sign-in with this
 * value as its identifier is audited, so an administrator can check whether a suspected value (a
 * colleague's password typed into the email field, say) was tried. The value is read from a masked
 * prompt, or from standard input when that is not a terminal, never from the command line, which
 * would keep it in the shell history and show it in the process list.
 */
import { text } from "node:stream/consumers"
import { Console, Effect, Redacted, Schema } from "effect"
import { Command, Prompt } from "effect/cli"
import { identifierHash, loadIdentifierKey } from "../core/auth/identifier-hash.ts"
import { CliDatabase } from "./runtime.ts"

export class StdinUnreadable extends Schema.TaggedError<StdinUnreadable>()("StdinUnreadable", {
  message: Schema.String
}) {}

const typedValue = process.stdin.isTTY
  ? Prompt.run(Prompt.Password({ message: "Value to hash (not shown)" }))
  : Effect.map(
      Effect.tryPromise({
        try: () => text(process.stdin),
        catch: (cause) => new StdinUnreadable({ message: `cannot read standard input: ${String(cause)}` })
      }),
      (value) => Redacted.make(value)
    )

export const identifierHashCommand = Command.make("identifier-hash", {}, () =>
  Effect.gen(function* () {
    const typed = yield* typedValue
    const key = yield* loadIdentifierKey()
    yield* Console.log(identifierHash(key, Redacted.value(typed)))
  }).pipe(Effect.provide(CliDatabase))
).pipe(
  Command.withDescription(
    "Print the identifierHash an unknown sign-in identifier is audited under; the value is read from a prompt or stdin."
  )
)
