/**
 * Profiling for administrators (src/plugins/diagnostics/): a CPU profile and a heap snapshot in
 * the formats Chrome DevTools opens, one capture at a time (409), heap snapshots spaced out (429),
 * admin only (403 for viewer and operator), bad input a 400 naming the field, every capture
 * audited with who, what, how long and how big, and the console's forms answering with the file.
 */
import { readdir } from "node:fs/promises"
import { tmpdir } from "node:os"
import { describe, expect, it } from "vitest"
import { loginAsAdmin, loginAsNewUser, type TestSession } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()

interface AuditRow {
  readonly action: string
  readonly actor_id: string
  readonly actor_name: string
  readonly outcome: string
  readonly resource_type: string
  readonly details: Record<string, unknown>
}

const captures = () =>
  testApp.query<AuditRow>(
    "SELECT action, actor_id, actor_name, outcome, resource_type, details FROM audit_log WHERE action LIKE 'diagnostics.%' ORDER BY id"
  )

const post = (session: TestSession, path: string) => session.fetch(path, { method: "POST" })

/** Snapshot files waiting for their download (src/plugins/diagnostics/service.ts). */
const snapshotDirs = async () => (await readdir(tmpdir())).filter((name) => name.startsWith("breakwater-heap-"))

const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string; issues?: Array<{ path: string }> } }).error

