/**
 * What a command reads from the operator beyond its flags: a secret typed at a masked prompt, or
 * piped on standard input. A command run in this process reads this process' terminal; one sent
 * to the running server asks the `breakwater` process that sent it, which reads its own.
 */
import { text } from "node:stream/consumers"
import { Context, Effect, type FileSystem, Layer, type Path, Redacted, Schema } from "effect"
import { Prompt } from "effect/cli"
import type * as Terminal from "effect/Terminal"

export class InputUnavailable extends Schema.TaggedError<InputUnavailable>()("InputUnavailable", {
  message: Schema.String
}) {}

export interface CommandInputShape {
  /** A secret: from a masked prompt showing `message` on a terminal, else all of standard input. */
  readonly secret: (message: string) => Effect.Effect<Redacted.Redacted<string>, InputUnavailable>
}

export class CommandInput extends Context.Service<CommandInput, CommandInputShape>()("breakwater/CommandInput") {}

/** This process' own terminal or standard input. */
export const localCommandInput = Layer.effect(
  CommandInput,
  Effect.gen(function* () {
    // What the prompt runs on, taken from the CLI's platform layer.
    const platform = yield* Effect.context<Terminal.Terminal | FileSystem.FileSystem | Path.Path>()
    return {
      secret: (message) =>
        process.stdin.isTTY
          ? Prompt.run(Prompt.Password({ message })).pipe(
              Effect.provide(platform),
              Effect.mapError(() => new InputUnavailable({ message: "the prompt was closed" }))
            )
          : Effect.tryPromise({
              try: () => text(process.stdin),
              catch: (cause) => new InputUnavailable({ message: `cannot read standard input: ${String(cause)}` })
            }).pipe(Effect.map(Redacted.make))
    }
  })
)
