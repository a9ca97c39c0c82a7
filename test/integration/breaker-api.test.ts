/**
 * The circuit breaker's JSON API and event stream against the whole application (real PostgreSQL
 * and Redis): reads, trip and reset with their validation, permissions, the compare-and-set
 * conflict, four-eyes approval, the SSE snapshot and transition events, and the OpenAPI paths.
 */
import { Context } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { CircuitBreaker } from "../../src/core/contracts/circuit-breaker/service.ts"
import { FastLane } from "../../src/core/http/fast-lane.ts"
import { provided, startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores } from "../support/database.ts"
import { loginAsAdmin, loginAsNewUser, type TestSession } from "../support/session.ts"
import { sseEvents } from "../support/sse.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
let admin: TestSession

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
})

const REASON = "venue latency above the limit, halting while we check"

const send = (session: TestSession, method: string, path: string, body: unknown) =>
  session.fetch(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

const post = (session: TestSession, path: string, body: unknown) => send(session, "POST", path, body)

const createScope = async (scope: string) => {
  const res = await post(admin, "/api/v1/breaker/scopes", { scope })
  expect(res.status, await res.clone().text()).toBe(201)
}

const trip = (session: TestSession, scope: string, body: Record<string, unknown> = {}) =>
  post(session, `/api/v1/breaker/${scope}/trip`, { reason: REASON, acknowledge: true, ...body })

const reset = (session: TestSession, scope: string, body: Record<string, unknown> = {}) =>
  post(session, `/api/v1/breaker/${scope}/reset`, {
    reason: "latency back to normal, checked by the desk",
    acknowledge: true,
    ...body
  })

const view = async (scope: string) => {
  const res = await admin.fetch(`/api/v1/breaker/${scope}`)
  expect(res.status).toBe(200)
  return (await res.json()) as { state: string; effective_state: string; trading_allowed: boolean; version: number }
}

const issuePaths = async (res: Response) => {
  const body = (await res.json()) as { error: { issues?: ReadonlyArray<{ path: string }> } }
  return (body.error.issues ?? []).map((i) => i.path)
}

describe("breaker reads", () => {
  it("reads the global scope OPEN, uncached", async () => {
    const res = await admin.fetch("/api/v1/breaker")
    expect(res.status).toBe(200)
    expect(res.headers.get("cache-control")).toBe("no-store")
    const body = (await res.json()) as { state: string; scopes: Array<{ scope: string; state: string }> }
    expect(body.state).toBe("OPEN")
    expect(body.scopes[0]).toMatchObject({ scope: "global", state: "OPEN" })
    expect(await view("global")).toMatchObject({ state: "OPEN", effective_state: "OPEN", trading_allowed: true })
  })

  it("answers 404 for an unknown scope and 400 naming `scope` for a bad name", async () => {
    const missing = await admin.fetch("/api/v1/breaker/no-such-scope")
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("scope_not_found")
    const bad = await admin.fetch("/api/v1/breaker/Not%20A%20Scope")
    expect(bad.status).toBe(400)
    expect(await issuePaths(bad)).toContain("scope")
  })

  it("creates a named scope once (409 the second time)", async () => {
    await createScope("venue-created")
    expect(await view("venue-created")).toMatchObject({ state: "OPEN", effective_state: "OPEN" })
    const again = await post(admin, "/api/v1/breaker/scopes", { scope: "venue-created" })
    expect(again.status).toBe(409)
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("scope_exists")
    const reserved = await post(admin, "/api/v1/breaker/scopes", { scope: "stream" })
    expect(reserved.status).toBe(400)
    expect(await issuePaths(reserved)).toEqual(["scope"])
  })

  it("answers the history of a scope nobody created with 404, and of one another process created with its rows", async () => {
    const missing = await admin.fetch("/api/v1/breaker/no-such-scope/history")
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("scope_not_found")
    // Created behind this process' back (as another replica would): not yet in its memory.
    await testApp.query("INSERT INTO breaker_scope (scope, state, version) VALUES ('elsewhere', 'OPEN', 1)")
    const found = await admin.fetch("/api/v1/breaker/elsewhere/history")
    expect(found.status).toBe(200)
    expect(await found.json()).toMatchObject({ transitions: [] })
  })

  it("refuses a bad history page size naming `limit`", async () => {
    const res = await admin.fetch("/api/v1/breaker/global/history?limit=0")
    expect(res.status).toBe(400)
    expect(await issuePaths(res)).toContain("limit")
  })
})

describe("trip", () => {
  it("refuses a short reason naming `reason` and a missing or false acknowledgement naming `acknowledge`", async () => {
    await createScope("venue-validation")
    const short = await trip(admin, "venue-validation", { reason: "too short" })
    expect(short.status).toBe(400)
    expect(await issuePaths(short)).toEqual(["reason"])
    const blank = await trip(admin, "venue-validation", { reason: `   ${"x".repeat(5)}${" ".repeat(30)}` })
    expect(blank.status).toBe(400)
    expect(await issuePaths(blank)).toEqual(["reason"])
    const missing = await post(admin, "/api/v1/breaker/venue-validation/trip", { reason: REASON })
    expect(missing.status).toBe(400)
    expect(await issuePaths(missing)).toEqual(["acknowledge"])
    const declined = await trip(admin, "venue-validation", { acknowledge: false })
    expect(declined.status).toBe(400)
    expect(await issuePaths(declined)).toEqual(["acknowledge"])
    expect((await view("venue-validation")).state).toBe("OPEN")
  })

  it("trips a scope, records who and why in its history, and is idempotent", async () => {
    await createScope("venue-a")
    const res = await trip(admin, "venue-a", { details: { ticket: "OPS-1" } })
    expect(res.status, await res.clone().text()).toBe(200)
    const outcome = (await res.json()) as {
      record: { state: string; tripped_at: string; trip_reason: string; version: number }
      changed: boolean
      persisted: boolean
      published: boolean
    }
    expect(outcome).toMatchObject({ changed: true, persisted: true, published: true })
    expect(outcome.record).toMatchObject({ state: "TRIPPED", trip_reason: REASON })
    const tripped = await view("venue-a")
    expect(tripped).toMatchObject({ state: "TRIPPED", effective_state: "TRIPPED", trading_allowed: false })

    const history = await admin.fetch("/api/v1/breaker/venue-a/history")
    expect(history.status).toBe(200)
    const { transitions } = (await history.json()) as {
      transitions: Array<{ kind: string; to_state: string; reason: string; actor: { type: string; name: string } }>
    }
    expect(transitions[0]).toMatchObject({ kind: "trip", to_state: "TRIPPED", reason: REASON, actor: { type: "user" } })

    const again = await trip(admin, "venue-a")
    expect(again.status).toBe(200)
    const repeated = (await again.json()) as typeof outcome
    expect(repeated.changed).toBe(false)
    expect(repeated.record.tripped_at).toBe(outcome.record.tripped_at)
  })

  it("is refused to a viewer (403), who may still read", async () => {
    const viewer = await loginAsNewUser(testApp.app, { email: "breaker-viewer@test.local", role: "viewer" })
    expect((await viewer.fetch("/api/v1/breaker")).status).toBe(200)
    const res = await trip(viewer, "global")
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden")
    expect((await view("global")).state).toBe("OPEN")
  })
})

describe("reset", () => {
  it("moves a tripped scope into its quiet period; a second reset is refused with 409", async () => {
    await createScope("venue-b")
    expect((await trip(admin, "venue-b")).status).toBe(200)
    const res = await reset(admin, "venue-b")
    expect(res.status, await res.clone().text()).toBe(200)
    const outcome = (await res.json()) as { kind: string; record: { state: string; quiet_until: string | null } }
    expect(outcome.kind).toBe("reset")
    expect(outcome.record.state).toBe("QUIET_PERIOD")
    expect(outcome.record.quiet_until).not.toBeNull()
    expect(await view("venue-b")).toMatchObject({ state: "QUIET_PERIOD", trading_allowed: true })
    const second = await reset(admin, "venue-b")
    expect(second.status).toBe(409)
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe("not_tripped")
  })

  it("refuses a reset whose expected version is stale (409 version_conflict)", async () => {
    await createScope("venue-c")
    const tripped = (await (await trip(admin, "venue-c")).json()) as { record: { version: number } }
    const stale = await reset(admin, "venue-c", { version: tripped.record.version - 1 })
    expect(stale.status).toBe(409)
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe("version_conflict")
    expect((await view("venue-c")).state).toBe("TRIPPED")
  })

  it("needs a second operator when two approvals are required", async () => {
    const invalid = await send(admin, "PUT", "/api/v1/breaker/settings", { reset_approvals: 3 })
    expect(invalid.status).toBe(400)
    expect(await issuePaths(invalid)).toEqual(["reset_approvals"])
    const settings = await send(admin, "PUT", "/api/v1/breaker/settings", { reset_approvals: 2 })
    expect(settings.status, await settings.clone().text()).toBe(200)
    try {
      const current = (await (await admin.fetch("/api/v1/breaker/settings")).json()) as { reset_approvals: number }
      expect(current.reset_approvals).toBe(2)
      await createScope("venue-d")
      expect((await trip(admin, "venue-d")).status).toBe(200)
      const requested = await reset(admin, "venue-d")
      expect(requested.status, await requested.clone().text()).toBe(202)
      const { request } = (await requested.json()) as { kind: string; request: { id: string; status: string } }
      expect(request.status).toBe("pending")
      const pending = (await (await admin.fetch("/api/v1/breaker/approvals")).json()) as {
        requests: Array<{ id: string }>
      }
      expect(pending.requests.map((r) => r.id)).toContain(request.id)
      expect((await view("venue-d")).state).toBe("TRIPPED")

      const approvePath = `/api/v1/breaker/venue-d/approvals/${request.id}/approve`
      const own = await post(admin, approvePath, { acknowledge: true })
      expect(own.status).toBe(403)
      expect(((await own.json()) as { error: { code: string } }).error.code).toBe("approval_refused")

      const operator = await loginAsNewUser(testApp.app, { email: "breaker-operator@test.local", role: "operator" })
      const approved = await post(operator, approvePath, { acknowledge: true })
      expect(approved.status, await approved.clone().text()).toBe(200)
      expect(((await approved.json()) as { kind: string }).kind).toBe("reset")
      expect((await view("venue-d")).state).toBe("QUIET_PERIOD")
    } finally {
      await send(admin, "PUT", "/api/v1/breaker/settings", { reset_approvals: 1 })
    }
  })
})

describe("event stream", () => {
  it("sends a snapshot, then a transition event after a trip", async () => {
    await createScope("venue-stream")
    const res = await fetch(`${testApp.app.baseUrl}/api/v1/breaker/stream`, { headers: { cookie: admin.cookie } })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toContain("text/event-stream")
    // Authenticated answers are never stored, event streams included.
    expect(res.headers.get("cache-control")).toBe("no-store")
    if (res.body === null) throw new Error("no body")
    const events = sseEvents(res.body)
    try {
      const snapshot = await events.waitFor("snapshot", (e) => e.event === "snapshot")
      const scopes = (snapshot.data as { scopes: Array<{ scope: string; state: string }> }).scopes
      expect(scopes.find((s) => s.scope === "venue-stream")?.state).toBe("OPEN")

      expect((await trip(admin, "venue-stream")).status).toBe(200)
      const transition = await events.waitFor(
        "venue-stream transition",
        (e) => e.event === "transition" && (e.data as { record: { scope: string } }).record.scope === "venue-stream"
      )
      expect(transition.data).toMatchObject({
        type: "transition",
        transition: { kind: "trip", to_state: "TRIPPED" },
        record: { state: "TRIPPED" }
      })
    } finally {
      await events.close()
    }
    // The server still answers after the client went away.
    expect((await admin.fetch("/api/v1/breaker/global")).status).toBe(200)
  })

  it("ends when the application shuts down, so an open stream does not hold up the drain", async () => {
    const stores = await createTestStores()
    const app = await startAppPromise(testEnv(stores))
    const session = await loginAsAdmin(app.baseUrl)
    const res = await fetch(`${app.baseUrl}/api/v1/breaker/stream`, { headers: { cookie: session.cookie } })
    if (res.body === null) throw new Error("no body")
    const events = sseEvents(res.body)
    await events.waitFor("snapshot", (e) => e.event === "snapshot")
    const started = performance.now()
    await app.stop()
    // The grace period is 10 s; the stream must not make the stop wait for it.
    expect(performance.now() - started).toBeLessThan(3_000)
    await expect(events.waitFor("more", () => true)).rejects.toThrow("ended")
  })

  it("is not served to a caller without credentials", async () => {
    const res = await fetch(`${testApp.app.baseUrl}/api/v1/breaker/stream`)
    expect(res.status).toBe(401)
  })
})

describe("the fast lane for API-key reads", () => {
  const newKey = async (name: string) => {
    const res = await post(admin, "/api/v1/api-keys", { name, scopes: ["VIEW_CIRCUIT_BREAKER"], expiresIn: "1d" })
    expect(res.status).toBe(201)
    return (await res.json()) as { apiKey: string; key: { id: string } }
  }
  const read = (apiKey: string, scope: string) =>
    fetch(`${testApp.app.baseUrl}/api/v1/breaker/${scope}`, { headers: { authorization: `Bearer ${apiKey}` } })

  it("answers a verified key exactly as the normal path does, follows changes, and stops at revocation", async () => {
    await createScope("venue-fast")
    const { apiKey, key } = await newKey("fast-lane")
    // The first read verifies the key (normal path); the next ones may come from the fast lane.
    const first = await read(apiKey, "venue-fast")
    const second = await read(apiKey, "venue-fast")
    expect([first.status, second.status]).toEqual([200, 200])
    for (const res of [first, second]) {
      expect(res.headers.get("content-type")).toContain("application/json")
      expect(res.headers.get("cache-control")).toBe("no-store")
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/)
    }
    const { as_of: _a, ...one } = (await first.json()) as Record<string, unknown>
    const { as_of: _b, ...two } = (await second.json()) as Record<string, unknown>
    expect(two).toEqual(one)
    // The lane is installed and can answer this scope from memory (it would otherwise fall through unseen).
    expect(Context.get(testApp.app.context, FastLane).handler).toBeDefined()
    const { as_of: _c, ...inMemory } = provided(testApp.app, CircuitBreaker).readNow("venue-fast") ?? {}
    expect(inMemory).toEqual(one)

    expect((await trip(admin, "venue-fast")).status).toBe(200)
    expect(((await (await read(apiKey, "venue-fast")).json()) as { state: string }).state).toBe("TRIPPED")
    // Unknown scopes are left to the normal path: 404 with the error body.
    expect((await read(apiKey, "no-such-scope")).status).toBe(404)

    expect((await post(admin, `/api/v1/api-keys/${key.id}/revoke`, {})).status).toBe(200)
    expect((await read(apiKey, "venue-fast")).status).toBe(401)
  })
})

