/**
 * Readiness: the state of each dependency and of Breakwater's own components, as `/readyz` and the
 * About page show it. A critical check that is down makes the process unavailable (503); a
 * non-critical one makes it degraded, still 200, because operators must reach the console to act.
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"

export type CheckStatus = "up" | "degraded" | "down"

export interface CheckResult {
  readonly status: CheckStatus
  readonly latencyMs: number
  readonly critical: boolean
  readonly message?: string
  readonly details?: Readonly<Record<string, unknown>>
}

export interface ReadinessCheck {
  readonly name: string
  /** A critical check that is down makes `/readyz` answer 503. */
  readonly critical: boolean
  readonly run: Effect.Effect<Omit<CheckResult, "latencyMs" | "critical">, unknown>
}

export type OverallStatus = "ready" | "degraded" | "unavailable"

export interface ReadinessReport {
  readonly status: OverallStatus
  readonly checkedAt: string
  readonly checks: Readonly<Record<string, CheckResult>>
}

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
