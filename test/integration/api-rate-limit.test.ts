/**
 * The per-key API rate limit on the whole application (real PostgreSQL and Redis), at 5 requests a
 * minute: a key over it is answered 429 with `Retry-After` and the JSON error body, on a normal
 * route and on the fast lane's breaker read, without an audit entry per refusal; another key and a
 * console session go on at the same time; the 429 is in the OpenAPI description; two app
 * instances on one Redis prefix share one key's budget; and with Redis cut off the limiter goes on
 * from local counts without waiting, then hands its counts over.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { Context, Effect, Layer } from "effect"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ApiRateLimiter, counterKey, SYNC_INTERVAL_MS } from "../../src/core/auth/api-rate-limit.ts"
import { WINDOW_MS } from "../../src/core/auth/sliding-window.ts"
import { AppConfig } from "../../src/core/config.ts"
import { FastLane } from "../../src/core/http/fast-lane.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { connect } from "../../src/core/redis/client.ts"
import { makeRedisState, SharedState } from "../../src/core/redis/shared-state.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { redisUrl } from "../support/services.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"
import { startTcpProxy } from "../support/tcp-proxy.ts"
import { useTestApp } from "../support/test-app.ts"

const LIMIT = 5
const env = { API_RATE_LIMIT_PER_MINUTE: String(LIMIT) }
const testApp = useTestApp(env)
let admin: TestSession

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
})

const newKey = async (name: string) => {
  const res = await admin.fetch("/api/v1/api-keys", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, scopes: ["VIEW_DASHBOARD", "VIEW_CIRCUIT_BREAKER"], expiresIn: "1d" })
  })
  expect(res.status).toBe(201)
  return (await res.json()) as { key: { id: string }; apiKey: string }
}

const bearer = (apiKey: string, path: string, baseUrl = testApp.app.baseUrl) =>
  fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}` } })

/** `n` requests one after the other; their statuses. */
const statuses = async (n: number, send: () => Promise<Response>) => {
  const out: Array<number> = []
  for (let i = 0; i < n; i++) {
    const res = await send()
    await res.arrayBuffer()
    out.push(res.status)
  }
  return out
}

/** Checks a 429 answer: the JSON error body with its request id, `Retry-After`, no caching. */
const expectRefusal = async (res: Response) => {
  expect(res.status).toBe(429)
  const retryAfter = Number(res.headers.get("retry-after"))
  expect(retryAfter).toBeGreaterThanOrEqual(1)
  expect(retryAfter).toBeLessThanOrEqual(2 * (WINDOW_MS / 1000))
  expect(res.headers.get("content-type")).toContain("application/json")
  expect(res.headers.get("cache-control")).toBe("no-store")
  expect(res.headers.get("x-content-type-options")).toBe("nosniff")
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string } }
  expect(body).toEqual({
    error: {
      code: "too_many_requests",
      message: `this API key made more than ${LIMIT} requests in the last minute: try again after the seconds in Retry-After`,
      requestId: res.headers.get("x-request-id")
    }
  })
}

/** The counts move to "last minute" when the minute turns; a test that reads them waits for a fresh one. */
const awayFromMinuteTurn = async () => {
  const left = WINDOW_MS - (Date.now() % WINDOW_MS)
  if (left < 10_000) await new Promise((r) => setTimeout(r, left + 50))
}

