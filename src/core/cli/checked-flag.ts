/** A flag's value decoded with its schema; a bad value is a one-line usage error naming the flag (exit 2). */
import { Effect, Schema } from "effect"
import { issuesOf } from "../errors/generic.ts"
import { CommandUsageError } from "../run.ts"

export const checkedFlag = <A>(schema: Schema.Codec<A, string>, flag: string, value: string) =>
  Schema.decodeUnknownEffect(schema)(value).pipe(
    Effect.mapError(
      (error) =>
        new CommandUsageError({
          message: `--${flag}: ${issuesOf(error)
            .map((i) => i.message)
            .join(", ")}`
        })
    )
  )
