/**
 * The refusals of a request whose `Idempotency-Key` cannot be honoured, each carrying its HTTP
 * answer (codes from draft-ietf-httpapi-idempotency-key-header: 409 while the first request runs,
 * 422 for a key reused with another request). A bad key is the generic 400 `bad_request`.
 */
import { Schema } from "effect"
import { answer, httpAnswer } from "../errors/http-answer.ts"

/** 409 `idempotency_key_in_progress`, with `Retry-After`: the first request of this key has not finished. */
export class IdempotencyKeyInProgress extends Schema.TaggedError<IdempotencyKeyInProgress>()(
  "IdempotencyKeyInProgress",
  { message: Schema.String, retryAfterSeconds: Schema.Number }
) {
  get [httpAnswer]() {
    return answer(409, "idempotency_key_in_progress", "Request in progress")
  }
}

/** 422 `idempotency_key_reused`: the key was used for another request (method, path, query or body). */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()("IdempotencyKeyReused", {
  message: Schema.String
}) {
  get [httpAnswer]() {
    return answer(422, "idempotency_key_reused", "Idempotency key reused")
  }
}

/**
 * 409 `idempotency_key_answer_withheld`: the request of this key was executed, but its answer
 * carried a secret (a new API key) that is not kept, so it cannot be sent again.
 */
export class IdempotencyAnswerWithheld extends Schema.TaggedError<IdempotencyAnswerWithheld>()(
  "IdempotencyAnswerWithheld",
  { message: Schema.String, details: Schema.Unknown }
) {
  get [httpAnswer]() {
    return answer(409, "idempotency_key_answer_withheld", "Answer not kept")
  }
}
