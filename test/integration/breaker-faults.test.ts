/**
 * The breaker's readers agree after each injected fault (issue 9): the API's normal path, the fast
 * lane, the published copy in Redis and the event stream tell the same thing about whether trading
 * is allowed, within a verifier pass. Faults: the database lost during a trip; the database back
 * but refusing to store the trip (a trigger, a real PostgreSQL refusal), which must leave the scope
 * tripped, logged at error level, shown, and settled by a normal reset; and a restart with Redis
 * holding a trip PostgreSQL never stored, whose text PostgreSQL cannot take.
 */
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { withSql } from "../support/admin-sql.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { waitFor } from "../support/processes.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"
import { sseEvents } from "../support/sse.ts"
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts"

type App = Awaited<ReturnType<typeof startAppPromise>>

let stores: TestStores
let pgProxy: TcpProxy
let redis: Redis
const logged: Array<string> = []

beforeAll(async () => {
  stores = await createTestStores()
  const pg = new URL(stores.databaseUrl)
  pgProxy = await startTcpProxy(pg.hostname, Number(pg.port || 5432))
  redis = new Redis(stores.redisUrl)
  const write = process.stdout.write.bind(process.stdout)
  // The application's logger writes whole lines with one argument.
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    logged.push(String(chunk))
    return write(chunk)
  })
})
afterAll(async () => {
  vi.restoreAllMocks()
  await Promise.all([pgProxy.close(), redis.quit()])
})

const sql = (text: string, params: ReadonlyArray<unknown> = []) =>
  withSql(stores.databaseUrl, (s) => s.unsafe(text, params))

/** The app with its database behind the proxy, so the test can take the database away. */
const startViaProxy = () => {
  const pg = new URL(stores.databaseUrl)
  pg.port = String(pgProxy.port)
  return startAppPromise(testEnv(stores, { DATABASE_URL: pg.toString(), LOG_LEVEL: "warn" }))
}

const REFUSE_TRIGGER = [
  `CREATE OR REPLACE FUNCTION test_refuse_transition() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`,
  `CREATE TRIGGER test_refuse_transition BEFORE INSERT ON breaker_transition
    FOR EACH ROW EXECUTE FUNCTION test_refuse_transition()`
]
const DROP_TRIGGER = "DROP TRIGGER IF EXISTS test_refuse_transition ON breaker_transition"

const allowed = (state: string | undefined) => state === "OPEN" || state === "QUIET_PERIOD"

/** Every reader of the global scope, and whether each says trading is allowed. */
const makeReaders = async (app: App, admin: TestSession) => {
  const created = await admin.fetch("/api/v1/api-keys", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "execution service", scopes: ["VIEW_CIRCUIT_BREAKER"], expiresIn: "7d" })
  })
  const key = ((await created.json()) as { apiKey: string }).apiKey
  const byKey = () => fetch(`${app.baseUrl}/api/v1/breaker/global`, { headers: { authorization: `Bearer ${key}` } })
  const stream = await admin.fetch("/api/v1/breaker/stream")
  if (stream.body === null) throw new Error("no stream body")
  const events = sseEvents(stream.body)
  let streamed: string | undefined
  const follow = (async () => {
    for (;;) {
      const e = await events.waitFor("an event", () => true, 600_000)
      const data = e.data as {
        scopes?: Array<{ scope: string; state: string }>
        record?: { scope: string; state: string }
      }
      if (e.event === "snapshot") streamed = data.scopes?.find((s) => s.scope === "global")?.state
      else if (data.record?.scope === "global") streamed = data.record.state
    }
  })().catch(() => undefined)
  const read = async () => {
    const http = (await (await admin.fetch("/api/v1/breaker/global")).json()) as {
      state: string
      warning: string | null
    }
    await byKey() // the first read of a key verifies it; the next is the fast lane's
    const lane = (await (await byKey()).json()) as { state: string }
    const published = JSON.parse((await redis.get(`${stores.redisKeyPrefix}circuit_breaker:state`)) ?? "{}") as {
      state?: string
    }
    return {
      http: http.state,
      lane: lane.state,
      redis: published.state,
      stream: streamed,
      warning: http.warning
    }
  }
  /** Waits (at most a few verifier passes) until all readers say the same about trading. */
  const agree = (what: string, expectAllowed: boolean) =>
    waitFor(
      what,
      async () => {
        const r = await read()
        const verdicts = [r.http, r.lane, r.redis, r.stream].map(allowed)
        return verdicts.every((v) => v === expectAllowed) ? r : undefined
      },
      { timeoutMs: 8_000, intervalMs: 100 }
    )
  return { read, agree, close: () => Promise.all([events.close(), follow]) }
}

