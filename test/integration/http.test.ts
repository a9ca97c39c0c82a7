import { beforeAll, describe, expect, it } from "vitest"
import { hashSessionId } from "../../src/core/auth/sessions.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
let admin: TestSession

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
})

describe("probes", () => {
  it("GET /healthz answers 200", async () => {
    const res = await fetch(`${testApp.app.baseUrl}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: "ok" })
  })

  it("GET /readyz shows an anonymous caller each dependency's status only", async () => {
    const res = await fetch(`${testApp.app.baseUrl}/readyz`)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.status).toBe("ready")
    for (const name of ["database", "redis", "fibers"])
      expect(Object.keys(body.checks[name]).sort(), name).toEqual(["critical", "latencyMs", "status"])
    expect(body.checks.database).toMatchObject({ status: "up", critical: true })
    // Hosts, database names and error texts are for signed-in operators.
    expect(JSON.stringify(body)).not.toContain(testApp.stores.databaseName)
  })

  it("GET /readyz names each dependency and its details to a signed-in operator", async () => {
    const res = await admin.fetch("/readyz")
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.status).toBe("ready")
    expect(body.checks.database).toMatchObject({ status: "up", critical: true, details: { mode: "external" } })
    expect(body.checks.redis).toMatchObject({ status: "up", critical: false, details: { mode: "redis" } })
    expect(body.checks.fibers.details["system.sampler"]).toMatchObject({ state: "running", restarts: 0 })
    expect(typeof body.checks.database.latencyMs).toBe("number")
  })

  it("GET /metrics serves Prometheus text with process and module metrics", async () => {
    await fetch(`${testApp.app.baseUrl}/healthz`)
    const res = await fetch(`${testApp.app.baseUrl}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toContain("text/plain")
    const text = await res.text()
    expect(text).toContain("process_cpu_user_seconds_total")
    expect(text).toContain('breakwater_fiber_restarts_total{fiber="system.sampler"} 0')
    expect(text).toMatch(/breakwater_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/)
  })
})

describe("request pipeline", () => {
  it("gives every response a request id, and keeps a well-formed one it was given", async () => {
    const fresh = await fetch(`${testApp.app.baseUrl}/healthz`)
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/)
    const kept = await fetch(`${testApp.app.baseUrl}/healthz`, { headers: { "x-request-id": "abc-123" } })
    expect(kept.headers.get("x-request-id")).toBe("abc-123")
    const replaced = await fetch(`${testApp.app.baseUrl}/healthz`, { headers: { "x-request-id": "<script>" } })
    expect(replaced.headers.get("x-request-id")).not.toBe("<script>")
  })

  it("answers an unknown page with a 404 page, and an unknown API route with 404 JSON", async () => {
    const page = await fetch(`${testApp.app.baseUrl}/no/such/page`, { headers: { accept: "text/html" } })
    expect(page.status).toBe(404)
    expect(page.headers.get("content-type")).toContain("text/html")
    const html = await page.text()
    expect(html).toContain("404 · Not found")
    expect(html).toContain(page.headers.get("x-request-id"))
    const api = await fetch(`${testApp.app.baseUrl}/api/v1/nothing`)
    expect(api.status).toBe(404)
    const body = await api.json()
    expect(body.error).toMatchObject({ code: "not_found", requestId: api.headers.get("x-request-id") })
  })

  it("serves htmx and the stylesheets with cache headers and ETags", async () => {
    for (const path of ["/assets/htmx.min.js", "/assets/pico.classless.min.css", "/assets/app.css"]) {
      const res = await fetch(`${testApp.app.baseUrl}${path}`)
      expect(res.status).toBe(200)
      expect(res.headers.get("cache-control")).toContain("max-age=")
      const etag = res.headers.get("etag")
      expect(etag).toBeTruthy()
      const again = await fetch(`${testApp.app.baseUrl}${path}`, { headers: { "if-none-match": etag ?? "" } })
      expect(again.status).toBe(304)
    }
    const htmx = await (await fetch(`${testApp.app.baseUrl}/assets/htmx.min.js`)).text()
    expect(htmx).toContain("htmx")
  })

  it("does not look up the session of a signed-in browser fetching an asset", async () => {
    const session = await loginAsAdmin(testApp.app.baseUrl)
    const idHash = hashSessionId(session.cookie.slice(session.cookie.indexOf("=") + 1))
    const lastSeen = async () =>
      (await testApp.query<{ last_seen_at: Date }>("SELECT last_seen_at FROM sessions WHERE id_hash = $1", [idHash]))[0]
        ?.last_seen_at
    // A session lookup refreshes `last_seen_at` once it is a minute old: make it so.
    await testApp.query("UPDATE sessions SET last_seen_at = now() - interval '2 minutes' WHERE id_hash = $1", [idHash])
    const before = await lastSeen()
    expect((await session.fetch("/assets/app.css")).status).toBe(200)
    expect((await session.fetch("/healthz")).status).toBe(200)
    expect(await lastSeen()).toEqual(before)
    expect((await session.fetch("/about")).status).toBe(200)
    expect((await lastSeen())?.getTime()).toBeGreaterThan(before?.getTime() ?? Number.POSITIVE_INFINITY)
  })
})

describe("system module", () => {
  it("shows the About page with version, modes and fibers", async () => {
    const res = await admin.fetch("/about")
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain("PostgreSQL")
    expect(html).toMatch(/data-field="redis-mode">Redis</)
    expect(html).toContain('data-fiber="system.sampler"')
    expect(html).toContain('<a href="/about" aria-current="page">About</a>')
  })

  it("serves the same facts as JSON", async () => {
    const res = await admin.fetch("/api/v1/system")
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body).toMatchObject({ database: { mode: "external" }, redis: { mode: "redis" } })
    expect(body.installationId).toMatch(/^[0-9a-f-]{36}$/)
    expect(body.fibers.map((f: { name: string }) => f.name)).toContain("system.sampler")
  })

  it("renders the dashboard with each component's status", async () => {
    const html = await (await admin.fetch("/")).text()
    expect(html).toContain('data-check="database"')
    expect(html).toContain('data-check="redis"')
    expect(html).toContain('hx-get="/dashboard/status"')
    const fragment = await (await admin.fetch("/dashboard/status")).text()
    expect(fragment.startsWith('<section id="dashboard-status"')).toBe(true)
  })
})
