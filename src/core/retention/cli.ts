/**
 * `breakwater retention run [--dry-run] [--job NAME]…`: the retention jobs from the shell, printed
 * as a table of counts (rows due for a dry run, rows deleted otherwise). Exit 0 when every job ran,
 * 1 when one failed or another run holds the lock, 2 for a job name nobody registered.
 * The command needs the `Retention` service with the jobs registered: the application's
 * composition (`cliServices` in src/cli/runtime.ts) gives it.
 */
import { userInfo } from "node:os"
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { type Actor, systemActor } from "../audit/entry.ts"
import { CommandExit, CommandUsageError, refused } from "../run.ts"
import type { RetentionReport } from "./model.ts"
import { Retention } from "./retention.ts"

/** The CLI's actor, named after the operating-system user who ran it when known. */
const actor = Effect.gen(function* () {
  const base = systemActor("cli")
  const user = yield* Effect.try(() => userInfo().username).pipe(Effect.option)
  return Option.match(user, {
    onNone: (): Actor => base,
    onSome: (name): Actor => ({ ...base, name: `cli (${name})` })
  })
})

/** The report as aligned columns, one job a line, then a total. */
export const formatReport = (report: RetentionReport): string => {
  const header = ["job", "table", "period (days)", "cutoff", report.dryRun ? "due" : "deleted"]
  const rows = report.jobs.map((j) => [
    j.name,
    j.table,
    String(j.periodDays),
    j.cutoff,
    j.error === undefined ? String(j.count) : `${j.count} (failed)`
  ])
  const total = report.jobs.reduce((sum, j) => sum + j.count, 0)
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  const summary = report.dryRun
    ? `dry run: ${total} rows due in ${report.jobs.length} jobs; nothing was deleted`
    : `deleted ${total} rows in ${report.jobs.length} jobs`
  return [line(header), ...rows.map(line), summary].join("\n")
}

const run = Command.make(
  "run",
  {
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Count the rows due without deleting them."),
      Flag.withDefault(false)
    ),
    jobs: Flag.String("job").pipe(
      Flag.withDescription("Run only this job (repeat for several); every job when absent."),
      Flag.atLeast(0)
    )
  },
  ({ dryRun, jobs }) =>
    Effect.gen(function* () {
      const retention = yield* Retention
      const report = yield* retention.run({
        dryRun,
        jobs: jobs.length === 0 ? undefined : jobs.map((j) => j.trim()),
        actor: yield* actor
      })
      yield* Console.log(formatReport(report))
      for (const job of report.jobs)
        if (job.error !== undefined) yield* Console.error(`breakwater: retention job ${job.name} failed: ${job.error}`)
      if (!report.ok) return yield* new CommandExit({ code: 1 })
    }).pipe(
      Effect.catchTags({
        UnknownRetentionJobs: (error) => Effect.fail(new CommandUsageError({ message: `--job: ${error.message}` })),
        RetentionBusy: (error) => refused(error.message)
      })
    )
).pipe(
  Command.withDescription(
    "Delete the rows the retention jobs find due, in small batches (audited); --dry-run only counts them."
  )
)

/** `breakwater retention …`, over a `Retention` service the caller provides (jobs registered). */
export const retentionCommand = Command.make("retention").pipe(
  Command.withDescription("Retention: delete rows past their retention period."),
  Command.withSubcommands([run])
)
