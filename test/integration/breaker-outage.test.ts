/**
 * The breaker while a store is unreachable (a TCP proxy in front of the real PostgreSQL or Redis,
 * cut and restored): trips are always accepted, resets refused, staleness rises, readers never
 * see OPEN, and everything is reconciled when the store returns.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { Redis } from "ioredis"
import { afterAll, beforeAll } from "vitest"
import { CircuitBreaker } from "../../src/core/contracts/circuit-breaker/service.ts"
import { withSql } from "../support/admin-sql.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { alice, bob, breakerLayer, REASON, scopeGauge } from "../support/breaker.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { loginAsAdmin } from "../support/session.ts"
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts"

let stores: TestStores
let redis: Redis
let pgProxy: TcpProxy
let redisProxy: TcpProxy
beforeAll(async () => {
  stores = await createTestStores()
  redis = new Redis(stores.redisUrl)
  const pg = new URL(stores.databaseUrl)
  const r = new URL(stores.redisUrl)
  pgProxy = await startTcpProxy(pg.hostname, Number(pg.port || 5432))
  redisProxy = await startTcpProxy(r.hostname, Number(r.port || 6379))
})
afterAll(async () => {
  await Promise.all([pgProxy.close(), redisProxy.close(), redis.quit()])
})

const via = (proxy: "pg" | "redis" | "none") => {
  const pg = new URL(stores.databaseUrl)
  if (proxy === "pg") pg.port = String(pgProxy.port)
  return breakerLayer(
    {
      DATABASE_URL: pg.toString(),
      REDIS_URL: proxy === "redis" ? `redis://127.0.0.1:${redisProxy.port}` : stores.redisUrl,
      REDIS_KEY_PREFIX: stores.redisKeyPrefix
    },
    false
  )
}
const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  Effect.promise(() => withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params)))
const publishedState = (scope: string) =>
  Effect.promise(async () => {
    const raw = await redis.get(`${stores.redisKeyPrefix}circuit_breaker:state:${scope}`)
    return raw === null ? undefined : (JSON.parse(raw) as { state: string; version: number })
  })
const newScope = (name: string) => Effect.flatMap(CircuitBreaker, (b) => Effect.as(b.createScope(name, alice), name))
/** Runs verifier passes until one satisfies `done` (the store reconnecting takes a moment). */
const verifyUntil = (done: (r: Effect.Success<(typeof CircuitBreaker)["Service"]["verifyOnce"]>) => boolean) =>
  Effect.flatMap(CircuitBreaker, (b) =>
    b.verifyOnce.pipe(
      Effect.repeat({ until: done, schedule: Schedule.spaced("200 millis") }),
      Effect.timeout("15 seconds")
    )
  )

