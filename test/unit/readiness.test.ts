import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { overall, Readiness } from "../../src/core/readiness.ts"

describe("readiness", () => {
  it("is unavailable only when a critical check is down", () => {
    const up = { status: "up" as const, latencyMs: 1, critical: true }
    assert.strictEqual(overall([up, { ...up, critical: false }]), "ready")
    assert.strictEqual(overall([up, { status: "down", latencyMs: 1, critical: false }]), "degraded")
    assert.strictEqual(overall([up, { status: "degraded", latencyMs: 1, critical: true }]), "degraded")
    assert.strictEqual(overall([{ status: "down", latencyMs: 1, critical: true }]), "unavailable")
  })

  it.effect("turns a failing or hanging check into `down` instead of failing the report", () =>
    Effect.gen(function* () {
      const readiness = yield* Readiness
      yield* readiness.register({ name: "broken", critical: false, run: Effect.fail("no route to host") })
      yield* readiness.register({ name: "hanging", critical: true, run: Effect.never })
      yield* readiness.register({ name: "fine", critical: true, run: Effect.succeed({ status: "up" as const }) })
      const fiber = yield* Effect.forkChild(readiness.report)
      yield* TestClock.adjust("2 seconds")
      const report = yield* Fiber.join(fiber)
      assert.strictEqual(report.status, "unavailable")
      assert.strictEqual(report.checks.broken?.status, "down")
      assert.include(report.checks.broken?.message ?? "", "no route to host")
      assert.strictEqual(report.checks.hanging?.status, "down")
      assert.include(report.checks.hanging?.message ?? "", "timed out")
      assert.strictEqual(report.checks.fine?.status, "up")
    }).pipe(Effect.provide(Readiness.layer))
  )
})