describe("OpenAPI", () => {
  it("describes the breaker paths with their permissions", async () => {
    const doc = (await (await fetch(`${testApp.app.baseUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { "x-permission"?: string; requestBody?: unknown }>>
    }
    expect(doc.paths["/api/v1/breaker"]?.get?.["x-permission"]).toBe("VIEW_CIRCUIT_BREAKER")
    expect(doc.paths["/api/v1/breaker/{scope}"]?.get).toBeDefined()
    expect(doc.paths["/api/v1/breaker/{scope}/trip"]?.post?.["x-permission"]).toBe("TRIP_CIRCUIT_BREAKER")
    expect(doc.paths["/api/v1/breaker/{scope}/trip"]?.post?.requestBody).toBeDefined()
    expect(doc.paths["/api/v1/breaker/{scope}/reset"]?.post?.["x-permission"]).toBe("RESET_CIRCUIT_BREAKER")
    expect(doc.paths["/api/v1/breaker/{scope}/history"]?.get).toBeDefined()
    expect(doc.paths["/api/v1/breaker/stream"]?.get).toBeDefined()
    expect(doc.paths["/api/v1/breaker/approvals"]?.get).toBeDefined()
    expect(doc.paths["/api/v1/breaker/{scope}/approvals/{id}/approve"]?.post).toBeDefined()
    expect(doc.paths["/api/v1/breaker/scopes"]?.post?.["x-permission"]).toBe("MANAGE_SYSTEM_CONFIG")
    expect(doc.paths["/api/v1/breaker/settings"]?.put?.["x-permission"]).toBe("MANAGE_SYSTEM_CONFIG")
  })
})
