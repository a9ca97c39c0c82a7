/**
 * What a retention run reports, per job and as a whole: the JSON the API answers, the CLI prints
 * and the audit entry records. Times are ISO-8601 strings in UTC.
 */
import { Schema } from "effect"

export const JobOutcome = Schema.Struct({
  name: Schema.String,
  table: Schema.String,
  /** The job's period when the run started, in days. */
  periodDays: Schema.Number,
  /** Rows whose age column is before this instant were due; fixed when the run started. */
  cutoff: Schema.String,
  /** A dry run: rows due. A real run: rows deleted. */
  count: Schema.Number,
  /** Why the job stopped early (its count is what it deleted before); absent when it finished. */
  error: Schema.optionalKey(Schema.String)
})
export type JobOutcome = typeof JobOutcome.Type

export const RetentionReport = Schema.Struct({
  dryRun: Schema.Boolean,
  startedAt: Schema.String,
  finishedAt: Schema.String,
  /** False when a job failed (the others still ran). */
  ok: Schema.Boolean,
  jobs: Schema.Array(JobOutcome)
})
export type RetentionReport = typeof RetentionReport.Type

/** A registered job as the API lists it, with the rows due now. */
export const JobView = Schema.Struct({
  name: Schema.String,
  module: Schema.String,
  description: Schema.String,
  table: Schema.String,
  ageColumn: Schema.String,
  periodSetting: Schema.String,
  periodDays: Schema.Number,
  cutoff: Schema.String,
  due: Schema.Number,
  error: Schema.optionalKey(Schema.String)
})
export type JobView = typeof JobView.Type