describe("API rate limit", () => {
  it("refuses a key over its limit 429 on a normal route; another key and a session go on", async () => {
    const [a, b] = await Promise.all([newKey("runaway"), newKey("neighbour")])
    if (a === undefined || b === undefined) throw new Error("no keys")
    expect(await statuses(LIMIT, () => bearer(a.apiKey, "/api/v1/system"))).toEqual(Array(LIMIT).fill(200))
    await expectRefusal(await bearer(a.apiKey, "/api/v1/system"))
    // Refusals do not count, and keep being refused while the key is over.
    expect(await statuses(20, () => bearer(a.apiKey, "/api/v1/system"))).toEqual(Array(20).fill(429))
    // Meanwhile another key, and a console user over the same number of requests, are not limited.
    expect(await statuses(LIMIT, () => bearer(b.apiKey, "/api/v1/system"))).toEqual(Array(LIMIT).fill(200))
    expect(await statuses(3 * LIMIT, () => admin.fetch("/api/v1/system"))).toEqual(Array(3 * LIMIT).fill(200))
    expect(await statuses(3 * LIMIT, () => admin.fetch("/api/v1/breaker/global"))).toEqual(Array(3 * LIMIT).fill(200))

    // Counted in the metric, without a per-key label.
    const metrics = await (await fetch(`${testApp.app.baseUrl}/metrics`)).text()
    const refused = /^breakwater_api_rate_limited_total (\d+)$/m.exec(metrics)
    expect(Number(refused?.[1])).toBeGreaterThanOrEqual(21)

    // Not audited: a denial by a third key, audited after them, is there; none of the refusals is.
    const c = await newKey("auditor")
    expect((await bearer(c.apiKey, "/api/v1/audit")).status).toBe(403)
    const denialOf = (id: string) =>
      testApp.query("SELECT 1 FROM audit_log WHERE action = 'authz_denied' AND actor_id = $1", [id])
    const deadline = Date.now() + 5000
    while ((await denialOf(c.key.id)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(await denialOf(c.key.id)).toHaveLength(1)
    expect(await testApp.query("SELECT 1 FROM audit_log WHERE actor_id = $1", [a.key.id])).toHaveLength(0)
  })

  it("refuses a key over its limit 429 on the fast lane's breaker read, answered by the lane itself", async () => {
    const { apiKey } = await newKey("poller")
    expect(await statuses(LIMIT, () => bearer(apiKey, "/api/v1/breaker/global"))).toEqual(Array(LIMIT).fill(200))
    await expectRefusal(await bearer(apiKey, "/api/v1/breaker/global"))

    // The app's own lane behind a server whose normal path is a stub: a 429 from it is the lane's.
    const other = await newKey("lane-check")
    expect((await bearer(other.apiKey, "/api/v1/breaker/global")).status).toBe(200)
    const lane = Context.get(testApp.app.context, FastLane)
    const stub = createServer((req, res) => {
      if (lane.handler?.(req, res) !== true) res.writeHead(418).end("normal path")
    })
    await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve))
    try {
      const base = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`
      const answers = await statuses(LIMIT + 1, () => bearer(other.apiKey, "/api/v1/breaker/global", base))
      expect(answers).toEqual([...Array(LIMIT - 1).fill(200), 429, 429])
      await expectRefusal(await bearer(other.apiKey, "/api/v1/breaker/global", base))
    } finally {
      await new Promise<void>((resolve) => stub.close(() => resolve()))
    }
  })

  it("is described in the OpenAPI document on every operation that needs a permission", async () => {
    type Operation = { responses: Record<string, { description: string; headers?: Record<string, unknown> }> }
    const doc = (await (await fetch(`${testApp.app.baseUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>
    }
    const system = doc.paths["/api/v1/system"]?.get?.responses["429"]
    expect(system?.description).toContain("API_RATE_LIMIT_PER_MINUTE")
    expect(system?.headers?.["Retry-After"]).toBeDefined()
    // A route's own 429 keeps its description.
    const reset = doc.paths["/api/v1/breaker/{scope}/reset"]?.post?.responses["429"]
    expect(reset?.description).toContain("reset_rate_limited")
    expect(reset?.description).toContain("API_RATE_LIMIT_PER_MINUTE")
    expect(doc.paths["/healthz"]?.get?.responses["429"]).toBeUndefined()
  })

  describe("with a second instance on the same Redis prefix", () => {
    let second: Awaited<ReturnType<typeof startAppPromise>> | undefined
    const redis = new Redis(redisUrl, { lazyConnect: true })
    beforeAll(async () => {
      second = await startAppPromise(testEnv(testApp.stores, env))
    })
    afterAll(async () => {
      await second?.stop()
      redis.disconnect()
    })

    it("shares one key's budget between the instances within a second or so", async () => {
      if (second === undefined) throw new Error("second instance not started")
      const secondUrl = second.baseUrl
      const { key, apiKey } = await newKey("shared")
      await awayFromMinuteTurn()
      const window = Math.floor(Date.now() / WINDOW_MS)
      // 3 requests here and 2 there: each instance alone is under the limit.
      expect(await statuses(3, () => bearer(apiKey, "/api/v1/system"))).toEqual([200, 200, 200])
      expect(await statuses(2, () => bearer(apiKey, "/api/v1/breaker/global", secondUrl))).toEqual([200, 200])
      // Both instances have handed their counts over...
      const counter = `${testApp.stores.redisKeyPrefix}${counterKey(key.id, window)}`
      const deadline = Date.now() + 5000
      while ((await redis.get(counter)) !== String(LIMIT) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50))
      expect(await redis.get(counter)).toBe(String(LIMIT))
      // ...and after their next sync each knows the other's: both refuse, on either route.
      await new Promise((r) => setTimeout(r, SYNC_INTERVAL_MS + 500))
      await expectRefusal(await bearer(apiKey, "/api/v1/system"))
      await expectRefusal(await bearer(apiKey, "/api/v1/breaker/global", secondUrl))
      await expectRefusal(await bearer(apiKey, "/api/v1/system", secondUrl))
    })
  })
})

