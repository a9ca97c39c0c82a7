/**
 * The retention runner. Modules register their jobs at start (checked against the database, audit
 * tables refused); a run reads each job's period, fixes every cutoff at its start, and then counts
 * (dry run) or deletes (real run) the rows due as of those cutoffs, in small batches with a pause
 * between them so it never hogs the database. A real run holds the run lock and is audited once.
 */
import { Clock, Context, Duration, Effect, Layer, Option } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { Audit, type AuditWriteFailed } from "../audit/audit.ts"
import { type Actor, systemActor } from "../audit/entry.ts"
import { sqlErrorDetail } from "../db/sql-error.ts"
import { Metrics } from "../observability/metrics.ts"
import { Settings } from "../settings/service.ts"
import type { SettingSpec } from "../settings/spec.ts"
import { RetentionBusy, RetentionJobRefused, UnknownRetentionJobs } from "./errors.ts"
import type { RetentionJob } from "./job.ts"
import { makeRunLock } from "./lock.ts"
import type { JobOutcome, JobView, RetentionReport } from "./model.ts"
import { countDue, deleteBatch, describeTable, lastScheduledSlot, recordScheduledSlot } from "./store.ts"
import { type DeclaredJob, periodProblem, validateJob } from "./validate.ts"

export interface RunOptions {
  readonly dryRun: boolean
  /** Only these jobs, by name; every registered job when absent. */
  readonly jobs?: ReadonlyArray<string> | undefined
  /** Who asked: the audit entry of a real run names them. */
  readonly actor: Actor
}

/** What the daily run of a slot did: ran it, found it done by another replica, or found the lock held. */
export type ScheduledOutcome =
  | { readonly kind: "ran"; readonly report: RetentionReport }
  | { readonly kind: "done" }
  | { readonly kind: "busy" }

export interface RetentionShape {
  /** Adds a module's jobs, at start; refuses the lot if one is badly declared. */
  readonly register: (
    module: string,
    jobs: ReadonlyArray<RetentionJob>
  ) => Effect.Effect<void, RetentionJobRefused | SqlError.SqlError>
  /** The registered jobs, in registration order. */
  readonly jobs: Effect.Effect<ReadonlyArray<DeclaredJob>>
  /** Each job with its current period and the rows due now (a dry run of every job). */
  readonly list: Effect.Effect<ReadonlyArray<JobView>>
  /**
   * Counts (dry run) or deletes the rows due. A real run refuses with `RetentionBusy` while
   * another holds the run lock; a job that fails is reported and the others still run.
   */
  readonly run: (
    options: RunOptions
  ) => Effect.Effect<RetentionReport, UnknownRetentionJobs | RetentionBusy | AuditWriteFailed | SqlError.SqlError>
  /** The daily real run of every job for `slot`, at most once per slot across replicas. */
  readonly runScheduled: (slot: Date) => Effect.Effect<ScheduledOutcome, AuditWriteFailed | SqlError.SqlError>
}

export interface RetentionOptions<R = never> {
  /** A job's period in days, from its setting; default: the setting's default. */
  readonly periodOf?: (spec: SettingSpec<number>) => Effect.Effect<number, unknown, R>
  /** Rows per DELETE statement (default 500). */
  readonly batchSize?: number
  /** Pause between two batches (default 50 ms). */
  readonly pause?: Duration.Input
}

export const DEFAULT_BATCH_SIZE = 500
export const DEFAULT_PAUSE: Duration.Input = "50 millis"

/** The actor of the daily run. */
export const retentionActor: Actor = systemActor("retention")

const DAY_MS = 86_400_000

const describeFailure = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "SqlError"
    ? sqlErrorDetail(error)
    : error instanceof Error
      ? error.message
      : String(error)

