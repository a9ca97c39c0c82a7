/**
 * Embedded mode, end to end: with no DATABASE_URL and no REDIS_URL the process runs PGlite under
 * the data directory and in-process twins of the Redis services, stops cleanly on SIGTERM, and
 * starts again quickly on the same data directory with its data intact.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Child, servingUrl, spawnBreakwater, stopAllChildren, waitFor } from "../support/processes.ts"
import { loginAsAdmin, testAdmin } from "../support/session.ts"

/**
 * Process starts are CPU-bound (module loading, PGlite's WASM; the first start also runs initdb in
 * WASM), so their wall time on a shared two-core machine varies several-fold (first start seen
 * from 12 s to 45 s, a restart from 3.6 s to 19 s). The targets (first start 15 s, restart 3 s)
 * are therefore printed, not asserted; the limits below only catch a hang. A restart that
 * re-created the cluster would lose the installation id, and that is asserted exactly.
 */
const FIRST_START_TIMEOUT_MS = 90_000
const SECOND_START_TIMEOUT_MS = 45_000
/** Required: SIGTERM to exit. */
const STOP_BOUND_MS = 5_000

let dataDir: string

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "breakwater-embedded-"))
})
afterAll(async () => {
  await stopAllChildren()
  rmSync(dataDir, { recursive: true, force: true })
})

const start = (): Child =>
  spawnBreakwater({
    DATABASE_URL: undefined,
    REDIS_URL: undefined,
    REDIS_KEY_PREFIX: undefined,
    BREAKWATER_DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    BREAKWATER_ADMIN_EMAIL: testAdmin.email,
    BREAKWATER_ADMIN_PASSWORD: testAdmin.password
  })

/** Waits for the serving line, then for /healthz; returns the base URL and ms from spawn to a 200. */
const serving = async (child: Child, timeoutMs: number) => {
  const baseUrl = await child.waitForLine("the serving log line", servingUrl, timeoutMs)
  const remaining = Math.max(1_000, timeoutMs - (performance.now() - child.spawnedAt))
  await waitFor("/healthz", async () => ((await fetch(`${baseUrl}/healthz`)).status === 200 ? true : undefined), {
    timeoutMs: remaining,
    intervalMs: 25
  })
  return { baseUrl, healthyAfterMs: performance.now() - child.spawnedAt }
}

const stop = async (child: Child) => {
  const signalledAt = performance.now()
  child.process.kill("SIGTERM")
  const exit = await Promise.race([
    child.exited,
    new Promise<"late">((resolve) => setTimeout(() => resolve("late"), STOP_BOUND_MS + 10_000))
  ])
  return { exit, stopMs: (child.exitedAt() ?? performance.now()) - signalledAt }
}

const installationId = async (baseUrl: string): Promise<unknown> => {
  // The first start created the administrator; the restart finds it (and its sessions) in the data.
  const admin = await loginAsAdmin(baseUrl)
  const res = await admin.fetch("/api/v1/system")
  expect(res.status).toBe(200)
  const body = await res.json()
  // The embedded database runs with V8 optimising for size (core/runtime/memory-mode.ts).
  expect(body).toMatchObject({ database: { mode: "embedded" }, redis: { mode: "in-process" }, memoryMode: "size" })
  return body.installationId
}

describe("embedded mode (no DATABASE_URL, no REDIS_URL)", () => {
  it("serves on PGlite, stops cleanly, and restarts fast on the same data directory", async () => {
    const first = start()
    const { baseUrl, healthyAfterMs: firstMs } = await serving(first, FIRST_START_TIMEOUT_MS)
    console.info(`[timing] embedded first start: /healthz 200 after ${firstMs.toFixed(0)} ms`)

    const ready = await (await loginAsAdmin(baseUrl)).fetch("/readyz")
    expect(ready.status).toBe(200)
    const report = await ready.json()
    expect(report.status).toBe("ready")
    expect(report.checks.database).toMatchObject({ status: "up", critical: true, details: { mode: "embedded" } })
    expect(report.checks.database.details.location).toBe(join(dataDir, "pgdata"))
    expect(report.checks.redis).toMatchObject({ status: "up", details: { mode: "in-process" } })
    const id = await installationId(baseUrl)
    expect(id).toMatch(/^[0-9a-f-]{36}$/)

    const firstStop = await stop(first)
    console.info(`[timing] embedded first stop: SIGTERM to exit ${firstStop.stopMs.toFixed(0)} ms`)
    expect(firstStop.exit, `stderr: ${first.stderr()}`).toEqual({ code: 0, signal: null })
    expect(firstStop.stopMs).toBeLessThan(STOP_BOUND_MS)

    const second = start()
    const again = await serving(second, SECOND_START_TIMEOUT_MS)
    console.info(`[timing] embedded second start: /healthz 200 after ${again.healthyAfterMs.toFixed(0)} ms`)
    expect(await installationId(again.baseUrl)).toBe(id)
    // No migration ran again: the schema was already there.
    expect(second.stdout()).not.toContain("applied migrations")

    const secondStop = await stop(second)
    console.info(`[timing] embedded second stop: SIGTERM to exit ${secondStop.stopMs.toFixed(0)} ms`)
    expect(secondStop.exit, `stderr: ${second.stderr()}`).toEqual({ code: 0, signal: null })
    expect(secondStop.stopMs).toBeLessThan(STOP_BOUND_MS)
  }, 180_000)
})