describe("API rate limit while Redis is cut off", () => {
  it("goes on from local counts without waiting for Redis, and hands the counts over once it is back", async () => {
    const { hostname, port } = new URL(redisUrl)
    const proxy = await startTcpProxy(hostname, Number(port || 6379))
    const viaProxy = connect(`redis://127.0.0.1:${proxy.port}`, () => undefined, Redis)
    const direct = new Redis(redisUrl)
    const prefix = `test:rate-cut:${Date.now()}:`
    const layer = ApiRateLimiter.layer.pipe(
      Layer.provide(Layer.effect(SharedState, makeRedisState(viaProxy, prefix))),
      Layer.provide(Metrics.layer),
      Layer.provide(AppConfig.layerFrom({ API_RATE_LIMIT_PER_MINUTE: String(LIMIT) }))
    )
    try {
      await new Promise((resolve) => viaProxy.once("ready", resolve))
      await awayFromMinuteTurn()
      const counter = `${prefix}${counterKey("key-1", Math.floor(Date.now() / WINDOW_MS))}`
      await Effect.runPromise(
        Effect.gen(function* () {
          const limiter = yield* ApiRateLimiter
          const take = () => limiter.take("key-1", Date.now())
          expect([take(), take()]).toEqual([undefined, undefined])
          yield* limiter.sync
          expect(yield* Effect.promise(() => direct.get(counter))).toBe("2")

          yield* Effect.promise(() => proxy.cut())
          // Requests are decided from memory: within the limit, then refused, Redis or not.
          expect([take(), take(), take()]).toEqual([undefined, undefined, undefined])
          expect(take()).toBeGreaterThanOrEqual(1)
          const started = performance.now()
          yield* limiter.sync
          // Fail-fast Redis: a sync during the outage ends within the command timeout.
          expect(performance.now() - started).toBeLessThan(2000)

          yield* Effect.promise(() => proxy.restore())
          const deadline = Date.now() + 10_000
          while ((yield* Effect.promise(() => direct.get(counter))) !== String(LIMIT) && Date.now() < deadline) {
            yield* limiter.sync
            yield* Effect.sleep("100 millis")
          }
          expect(yield* Effect.promise(() => direct.get(counter))).toBe(String(LIMIT))
        }).pipe(Effect.provide(layer), Effect.scoped)
      )
    } finally {
      viaProxy.disconnect()
      direct.disconnect()
      await proxy.close()
    }
  }, 30_000)
})
