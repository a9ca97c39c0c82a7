/**
 * The real process: `node src/main.ts` refuses a bad configuration with one line naming every bad
 * variable, serves with external stores, and stops cleanly (exit 0) on SIGTERM. The graceful drain
 * of an in-flight request is checked in-process, with a test-only slow route.
 */
import { Effect, Layer } from "effect"
import { HttpServerResponse } from "effect/http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { defineModule } from "../../src/core/module.ts"
import { modules } from "../../src/modules.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { servingUrl, spawnBreakwater, stopAllChildren } from "../support/processes.ts"
import { login, testAdmin } from "../support/session.ts"

/** Generous: two cores, other test files running beside this one. */
const START_TIMEOUT_MS = 45_000
/** Required: SIGTERM to exit. */
const STOP_BOUND_MS = 5_000

let stores: TestStores

beforeAll(async () => {
  stores = await createTestStores()
})
afterAll(() => stopAllChildren())

describe("node src/main.ts", () => {
  it("refuses an invalid configuration, naming every bad variable in one message", async () => {
    const child = spawnBreakwater({ PORT: "abc", LOG_FORMAT: "xml", DATABASE_URL: undefined, REDIS_URL: undefined })
    const exit = await child.exited
    expect(exit.code).not.toBe(0)
    expect(exit.code).toBe(2)
    const stderr = child.stderr()
    const line = stderr.split("\n").find((l) => l.includes("PORT"))
    expect(line, `stderr was: ${stderr}`).toBeDefined()
    // Each variable with what is wrong and the value given (neither is a secret).
    expect(line).toMatch(/PORT: [^;]*integer[^;]*"abc"/)
    expect(line).toMatch(/LOG_FORMAT: [^;]*json[^;]*pretty[^;]*"xml"/)
    // A configuration error is one line, not a stack trace, and nothing was started.
    expect(stderr).not.toMatch(/\n\s+at /)
    expect(child.stdout()).not.toContain("serving on")
  }, 60_000)

  it(
    "serves with external stores and exits 0 within 5 s of SIGTERM",
    async () => {
      const child = spawnBreakwater({
        DATABASE_URL: stores.databaseUrl,
        REDIS_URL: stores.redisUrl,
        REDIS_KEY_PREFIX: stores.redisKeyPrefix,
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        LOG_FORMAT: "json",
        BREAKWATER_DATA_DIR: undefined,
        BREAKWATER_ADMIN_EMAIL: testAdmin.email,
        BREAKWATER_ADMIN_PASSWORD: testAdmin.password,
        // Read by earlier versions: an upgrade must say it is ignored now.
        SSE_MAX_CONNECTIONS: "50"
      })
      const baseUrl = await child.waitForLine("the serving log line", servingUrl, START_TIMEOUT_MS)
      expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const port = Number(new URL(baseUrl).port)
      expect(port).toBeGreaterThan(0)

      // Started as `npm start` starts it: with the young-generation cap, so no warning about it.
      expect(child.stdout()).not.toContain("started without --max-semi-space-size")
      expect(child.stdout()).toContain("SSE_MAX_CONNECTIONS is set but no longer read")
      const health = await fetch(`${baseUrl}/healthz`)
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: "ok" })
      const admin = await login(baseUrl, testAdmin.email, testAdmin.password)
      const ready = await (await admin.fetch("/readyz")).json()
      expect(ready.checks.database).toMatchObject({ status: "up", details: { mode: "external" } })
      expect(ready.checks.redis).toMatchObject({ status: "up", details: { mode: "redis" } })
      // With PostgreSQL, V8 keeps its defaults (the embedded database optimises for size).
      expect(await (await admin.fetch("/api/v1/system")).json()).toMatchObject({ memoryMode: "speed" })

      const signalledAt = performance.now()
      child.process.kill("SIGTERM")
      const exit = await Promise.race([
        child.exited,
        new Promise<"late">((resolve) => setTimeout(() => resolve("late"), STOP_BOUND_MS + 5_000))
      ])
      const stopMs = (child.exitedAt() ?? performance.now()) - signalledAt
      console.info(`[timing] external stores: SIGTERM to exit ${stopMs.toFixed(0)} ms`)
      expect(exit, `stderr: ${child.stderr()}`).toEqual({ code: 0, signal: null })
      expect(stopMs).toBeLessThan(STOP_BOUND_MS)
      expect(child.stdout()).toContain("HTTP server stopping")
      // The port is released.
      await expect(fetch(`${baseUrl}/healthz`)).rejects.toThrow()
    },
    START_TIMEOUT_MS + 30_000
  )
})

describe("graceful shutdown (in-process)", () => {
  it("lets an in-flight request finish while the application closes", async () => {
    const started = Promise.withResolvers<void>()
    const finished = Promise.withResolvers<number>()
    const slow = defineModule({
      name: "test-slow",
      layer: Layer.empty,
      routes: [
        {
          method: "GET",
          path: "/test/slow",
          access: "public",
          summary: "Test only: answers after one second.",
          handler: Effect.gen(function* () {
            yield* Effect.sync(() => started.resolve())
            yield* Effect.sleep("1 second")
            yield* Effect.sync(() => finished.resolve(performance.now()))
            return HttpServerResponse.text("finished")
          })
        }
      ]
    })
    const app = await startAppPromise(testEnv(stores), [...modules, slow])
    let stopped = false
    try {
      const requestedAt = performance.now()
      const response = fetch(`${app.baseUrl}/test/slow`).then(async (res) => ({
        status: res.status,
        body: await res.text(),
        at: performance.now()
      }))
      await started.promise
      const closing = app.stop().then(() => {
        stopped = true
        return performance.now()
      })
      const answer = await response
      expect(answer).toMatchObject({ status: 200, body: "finished" })
      expect(answer.at - requestedAt).toBeGreaterThanOrEqual(950)
      const closedAt = await closing
      // The application finished closing only after the handler had finished its work.
      expect(closedAt).toBeGreaterThanOrEqual(await finished.promise)
      // And the server no longer accepts requests.
      await expect(fetch(`${app.baseUrl}/healthz`)).rejects.toThrow()
    } finally {
      if (!stopped) await app.stop().catch(() => undefined)
    }
  }, 60_000)
})
