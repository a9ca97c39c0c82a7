/**
 * Readiness: the state of each dependency and of Breakwater's own components, as `/readyz` and the
 * About page show it. A critical check that is down makes the process unavailable (503); a
 * non-critical one makes it degraded, still 200, because operators must reach the console to act.
 */
import { Clock, Context, Duration, Effect, Layer, Schema } from "effect"

export const CheckStatus = Schema.Literals(["up", "degraded", "down"])
export type CheckStatus = typeof CheckStatus.Type

export const CheckResult = Schema.Struct({
  status: CheckStatus,
  latencyMs: Schema.Number,
  critical: Schema.Boolean,
  message: Schema.optionalKey(Schema.String),
  details: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown))
})
export type CheckResult = typeof CheckResult.Type

export interface ReadinessCheck {
  readonly name: string
  /** A critical check that is down makes `/readyz` answer 503. */
  readonly critical: boolean
  readonly run: Effect.Effect<Omit<CheckResult, "latencyMs" | "critical">, unknown>
}

export const OverallStatus = Schema.Literals(["ready", "degraded", "unavailable"])
export type OverallStatus = typeof OverallStatus.Type

/** The body of `/readyz`. */
export const ReadinessReport = Schema.Struct({
  status: OverallStatus,
  checkedAt: Schema.String,
  checks: Schema.Record(Schema.String, CheckResult)
})
export type ReadinessReport = typeof ReadinessReport.Type

/**
 * What an anonymous caller (a load balancer, a scanner) sees: each check's status and latency, no
 * messages or details (hosts, database names, driver errors are for signed-in operators).
 */
export const publicReport = (report: ReadinessReport): ReadinessReport => ({
  ...report,
  checks: Object.fromEntries(
    Object.entries(report.checks).map(([name, { status, latencyMs, critical }]) => [
      name,
      { status, latencyMs, critical }
    ])
  )
})

export interface ReadinessShape {
  readonly register: (check: ReadinessCheck) => Effect.Effect<void>
  readonly report: Effect.Effect<ReadinessReport>
}

const CHECK_TIMEOUT = Duration.seconds(2)

const runCheck = (check: ReadinessCheck): Effect.Effect<CheckResult> =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const outcome = yield* check.run.pipe(
      Effect.timeoutOrElse({
        duration: CHECK_TIMEOUT,
        orElse: () => Effect.succeed({ status: "down" as const, message: "check timed out after 2s" })
      }),
      Effect.catchCause((cause) =>
        Effect.succeed({ status: "down" as const, message: String(cause).split("\n")[0] ?? "check failed" })
      )
    )
    const end = yield* Clock.currentTimeMillis
    return { ...outcome, latencyMs: end - start, critical: check.critical }
  })

export const overall = (results: ReadonlyArray<CheckResult>): OverallStatus =>
  results.some((r) => r.critical && r.status === "down")
    ? "unavailable"
    : results.some((r) => r.status !== "up")
      ? "degraded"
      : "ready"

export class Readiness extends Context.Service<Readiness, ReadinessShape>()("breakwater/Readiness") {
  static readonly layer = Layer.sync(Readiness, () => {
    const checks = new Map<string, ReadinessCheck>()
    return {
      register: (check) => Effect.sync(() => void checks.set(check.name, check)),
      report: Effect.gen(function* () {
        const list = [...checks.values()]
        const results = yield* Effect.forEach(list, runCheck, { concurrency: "unbounded" })
        const now = yield* Clock.currentTimeMillis
        return {
          status: overall(results),
          checkedAt: new Date(now).toISOString(),
          checks: Object.fromEntries(list.map((c, i) => [c.name, results[i]!]))
        }
      })
    }
  })
}
