/** The diagnostics module's errors, each carrying its HTTP answer. */
import { Schema } from "effect"
import { answer, httpAnswer } from "../../core/errors/http-answer.ts"

/** 409 `capture_in_progress`: one capture at a time per process; the message says which one runs. */
export class CaptureInProgress extends Schema.TaggedError<CaptureInProgress>()("CaptureInProgress", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number
}) {
  get [httpAnswer]() {
    return answer(409, "capture_in_progress", "Another capture is running")
  }
}

/** 429 `capture_cooling_down`: heap snapshots are spaced out; `Retry-After` says when the next may start. */
export class CaptureCoolingDown extends Schema.TaggedError<CaptureCoolingDown>()("CaptureCoolingDown", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number
}) {
  get [httpAnswer]() {
    return answer(429, "capture_cooling_down", "Too soon for another heap snapshot")
  }
}

/** 503 `capture_failed`: the profiler or the snapshot did not work (e.g. no space for the file). */
export class CaptureFailed extends Schema.TaggedError<CaptureFailed>()("CaptureFailed", {
  message: Schema.String
}) {
  get [httpAnswer]() {
    return answer(503, "capture_failed", "The capture failed")
  }
}