describe("breaker readers under faults", () => {
  it("a trip the database refuses stays tripped everywhere, is logged and shown, and a reset settles it", async () => {
    const app = await startViaProxy()
    try {
      const admin = await loginAsAdmin(app.baseUrl)
      const readers = await makeReaders(app, admin)
      await readers.agree("all readers OPEN at the start", true)

      // Fault 1: the database is lost; the trip is accepted, published and queued.
      await pgProxy.cut()
      const trip = await admin.fetch("/api/v1/breaker/global/trip", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ reason: "venue rejecting orders, halting now", acknowledge: true })
      })
      expect(trip.status).toBe(202)
      await readers.agree("all readers TRIPPED while the database is down", false)

      // Fault 2: the database returns but refuses to store the trip.
      for (const statement of REFUSE_TRIGGER) await sql(statement)
      await pgProxy.restore()
      const held = await waitFor(
        "the trip to be marked unsettled",
        async () => {
          const r = await readers.read()
          return r.warning?.includes("could not be written to the database") === true ? r : undefined
        },
        { timeoutMs: 10_000, intervalMs: 200 }
      )
      expect(held.warning).toMatch(/refused by the test/)
      const settled = await readers.agree("all readers still TRIPPED after the refusal", false)
      expect(settled).toMatchObject({ http: "TRIPPED", lane: "TRIPPED", redis: "TRIPPED", stream: "TRIPPED" })
      // It stays so, pass after pass (the truth in PostgreSQL says OPEN).
      await new Promise((resolve) => setTimeout(resolve, 2_500))
      expect(await readers.read()).toMatchObject({ http: "TRIPPED", lane: "TRIPPED", redis: "TRIPPED" })
      const errorLine = logged
        .join("")
        .split("\n")
        .find((line) => line.includes("an accepted trip cannot be written to the database"))
      expect(errorLine).toBeDefined()
      expect(JSON.parse(errorLine ?? "{}")).toMatchObject({ level: "error" })
      const page = await (await admin.fetch("/breaker")).text()
      expect(page).toContain("could not be written to the database")

      // The operator settles it with a normal, audited reset.
      await sql(DROP_TRIGGER)
      const reset = await admin.fetch("/api/v1/breaker/global/reset", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ reason: "venue fixed, the unstored trip reviewed", acknowledge: true })
      })
      expect(reset.status, await reset.clone().text()).toBe(200)
      await readers.agree("all readers allow trading after the reset", true)
      const [entry] = (await sql(
        "SELECT outcome, details FROM audit_log WHERE action = 'breaker.reset' ORDER BY id DESC LIMIT 1"
      )) as Array<{ outcome: string; details: Record<string, unknown> }>
      expect(entry?.outcome).toBe("success")
      const [transition] = (await sql(
        "SELECT details FROM breaker_transition WHERE scope = 'global' AND kind = 'reset' ORDER BY id DESC LIMIT 1"
      )) as Array<{ details: Record<string, unknown> }>
      expect(transition?.details.settles_unwritten_trip).toMatchObject({
        reason: "venue rejecting orders, halting now"
      })
      await readers.close()
    } finally {
      await sql(DROP_TRIGGER)
      await pgProxy.restore()
      await app.stop()
    }
  }, 60_000)

  it("after a restart, a published trip PostgreSQL never stored is written (its text made storable), and all readers agree", async () => {
    const [row] = (await sql("SELECT version FROM breaker_scope WHERE scope = 'global'")) as Array<{ version: string }>
    const version = Number(row?.version) + 5
    // What another process published while the database was down, with text PostgreSQL refuses.
    const record = {
      scope: "global",
      state: "TRIPPED",
      version,
      tripped_at: new Date().toISOString(),
      trip_reason: "halted from the other replica\u0000 with a NUL",
      trip_details: { note: "x\u0000y" },
      tripped_by: { type: "user", id: "00000000-0000-4000-8000-0000000000aa", name: "other replica user" },
      trip_source: "manual",
      reset_at: null,
      reset_by: null,
      quiet_until: null,
      trip_count_today: 1,
      updated_at: new Date().toISOString()
    }
    await redis.set(`${stores.redisKeyPrefix}circuit_breaker:state`, JSON.stringify(record))
    const app = await startViaProxy()
    try {
      const admin = await loginAsAdmin(app.baseUrl)
      const readers = await makeReaders(app, admin)
      await readers.agree("all readers TRIPPED after the restart", false)
      const stored = await waitFor(
        "the published trip to be stored",
        async () => {
          const rows = (await sql("SELECT state, trip_reason FROM breaker_scope WHERE scope = 'global'")) as Array<{
            state: string
            trip_reason: string
          }>
          return rows[0]?.state === "TRIPPED" ? rows[0] : undefined
        },
        { timeoutMs: 10_000, intervalMs: 200 }
      )
      expect(stored.trip_reason).toBe("halted from the other replica\ufffd with a NUL")
      expect((await readers.read()).warning).toBeNull()
      await readers.close()
    } finally {
      await app.stop()
    }
  }, 60_000)
})