describe("breaker outages", () => {
  it.live(
    "Redis down: trip works, reset refused, staleness rises; repaired when Redis returns",
    () =>
      Effect.gen(function* () {
        const breaker = yield* CircuitBreaker
        const scope = yield* newScope("redis-outage")
        assert.isTrue((yield* breaker.verifyOnce).publishedChecked)
        assert.isBelow((yield* scopeGauge("cb_staleness_seconds", scope)) ?? 99, 1)

        yield* Effect.promise(() => redisProxy.cut())
        const tripped = yield* breaker.trip({ scope, reason: REASON, source: "manual", actor: alice })
        assert.deepStrictEqual([tripped.persisted, tripped.published, tripped.record.state], [true, false, "TRIPPED"])
        const refused = yield* Effect.flip(breaker.reset({ scope, reason: REASON, actor: bob }))
        assert.strictEqual(refused._tag, "StoresUnhealthy")
        assert.include(refused.message, "Redis")

        yield* Effect.sleep("1200 millis")
        const failing = yield* breaker.verifyOnce
        assert.deepStrictEqual([failing.truthRead, failing.publishedChecked], [true, false])
        assert.isAtLeast((yield* scopeGauge("cb_staleness_seconds", scope)) ?? 0, 1)
        // PostgreSQL still confirms the state: readers see TRIPPED, not UNKNOWN.
        assert.strictEqual((yield* breaker.read(scope)).state, "TRIPPED")

        yield* Effect.promise(() => redisProxy.restore())
        const recovered = yield* verifyUntil((r) => r.publishedChecked)
        assert.include(recovered.repaired, scope)
        assert.strictEqual((yield* publishedState(scope))?.state, "TRIPPED")
        assert.isBelow((yield* scopeGauge("cb_staleness_seconds", scope)) ?? 99, 1)
        const reset = yield* breaker.reset({ scope, reason: REASON, actor: bob })
        assert.strictEqual(reset.kind, "reset")
      }).pipe(Effect.provide(via("redis"))),
    40_000
  )

  it.live(
    "PostgreSQL down: a trip is published at once, reads never say OPEN, reconciled when it returns",
    () =>
      Effect.gen(function* () {
        const breaker = yield* CircuitBreaker
        const scope = yield* newScope("pg-outage")
        yield* Effect.promise(() => pgProxy.cut())

        const tripped = yield* breaker.trip({ scope, reason: REASON, source: "manual", actor: alice })
        assert.deepStrictEqual([tripped.persisted, tripped.published, tripped.record.state], [false, true, "TRIPPED"])
        assert.strictEqual((yield* publishedState(scope))?.state, "TRIPPED")
        const view = yield* breaker.read(scope)
        assert.strictEqual(view.state, "TRIPPED")
        assert.include(view.warning ?? "", "database")
        const refused = yield* Effect.flip(breaker.reset({ scope, reason: REASON, actor: bob }))
        assert.strictEqual(refused._tag, "StoresUnhealthy")

        // Past the 5 s confirmation window the published copy keeps confirming TRIPPED.
        yield* Effect.sleep("2 seconds")
        assert.isFalse((yield* breaker.verifyOnce).truthRead)
        yield* Effect.sleep("4 seconds")
        assert.isFalse((yield* breaker.verifyOnce).truthRead)
        assert.strictEqual((yield* breaker.read(scope)).state, "TRIPPED")
        const listed = (yield* breaker.list).find((v) => v.scope === scope)
        assert.strictEqual(listed?.effective_state, "TRIPPED")

        yield* Effect.promise(() => pgProxy.restore())
        const back = yield* verifyUntil((r) => r.truthRead)
        assert.strictEqual(back.reconciled, 1)
        const [row] = yield* query<{ state: string }>("SELECT state FROM breaker_scope WHERE scope = $1", [scope])
        assert.strictEqual(row?.state, "TRIPPED")
        const [entry] = yield* query<{ details: { accepted_while_database_down?: boolean } }>(
          "SELECT details FROM audit_log WHERE action = 'breaker.trip' AND resource_id = $1",
          [scope]
        )
        assert.isTrue(entry?.details.accepted_while_database_down)
        assert.strictEqual((yield* breaker.read(scope)).warning, null)
      }).pipe(Effect.provide(via("pg"))),
    40_000
  )

  it.live(
    "a trip another process published while PostgreSQL was down is written, never overwritten",
    () =>
      Effect.gen(function* () {
        const scope = yield* Effect.flatMap(CircuitBreaker, () => newScope("cross-process")).pipe(
          Effect.provide(via("none"))
        )
        // Process A: its database connection is cut; its trip only reaches Redis. It then stops.
        yield* Effect.gen(function* () {
          const a = yield* CircuitBreaker
          yield* Effect.promise(() => pgProxy.cut())
          const t = yield* a.trip({ scope, reason: REASON, source: "automatic", actor: alice })
          assert.isFalse(t.persisted)
        }).pipe(Effect.provide(via("pg")), Effect.scoped)
        yield* Effect.promise(() => pgProxy.restore())

        const [before] = yield* query<{ state: string }>("SELECT state FROM breaker_scope WHERE scope = $1", [scope])
        assert.strictEqual(before?.state, "OPEN")
        // Process B (database fine) starts and verifies: the newer published trip goes into PostgreSQL.
        const view = yield* Effect.flatMap(CircuitBreaker, (b) => Effect.andThen(b.verifyOnce, b.read(scope))).pipe(
          Effect.provide(via("none"))
        )
        assert.strictEqual(view.state, "TRIPPED")
        const [row] = yield* query<{ state: string; trip_source: string }>(
          "SELECT state, trip_source FROM breaker_scope WHERE scope = $1",
          [scope]
        )
        assert.deepStrictEqual([row?.state, row?.trip_source], ["TRIPPED", "automatic"])
      }),
    40_000
  )

  it.live(
    "with both stores unreachable every reading turns UNKNOWN (fail closed)",
    () =>
      Effect.gen(function* () {
        const breaker = yield* CircuitBreaker
        yield* newScope("both-down")
        assert.strictEqual((yield* breaker.read("global")).trading_allowed, true)
        yield* Effect.promise(() => Promise.all([pgProxy.cut(), redisProxy.cut()]))
        yield* Effect.sleep("5500 millis")
        yield* breaker.verifyOnce
        const views = yield* breaker.list
        assert.isAbove(views.length, 1)
        for (const v of views) {
          assert.deepStrictEqual([v.state, v.effective_state, v.trading_allowed], ["UNKNOWN", "UNKNOWN", false])
          assert.include(v.warning ?? "", "treat as tripped")
        }
        yield* Effect.promise(() => Promise.all([pgProxy.restore(), redisProxy.restore()]))
      }).pipe(
        Effect.provide(
          breakerLayer(
            {
              DATABASE_URL: Object.assign(new URL(stores.databaseUrl), { port: String(pgProxy.port) }).toString(),
              REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
              REDIS_KEY_PREFIX: stores.redisKeyPrefix
            },
            false
          )
        )
      ),
    40_000
  )

  it.live(
    "over HTTP with PostgreSQL down: a signed-in operator and an API key still trip; reads stay TRIPPED; resets get 503",
    () =>
      Effect.promise(async () => {
        const pg = new URL(stores.databaseUrl)
        pg.port = String(pgProxy.port)
        const app = await startAppPromise(testEnv(stores, { DATABASE_URL: pg.toString(), LOG_LEVEL: "error" }))
        try {
          const admin = await loginAsAdmin(app.baseUrl)
          const json = { "content-type": "application/json" }
          const created = await admin.fetch("/api/v1/api-keys", {
            method: "POST",
            headers: json,
            body: JSON.stringify({
              name: "desk",
              scopes: ["VIEW_CIRCUIT_BREAKER", "TRIP_CIRCUIT_BREAKER"],
              expiresIn: "1d"
            })
          })
          const { apiKey } = (await created.json()) as { apiKey: string }
          const bearer = { ...json, authorization: `Bearer ${apiKey}` }
          await admin.fetch("/api/v1/breaker/scopes", {
            method: "POST",
            headers: json,
            body: JSON.stringify({ scope: "http-outage" })
          })
          // Both credentials were verified against the database a moment ago.
          assert.strictEqual(
            (await fetch(`${app.baseUrl}/api/v1/breaker/http-outage`, { headers: bearer })).status,
            200
          )

          await pgProxy.cut()
          const body = (reason: string) => JSON.stringify({ reason, acknowledge: true })
          const bySession = await admin.fetch("/api/v1/breaker/http-outage/trip", {
            method: "POST",
            headers: json,
            body: body("database outage drill: tripping from the console session")
          })
          assert.strictEqual(bySession.status, 202)
          assert.deepInclude(await bySession.json(), { persisted: false, published: true })
          const byKey = await fetch(`${app.baseUrl}/api/v1/breaker/global/trip`, {
            method: "POST",
            headers: bearer,
            body: body("database outage drill: tripping global with an API key")
          })
          assert.strictEqual(byKey.status, 202)
          const read = await fetch(`${app.baseUrl}/api/v1/breaker/http-outage`, { headers: bearer })
          assert.strictEqual(((await read.json()) as { effective_state: string }).effective_state, "TRIPPED")
          const reset = await admin.fetch("/api/v1/breaker/http-outage/reset", {
            method: "POST",
            headers: json,
            body: body("the database is down, this reset must be refused")
          })
          assert.strictEqual(reset.status, 503)
          // A credential never verified cannot be checked now: 503, not a guess.
          const stranger = await fetch(`${app.baseUrl}/api/v1/breaker/global`, {
            headers: { authorization: "Bearer bw_AAAAAAAAAAAA_notarealkeynotarealkeynotarealkey0000" }
          })
          assert.include([401, 503], stranger.status)

          await pgProxy.restore()
          const deadline = Date.now() + 15_000
          let rows: ReadonlyArray<{ scope: string; state: string }> = []
          while (Date.now() < deadline) {
            rows = await withSql(stores.databaseUrl, (sql) =>
              sql.unsafe<{ scope: string; state: string }>(
                "SELECT scope, state FROM breaker_scope WHERE scope IN ('global', 'http-outage') ORDER BY scope"
              )
            )
            if (rows.every((r) => r.state === "TRIPPED")) break
            await new Promise((r) => setTimeout(r, 200))
          }
          assert.deepStrictEqual(
            rows.map((r) => [r.scope, r.state]),
            [
              ["global", "TRIPPED"],
              ["http-outage", "TRIPPED"]
            ]
          )
        } finally {
          await pgProxy.restore().catch(() => undefined)
          await app.stop()
        }
      }),
    60_000
  )

  it.live(
    "over HTTP with both stores down: GET /api/v1/breaker answers 503 with state UNKNOWN",
    () =>
      Effect.promise(async () => {
        const pg = new URL(stores.databaseUrl)
        pg.port = String(pgProxy.port)
        const app = await startAppPromise(
          testEnv(stores, {
            DATABASE_URL: pg.toString(),
            REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
            LOG_LEVEL: "fatal"
          })
        )
        try {
          const admin = await loginAsAdmin(app.baseUrl)
          const created = await admin.fetch("/api/v1/api-keys", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: "reader", scopes: ["VIEW_CIRCUIT_BREAKER"], expiresIn: "1d" })
          })
          const { apiKey } = (await created.json()) as { apiKey: string }
          const get = (path: string) =>
            fetch(`${app.baseUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}` } })
          assert.strictEqual((await get("/api/v1/breaker")).status, 200)

          await Promise.all([pgProxy.cut(), redisProxy.cut()])
          await new Promise((r) => setTimeout(r, 6_500))
          const all = await get("/api/v1/breaker")
          assert.strictEqual(all.status, 503)
          assert.strictEqual(((await all.json()) as { state: string }).state, "UNKNOWN")
          const one = await get("/api/v1/breaker/global")
          assert.strictEqual(one.status, 503)
          assert.deepInclude(await one.json(), { state: "UNKNOWN", trading_allowed: false })
        } finally {
          await Promise.all([pgProxy.restore(), redisProxy.restore()]).catch(() => undefined)
          await app.stop()
        }
      }),
    60_000
  )
})
