/**
 * How a typed error answers over HTTP. An error class carries its own answer (a getter under
 * {@link httpAnswer}), so the code that turns failures into responses lists no capability's
 * errors; a module may also declare answers for error tags it does not define (`errors` in its
 * spec). Domain code depends on this small protocol, not on the HTTP layer.
 */

export const httpAnswer: unique symbol = Symbol.for("breakwater/httpAnswer")

export interface HttpAnswer {
  readonly status: number
  /** Stable, snake_case: clients branch on it (`scope_not_found`). */
  readonly code: string
  /** The title of the error page. */
  readonly title: string
}

/** An error that knows its answer; its `message`, `details`, `issues` and `retryAfterSeconds` are sent too. */
export interface Answering {
  readonly [httpAnswer]: HttpAnswer
}

/** Builds an answer (for the getters of error classes). */
export const answer = (status: number, code: string, title: string): HttpAnswer => ({ status, code, title })

/** The answer an error carries, if it carries one. */
export const carriedAnswer = (error: unknown): HttpAnswer | undefined => {
  if (typeof error !== "object" || error === null || !(httpAnswer in error)) return undefined
  const found: unknown = (error as Answering)[httpAnswer]
  return isHttpAnswer(found) ? found : undefined
}

export const isHttpAnswer = (value: unknown): value is HttpAnswer =>
  typeof value === "object" &&
  value !== null &&
  "status" in value &&
  typeof value.status === "number" &&
  Number.isInteger(value.status) &&
  value.status >= 400 &&
  value.status <= 599 &&
  "code" in value &&
  typeof value.code === "string" &&
  /^[a-z][a-z0-9_]*$/.test(value.code) &&
  "title" in value &&
  typeof value.title === "string"