describe("diagnostics", () => {
  it("captures a CPU profile that Chrome DevTools can load, audited with its duration and size", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const response = await post(admin, "/api/v1/diagnostics/cpu-profile?seconds=1")
    expect(response.status).toBe(200)
    expect(response.headers.get("content-disposition")).toMatch(/attachment; filename="breakwater-.+\.cpuprofile"/)
    expect(response.headers.get("cache-control")).toBe("no-store")
    const text = await response.text()
    const profile = JSON.parse(text) as {
      nodes: Array<{ id: number; callFrame: { functionName: string } }>
      samples: Array<number>
      startTime: number
      endTime: number
      timeDeltas: Array<number>
    }
    expect(profile.nodes.length).toBeGreaterThan(0)
    expect(Array.isArray(profile.samples)).toBe(true)
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(900_000) // microseconds
    expect(profile.timeDeltas.length).toBe(profile.samples.length)
    const [entry] = (await captures()).filter((c) => c.action === "diagnostics.cpu_profile")
    expect(entry).toMatchObject({ outcome: "success", actor_name: "Administrator", resource_type: "process" })
    expect(entry?.details).toMatchObject({ seconds: 1, bytes: Buffer.byteLength(text), pid: expect.any(Number) })
    expect(entry?.details.durationMs).toBeGreaterThanOrEqual(1000)
  })

  it("streams a heap snapshot that parses, then refuses another within the cooldown (429)", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const response = await post(admin, "/api/v1/diagnostics/heap-snapshot")
    expect(response.status).toBe(200)
    expect(response.headers.get("content-disposition")).toMatch(/attachment; filename="breakwater-.+\.heapsnapshot"/)
    const length = Number(response.headers.get("content-length"))
    const body = Buffer.from(await response.arrayBuffer())
    expect(body.length).toBe(length)
    const snapshot = JSON.parse(body.toString("utf8")) as {
      snapshot: { meta: { node_fields: Array<string> }; node_count: number }
      nodes: Array<number>
      strings: Array<string>
    }
    expect(snapshot.snapshot.meta.node_fields).toContain("name")
    expect(snapshot.nodes.length).toBe(snapshot.snapshot.node_count * snapshot.snapshot.meta.node_fields.length)
    expect(snapshot.strings.length).toBeGreaterThan(0)
    const entry = (await captures()).find((c) => c.action === "diagnostics.heap_snapshot")
    expect(entry).toMatchObject({ outcome: "success", actor_name: "Administrator" })
    expect(entry?.details).toMatchObject({ bytes: length })
    expect(typeof entry?.details.durationMs).toBe("number")

    // The file the snapshot was streamed from is gone once the download ended.
    await expect.poll(snapshotDirs, { timeout: 5_000 }).toEqual([])

    const again = await post(admin, "/api/v1/diagnostics/heap-snapshot")
    expect(again.status).toBe(429)
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0)
    expect((await errorOf(again)).code).toBe("capture_cooling_down")
  }, 60_000)

  it("refuses a second capture while one runs (409, naming it), and does not audit the refusal", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const before = (await captures()).length
    const first = post(admin, "/api/v1/diagnostics/cpu-profile?seconds=2")
    await new Promise((resolve) => setTimeout(resolve, 300))
    const second = await post(admin, "/api/v1/diagnostics/cpu-profile?seconds=1")
    expect(second.status).toBe(409)
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0)
    const error = await errorOf(second)
    expect(error.code).toBe("capture_in_progress")
    expect(error.message).toMatch(/a CPU profile started by Administrator at .* is still running/)
    // The console form says so on the page, next to the form.
    const page = await admin.postForm("/admin/diagnostics/cpu-profile", { seconds: "1" })
    expect(page.status).toBe(409)
    expect(await page.text()).toMatch(/id="cpu-profile-error"[^>]*>a CPU profile started by Administrator/)
    expect((await first).status).toBe(200)
    expect((await captures()).length).toBe(before + 1)
  })

  it("stops the profiler and audits a failure when the caller goes away; the next capture may start", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const abandoned = new AbortController()
    const request = admin
      .fetch("/api/v1/diagnostics/cpu-profile?seconds=30", { method: "POST", signal: abandoned.signal })
      .catch((e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 500))
    abandoned.abort()
    await request
    await expect
      .poll(async () => (await captures()).filter((c) => c.outcome === "failure").map((c) => c.details.seconds), {
        timeout: 5_000
      })
      .toEqual([30])
    const [failure] = (await captures()).filter((c) => c.outcome === "failure")
    expect(failure?.details.durationMs).toBeLessThan(10_000)
    expect((await post(admin, "/api/v1/diagnostics/cpu-profile?seconds=1")).status).toBe(200)
  })

  it("answers bad input with 400 naming the field, on the API and on the page (form kept)", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    for (const query of ["", "?seconds=0", "?seconds=61", "?seconds=1.5", "?seconds=abc", "?seconds=%00"]) {
      const response = await post(admin, `/api/v1/diagnostics/cpu-profile${query}`)
      expect(response.status, query).toBe(400)
      expect((await errorOf(response)).issues?.map((i) => i.path)).toContain("seconds")
    }
    const page = await admin.postForm("/admin/diagnostics/cpu-profile", { seconds: "90" })
    expect(page.status).toBe(400)
    const text = await page.text()
    expect(text).toContain("must be a whole number of seconds from 1 to 60")
    expect(text).toMatch(/id="cpu-seconds" name="seconds" value="90"/)
  })

  it("is for administrators only: viewer and operator get 403 and see no menu entry", async () => {
    for (const role of ["viewer", "operator"] as const) {
      const session = await loginAsNewUser(testApp.app, { email: `${role}-diag@test.local`, role })
      expect((await post(session, "/api/v1/diagnostics/cpu-profile?seconds=1")).status).toBe(403)
      expect((await post(session, "/api/v1/diagnostics/heap-snapshot")).status).toBe(403)
      expect((await session.fetch("/admin/diagnostics")).status).toBe(403)
      const dashboard = await (await session.fetch("/")).text()
      expect(dashboard).not.toContain('href="/admin/diagnostics"')
    }
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const page = await admin.fetch("/admin/diagnostics")
    expect(page.status).toBe(200)
    const text = await page.text()
    expect(text).toContain('href="/admin/diagnostics"')
    expect(text).toContain('id="diagnostics-captures"')
  })

  it("the console's form answers with the file, and the OpenAPI describes the routes", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const response = await admin.postForm("/admin/diagnostics/cpu-profile", { seconds: "1" })
    expect(response.status).toBe(200)
    expect(response.headers.get("content-disposition")).toContain(".cpuprofile")
    expect(JSON.parse(await response.text())).toHaveProperty("nodes")
    const openapi = (await (await admin.fetch("/api/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, { "x-permission"?: string; parameters?: Array<{ name: string }> }>>
    }
    const cpu = openapi.paths["/api/v1/diagnostics/cpu-profile"]?.post
    expect(cpu?.["x-permission"]).toBe("PROFILE_SYSTEM")
    expect(cpu?.parameters?.map((p) => p.name)).toContain("seconds")
    expect(openapi.paths["/api/v1/diagnostics/heap-snapshot"]?.post?.["x-permission"]).toBe("PROFILE_SYSTEM")
  })
})
