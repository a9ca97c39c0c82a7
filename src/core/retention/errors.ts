/**
 * The retention runner's typed refusals. None is an outage: a bad declaration stops the start, an
 * unknown job name is the caller's mistake, and a busy lock means another run is deleting now.
 */
import { Schema } from "effect"
import { answer, httpAnswer } from "../errors/http-answer.ts"

/** A module declared a job the runner will not run (bad identifier, audit table, duplicate name…). */
export class RetentionJobRefused extends Schema.TaggedError<RetentionJobRefused>()("RetentionJobRefused", {
  message: Schema.String
}) {}

/** A run named jobs nobody registered. */
export class UnknownRetentionJobs extends Schema.TaggedError<UnknownRetentionJobs>()("UnknownRetentionJobs", {
  names: Schema.Array(Schema.String),
  known: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const known = this.known.length === 0 ? "none are registered" : `known: ${this.known.join(", ")}`
    return `no retention job named ${this.names.join(", ")} (${known})`
  }
  get [httpAnswer]() {
    return answer(400, "unknown_retention_job", "Unknown retention job")
  }
}

/** Another real run holds the run lock (in this process or another replica). */
export class RetentionBusy extends Schema.TaggedError<RetentionBusy>()("RetentionBusy", {}) {
  override get message(): string {
    return "another retention run is in progress; try again when it has finished"
  }
  get [httpAnswer]() {
    return answer(409, "retention_busy", "Retention run in progress")
  }
}
