/**
 * HTTP answers that modules declare for error tags they fail with but do not define (an error of a
 * library, say). Errors of our own carry their answer instead (`http-answer.ts`). Filled while the
 * application starts; read when a request fails.
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { HttpAnswer } from "./http-answer.ts"

export class AnswerDeclarationError extends Schema.TaggedError<AnswerDeclarationError>()("AnswerDeclarationError", {
  message: Schema.String
}) {}

export interface ErrorAnswersShape {
  readonly declare: (
    module: string,
    answers: Readonly<Record<string, HttpAnswer>>
  ) => Effect.Effect<void, AnswerDeclarationError>
  /** Tag → answer: the live map, read on every failed request. */
  readonly declared: ReadonlyMap<string, HttpAnswer>
}

export class ErrorAnswers extends Context.Service<ErrorAnswers, ErrorAnswersShape>()("breakwater/ErrorAnswers") {
  static readonly layer = Layer.sync(ErrorAnswers, () => {
    const declared = new Map<string, HttpAnswer>()
    const owners = new Map<string, string>()
    return ErrorAnswers.of({
      declared,
      declare: (module, answers) =>
        Effect.suspend(() => {
          for (const tag of Object.keys(answers)) {
            const owner = owners.get(tag)
            if (owner !== undefined)
              return Effect.fail(
                new AnswerDeclarationError({
                  message: `the error ${tag} is given an answer by both ${owner} and ${module}`
                })
              )
          }
          for (const [tag, answer] of Object.entries(answers)) {
            declared.set(tag, answer)
            owners.set(tag, module)
          }
          return Effect.void
        })
    })
  })
}
