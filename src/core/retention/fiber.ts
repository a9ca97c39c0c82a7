/**
 * The `retention.daily` fiber: declared `replicas: "one"`, so one replica at a time runs it, under
 * its lease (`core/leases/lease.ts`), and another takes over within the lease's TTL when that one
 * dies. Each day at `RETENTION_HOUR_UTC`:00 UTC it asks for the day's run.
 *
 * The run lock and the day-slot record stay, though the lease makes "every replica asks, one gets
 * in" rare: the lock is what keeps two real runs apart (a run from the shell or the API takes it
 * too, and a lease is time-based: a holder frozen past its margin may still be deleting when the
 * next one starts), and the slot record is how a replica that took the lease over from one that
 * died after its run finds the day done instead of running it again. So when the lock is held (a
 * manual run, or a previous holder's run still ending) it asks again a few minutes later within
 * the window. The module wiring starts it; nothing here runs inside a layer.
 */
import { Clock, Duration, Effect } from "effect"
import { AppConfig } from "../config.ts"
import type { FiberSpec } from "../supervisor.ts"
import { Retention, type ScheduledOutcome } from "./retention.ts"
import { DAY_MS, HOUR_MS, slotToRun } from "./schedule.ts"

/** How long after its hour a day's run may still start (a late replica, a restart, a busy lock). */
export const SCHEDULE_WINDOW_MS = HOUR_MS
/** How soon a replica asks again when the lock was held or the database failed. */
export const RETRY_DELAY = Duration.minutes(5)

/** Asks for the run of `slot` until it ran or was done elsewhere, or the window closed. */
const runSlot = (retention: Retention["Service"], slot: number) =>
  Effect.gen(function* () {
    const at = new Date(slot).toISOString()
    while (true) {
      const result = yield* Effect.result(retention.runScheduled(new Date(slot)))
      if (result._tag === "Success" && result.success.kind !== "busy") return result.success
      const now = yield* Clock.currentTimeMillis
      const last = now + Duration.toMillis(RETRY_DELAY) >= slot + SCHEDULE_WINDOW_MS
      if (result._tag === "Failure") {
        // Past the window the fiber fails: the supervisor shows it and restarts it for the next day.
        if (last) return yield* Effect.fail(result.failure)
        yield* Effect.logWarning(`retention run of ${at} failed; trying again`, result.failure)
      } else if (last) {
        yield* Effect.logWarning(`retention run of ${at} skipped: the run lock stayed held through its window`)
        return result.success
      }
      yield* Effect.sleep(RETRY_DELAY)
    }
  })

const logOutcome = (slot: number, outcome: ScheduledOutcome) => {
  if (outcome.kind !== "ran")
    return Effect.logDebug(`retention run of ${new Date(slot).toISOString()}: ${outcome.kind}`)
  const counts = Object.fromEntries(outcome.report.jobs.map((j) => [j.name, j.count]))
  const message = `retention run of ${new Date(slot).toISOString()} deleted ${Object.values(counts).reduce((a, b) => a + b, 0)} rows`
  return (outcome.report.ok ? Effect.logInfo(message) : Effect.logError(`${message}; some jobs failed`)).pipe(
    Effect.annotateLogs({ retention: outcome.report })
  )
}

export const retentionFiber: FiberSpec<Retention | AppConfig> = {
  name: "retention.daily",
  replicas: "one",
  run: (heartbeat) =>
    Effect.gen(function* () {
      const { retentionHourUtc } = yield* AppConfig
      const retention = yield* Retention
      let slot = slotToRun(yield* Clock.currentTimeMillis, retentionHourUtc, SCHEDULE_WINDOW_MS)
      while (true) {
        const now = yield* Clock.currentTimeMillis
        if (slot > now) yield* Effect.sleep(Duration.millis(slot - now))
        yield* logOutcome(slot, yield* runSlot(retention, slot))
        yield* heartbeat
        slot += DAY_MS
      }
    })
}