const make = <R>(options: RetentionOptions<R>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const audit = yield* Audit
    const metrics = yield* Metrics
    const context = yield* Effect.context<R>()
    const lock = yield* makeRunLock
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
    const pause = Duration.fromInputUnsafe(options.pause ?? DEFAULT_PAUSE)
    const periodOf = (spec: SettingSpec<number>): Effect.Effect<number, unknown> =>
      options.periodOf === undefined ? Effect.succeed(spec.default) : Effect.provide(options.periodOf(spec), context)
    const deleted = metrics.counter({
      name: "breakwater_retention_deleted_rows_total",
      help: "Rows deleted by retention jobs, by job.",
      labelNames: ["job"]
    })
    const withSql = Effect.provideService(SqlClient.SqlClient, sql)

    const registered: Array<DeclaredJob> = []

    const register = Effect.fn("Retention.register")(function* (module: string, jobs: ReadonlyArray<RetentionJob>) {
      const accepted: Array<DeclaredJob> = []
      for (const job of jobs) {
        const problem = validateJob(module, job, [...registered, ...accepted])
        if (problem !== undefined) return yield* new RetentionJobRefused({ message: problem })
        const found = yield* withSql(describeTable(job.table, job.ageColumn))
        const which = `retention job ${job.name} (module ${module})`
        if (Option.isNone(found))
          return yield* new RetentionJobRefused({ message: `${which}: there is no table ${job.table}` })
        if (found.value.kind !== "r")
          return yield* new RetentionJobRefused({ message: `${which}: ${job.table} is not a plain table` })
        if (found.value.column_type !== "timestamp with time zone")
          return yield* new RetentionJobRefused({
            message:
              found.value.column_type === null
                ? `${which}: table ${job.table} has no column ${job.ageColumn}`
                : `${which}: ${job.table}.${job.ageColumn} is ${found.value.column_type}, not timestamp with time zone`
          })
        accepted.push({ ...job, module })
      }
      registered.push(...accepted)
    })

    const select = (names: ReadonlyArray<string> | undefined) => {
      if (names === undefined) return Effect.succeed([...registered])
      const unknown = names.filter((n) => !registered.some((j) => j.name === n))
      if (unknown.length > 0)
        return Effect.fail(new UnknownRetentionJobs({ names: unknown, known: registered.map((j) => j.name) }))
      return Effect.succeed(registered.filter((j) => names.includes(j.name)))
    }

    /** Deletes the rows due as of `cutoff`, batch by batch; the count so far goes with a failure. */
    const deleteDue = (job: DeclaredJob, cutoff: string) =>
      Effect.gen(function* () {
        let total = 0
        while (true) {
          const result = yield* Effect.result(withSql(deleteBatch(job.table, job.ageColumn, cutoff, batchSize)))
          if (result._tag === "Failure") return { count: total, failure: result.failure }
          total += result.success
          deleted.inc({ job: job.name }, result.success)
          // A short batch: nothing more was due as of the cutoff.
          if (result.success < batchSize) return { count: total, failure: undefined }
          if (Duration.isGreaterThan(pause, Duration.zero)) yield* Effect.sleep(pause)
        }
      })

    const runJob = (job: DeclaredJob, now: number, dryRun: boolean) =>
      Effect.gen(function* () {
        const read = yield* Effect.result(periodOf(job.period))
        const days = read._tag === "Success" ? read.success : job.period.default
        const problem =
          read._tag === "Failure"
            ? `its period could not be read: ${describeFailure(read.failure)}`
            : periodProblem(job.period.key, days)
        const cutoff = new Date(now - (problem === undefined ? days : 0) * DAY_MS).toISOString()
        const base = { name: job.name, table: job.table, periodDays: days, cutoff }
        if (problem !== undefined) {
          yield* Effect.logError(`retention job ${job.name} skipped: ${problem}`)
          return { ...base, count: 0, error: problem } satisfies JobOutcome
        }
        if (dryRun) {
          const due = yield* Effect.result(withSql(countDue(job.table, job.ageColumn, cutoff)))
          if (due._tag === "Success") return { ...base, count: due.success } satisfies JobOutcome
          yield* Effect.logError(`retention job ${job.name} could not count its rows`, due.failure)
          return { ...base, count: 0, error: describeFailure(due.failure) } satisfies JobOutcome
        }
        const { count, failure } = yield* deleteDue(job, cutoff)
        if (failure === undefined) return { ...base, count } satisfies JobOutcome
        yield* Effect.logError(`retention job ${job.name} failed after deleting ${count} rows`, failure)
        return { ...base, count, error: describeFailure(failure) } satisfies JobOutcome
      }).pipe(Effect.withSpan("Retention.job", { attributes: { job: job.name, dryRun } }))

    /** Every cutoff is fixed from one clock reading at the start: a dry run and a real run agree. */
    const runJobs = (jobs: ReadonlyArray<DeclaredJob>, dryRun: boolean) =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        const outcomes: Array<JobOutcome> = []
        for (const job of jobs) outcomes.push(yield* runJob(job, started, dryRun))
        const finished = yield* Clock.currentTimeMillis
        const report: RetentionReport = {
          dryRun,
          startedAt: new Date(started).toISOString(),
          finishedAt: new Date(finished).toISOString(),
          ok: outcomes.every((o) => o.error === undefined),
          jobs: outcomes
        }
        return report
      })

    const realRun = (jobs: ReadonlyArray<DeclaredJob>, actor: Actor, slot: Date | undefined) =>
      Effect.gen(function* () {
        const report = yield* runJobs(jobs, false)
        yield* audit.record({
          actor,
          action: "retention.run",
          resourceType: "retention",
          outcome: report.ok ? "success" : "failure",
          details: {
            ...(slot === undefined ? {} : { scheduled: slot.toISOString() }),
            jobs: report.jobs.map(({ name, table, cutoff, count, error }) => ({
              name,
              table,
              cutoff,
              count,
              ...(error === undefined ? {} : { error })
            }))
          }
        })
        return report
      })

    const run = Effect.fn("Retention.run")(function* (options: RunOptions) {
      const jobs = yield* select(options.jobs)
      if (options.dryRun) return yield* runJobs(jobs, true)
      const report = yield* lock.tryWith(realRun(jobs, options.actor, undefined))
      if (Option.isNone(report)) return yield* new RetentionBusy()
      return report.value
    })

    const runScheduled = Effect.fn("Retention.runScheduled")(function* (slot: Date) {
      const outcome = yield* lock.tryWith(
        Effect.gen(function* () {
          const last = yield* withSql(lastScheduledSlot)
          if (Option.isSome(last) && last.value.getTime() >= slot.getTime()) return { kind: "done" } as const
          const report = yield* realRun([...registered], retentionActor, slot)
          yield* withSql(recordScheduledSlot(slot))
          return { kind: "ran", report } as const
        })
      )
      return Option.getOrElse(outcome, (): ScheduledOutcome => ({ kind: "busy" }))
    })

    const list = Effect.gen(function* () {
      const jobs = [...registered]
      const report = yield* runJobs(jobs, true)
      return jobs.map((job, i): JobView => {
        const outcome = report.jobs[i]
        return {
          name: job.name,
          module: job.module,
          description: job.description,
          table: job.table,
          ageColumn: job.ageColumn,
          periodSetting: job.period.key,
          periodDays: outcome?.periodDays ?? job.period.default,
          cutoff: outcome?.cutoff ?? report.startedAt,
          due: outcome?.count ?? 0,
          ...(outcome?.error === undefined ? {} : { error: outcome.error })
        }
      })
    }).pipe(Effect.withSpan("Retention.list"))

    return Retention.of({
      register,
      jobs: Effect.sync(() => [...registered]),
      list,
      run,
      runScheduled
    })
  })

export class Retention extends Context.Service<Retention, RetentionShape>()("breakwater/Retention") {
  /** With the periods read through `periodOf` (e.g. the Settings service) and batch tuning. */
  static readonly layerWith = <R = never>(options: RetentionOptions<R>) => Layer.effect(Retention, make(options))
  /** Periods from the Settings service (a change takes effect at the next run). */
  static readonly layer = Retention.layerWith({ periodOf: (spec) => Effect.flatMap(Settings, (s) => s.get(spec)) })
}

/** A layer that registers `jobs` of `module` when the application starts (a bad one stops the start). */
export const registerRetentionJobs = (module: string, jobs: ReadonlyArray<RetentionJob>) =>
  Layer.effectDiscard(Effect.flatMap(Retention, (retention) => retention.register(module, jobs)))

export type { DeclaredJob } from "./validate.ts"
