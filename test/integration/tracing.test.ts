/**
 * Span export over OTLP/HTTP: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, HTTP request spans (with
 * their route) and SQL statement spans reach `<endpoint>/v1/traces`; without it, nothing is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../support/otlp-receiver.ts"
import { sleep, waitFor } from "../support/processes.ts"
import { loginAsAdmin } from "../support/session.ts"

/** OTLP span kinds. */
const SERVER = 2
const CLIENT = 3

let stores: TestStores
const receivers: Array<OtlpReceiver> = []
const apps: Array<{ readonly stop: () => Promise<void> }> = []

const receiver = async () => {
  const r = await startOtlpReceiver()
  receivers.push(r)
  return r
}

beforeAll(async () => {
  stores = await createTestStores()
})
afterAll(async () => {
  for (const app of apps.splice(0)) await app.stop()
  for (const r of receivers.splice(0)) await r.close()
})

const requestSpan = (spans: ReadonlyArray<ReceivedSpan>, route: string) =>
  spans.find((s) => s.kind === SERVER && s.attributes["http.route"] === route)

describe("tracing", () => {
  // First, so that nothing another app in this worker set up globally could make it pass or fail.
  it("exports nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset", async () => {
    const sink = await receiver()
    const app = await startAppPromise(testEnv(stores))
    apps.push(app)
    const admin = await loginAsAdmin(app.baseUrl)
    expect((await admin.fetch("/about")).status).toBe(200)
    expect((await fetch(`${app.baseUrl}/readyz`)).status).toBe(200)
    // The batch processor would have flushed several times (every 500 ms) by now.
    await sleep(2_000)
    expect(sink.requests()).toEqual([])
    expect(sink.spans()).toEqual([])
  }, 60_000)

  it("exports HTTP request spans with their route, and SQL statement spans, to <endpoint>/v1/traces", async () => {
    const sink = await receiver()
    const app = await startAppPromise(testEnv(stores, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }))
    apps.push(app)
    const admin = await loginAsAdmin(app.baseUrl)
    expect((await admin.fetch("/about")).status).toBe(200)
    // /about renders from memory; /readyz runs `SELECT 1` inside the request.
    expect((await fetch(`${app.baseUrl}/readyz`)).status).toBe(200)

    const about = await waitFor("the span of GET /about", async () => requestSpan(sink.spans(), "/about"), {
      timeoutMs: 10_000,
      intervalMs: 100
    })
    expect(sink.requests().every((r) => r.path === "/v1/traces" && r.contentType.startsWith("application/json"))).toBe(
      true
    )
    expect(about.resource).toMatchObject({ "service.name": "breakwater" })
    expect(typeof about.resource["service.version"]).toBe("string")
    expect(about.parentSpanId).toBeUndefined()
    expect(about.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(about.attributes).toMatchObject({
      "http.route": "/about",
      "http.request.method": "GET",
      "url.path": "/about",
      "http.response.status_code": 200
    })

    const { readyz, statement } = await waitFor(
      "the span of GET /readyz and its SQL statement",
      async () => {
        const spans = sink.spans()
        const readyz = requestSpan(spans, "/readyz")
        const statement = spans.find(
          (s) =>
            s.kind === CLIENT &&
            s.traceId === readyz?.traceId &&
            s.parentSpanId === readyz.spanId &&
            s.attributes["db.system.name"] === "postgresql"
        )
        return readyz !== undefined && statement !== undefined ? { readyz, statement } : undefined
      },
      { timeoutMs: 10_000, intervalMs: 100 }
    )
    expect(readyz.attributes["http.response.status_code"]).toBe(200)
    // @effect/sql-pg names a statement span after its target (db.namespace), else db.system.name.
    expect(statement.name).toBe(statement.attributes["db.namespace"])
    expect(statement.attributes).toMatchObject({ "db.query.text": "SELECT 1", "effect.sql.method": "execute" })
    // Every SQL statement the app ran (migrations check, installation row, sampler) is a client span too.
    const sql = sink.spans().filter((s) => s.attributes["db.system.name"] === "postgresql" && s.kind === CLIENT)
    expect(sql.length).toBeGreaterThan(1)
    expect(sql.every((s) => typeof s.attributes["db.query.text"] === "string")).toBe(true)
  }, 60_000)
})
