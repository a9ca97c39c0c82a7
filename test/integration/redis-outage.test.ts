/**
 * Redis is not critical: while it is down, `/readyz` answers 200 `degraded` and names Redis; when
 * it comes back, the process notices within 5 s. Uses a private `redis-server` (the shared one on
 * 6379 serves the other test files).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores } from "../support/database.ts"
import { type Child, freePort, startRedisServer, stopAllChildren, waitFor } from "../support/processes.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"

/** Required: from redis-server being started again to `/readyz` reporting Redis up. */
const RECOVERY_BOUND_MS = 5_000

interface CheckResult {
  readonly status: string
  readonly critical: boolean
  readonly message?: string
  readonly details?: Record<string, unknown>
}
interface ReadinessBody {
  readonly status: string
  readonly checks: Record<string, CheckResult>
}

let redis: Child
let port: number
let app: Awaited<ReturnType<typeof startAppPromise>> | undefined
let admin: TestSession | undefined

/** As a signed-in operator: anonymous callers see statuses only, without the messages checked here. */
const readyz = async (): Promise<{ readonly httpStatus: number; readonly body: ReadinessBody }> => {
  if (admin === undefined) throw new Error("not signed in")
  const res = await admin.fetch("/readyz")
  return { httpStatus: res.status, body: (await res.json()) as ReadinessBody }
}

beforeAll(async () => {
  port = await freePort()
  redis = await startRedisServer(port)
  const stores = await createTestStores()
  app = await startAppPromise(testEnv(stores, { REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: "error" }))
  admin = await loginAsAdmin(app.baseUrl)
}, 60_000)

afterAll(async () => {
  await app?.stop()
  await stopAllChildren()
})

describe("Redis outage", () => {
  it("reports degraded (200) while Redis is down, and recovers within 5 s after it returns", async () => {
    const before = await readyz()
    expect(before.httpStatus).toBe(200)
    expect(before.body.status).toBe("ready")
    expect(before.body.checks.redis).toMatchObject({ status: "up", critical: false, details: { mode: "redis" } })

    // Outage: the Redis process dies.
    redis.process.kill("SIGKILL")
    await redis.exited

    const down = await waitFor(
      "/readyz to report Redis down",
      async () => {
        const r = await readyz()
        return r.body.checks.redis?.status === "down" ? r : undefined
      },
      { timeoutMs: 10_000, intervalMs: 100 }
    )
    expect(down.httpStatus).toBe(200)
    expect(down.body.status).toBe("degraded")
    expect(down.body.checks.redis).toMatchObject({ status: "down", critical: false, details: { mode: "redis" } })
    expect(down.body.checks.redis?.message).toMatch(/redis/i)
    expect(down.body.checks.database).toMatchObject({ status: "up" })
    // The console stays reachable during the outage.
    expect((await fetch(`${app?.baseUrl}/healthz`)).status).toBe(200)
    // Let the client's reconnect backoff grow to its cap before Redis returns.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect((await readyz()).body.checks.redis?.status).toBe("down")

    // Redis returns on the same port.
    redis = await startRedisServer(port)
    // Measured from the spawn of redis-server, a little before it accepts connections: stricter.
    const returnedAt = redis.spawnedAt
    const recovered = await waitFor(
      "/readyz to report Redis up again",
      async () => {
        const r = await readyz()
        return r.body.checks.redis?.status === "up" ? r : undefined
      },
      { timeoutMs: 15_000, intervalMs: 100 }
    )
    const recoveryMs = performance.now() - returnedAt
    console.info(`[timing] Redis recovery: ${recoveryMs.toFixed(0)} ms after redis-server was started again`)
    expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS)
    expect(recovered.httpStatus).toBe(200)
    expect(recovered.body.status).toBe("ready")
  }, 60_000)
})
