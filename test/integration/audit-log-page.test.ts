/**
 * The Audit Log page (src/plugins/audit-log/): filters by actor, action and a time range read in
 * the viewer's time zone; bad input marked at its field with the form kept (400, not an error
 * page); people by name with their id on hover; the CSV export with the same filters; and an
 * anonymous page load that is only sent to sign in is not recorded as a denial (API 401s and
 * signed-in 403s still are).
 */
import { beforeAll, describe, expect, it } from "vitest"
import { loginAsAdmin, loginAsNewUser, type TestSession } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
let admin: TestSession
let vera: TestSession & { readonly user: { readonly id: string } }

/** Entries with chosen times, actors and actions, besides what the app itself records. */
const seed = async () => {
  const rows: ReadonlyArray<readonly [string, string, string, string, string]> = [
    // occurred_at (UTC), actor type, actor id, actor name, action
    ["2026-03-01T08:30:00Z", "user", vera.user.id, "Vera Viewer", "report.read"],
    ["2026-03-01T09:30:00Z", "user", vera.user.id, "Vera Viewer", "report.export"],
    ["2026-03-01T10:30:00Z", "system", "system:cron", "cron", "report.read"],
    ["2026-07-01T09:30:00Z", "user", vera.user.id, "Vera Viewer", "report.read"]
  ]
  for (const [at, type, id, name, action] of rows)
    await testApp.query(
      `INSERT INTO audit_log (occurred_at, actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome)
       VALUES ($1::timestamptz, $2, $3, $4, $5, 'user', $6, 'success')`,
      [at, type, id, name, action, vera.user.id]
    )
}

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
  vera = await loginAsNewUser(testApp.app, { email: "vera@test.local", role: "viewer" })
  await testApp.query("UPDATE users SET display_name = 'Vera Viewer' WHERE id = $1", [vera.user.id])
  await seed()
})

const pageOf = async (query: string) => {
  const response = await admin.fetch(`/audit${query}`)
  return { status: response.status, text: await response.text() }
}

/** The entries' times shown, as their `datetime` attributes. */
const timesOf = (text: string) => [...text.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1])

describe("the Audit Log page", () => {
  it("offers the actors (people by name) and the actions that exist, and shows names with ids on hover", async () => {
    const { status, text } = await pageOf("?action=report.*")
    expect(status).toBe(200)
    expect(text).toMatch(new RegExp(`<option value="${vera.user.id}">Vera Viewer \\(vera@test.local\\)</option>`))
    expect(text).toContain('<option value="system:cron">cron</option>')
    expect(text).toContain('<option value="report.export">report.export</option>')
    expect(text).toContain('<option value="report.*" selected>every report.* action</option>')
    // The actor by name, the id on hover; a user as the resource, by name too.
    expect(text).toContain(`<span class="named" title="user ${vera.user.id}">Vera Viewer</span>`)
    expect(text).toMatch(/user <span class="named" title="user [^"]+">Vera Viewer<\/span>/)
    // UTC in the markup, for the script to show in the viewer's zone (UTC stays on hover).
    expect(text).toContain('<time datetime="2026-07-01T09:30:00.000Z" title="2026-07-01 09:30:00 UTC" data-local>')
  })

  it("filters by actor, action and a time range in the viewer's time zone", async () => {
    const byActor = await pageOf(`?actor=${vera.user.id}&action=report.read`)
    expect(timesOf(byActor.text)).toEqual(["2026-07-01T09:30:00.000Z", "2026-03-01T08:30:00.000Z"])
    // 10:00 to 11:00 in Berlin (UTC+1 in March) is 09:00 to 10:00 UTC.
    const berlin = await pageOf("?action=report.*&from=2026-03-01T10:00&to=2026-03-01T11:00&tz=Europe%2FBerlin")
    expect(berlin.status).toBe(200)
    expect(timesOf(berlin.text)).toEqual(["2026-03-01T09:30:00.000Z"])
    // The pickers show the range as given, in its zone, and the zone is said.
    expect(berlin.text).toContain('id="audit-from" name="from" value="2026-03-01T10:00"')
    expect(berlin.text).toContain("Times are in Europe/Berlin.")
    // Without a zone the pickers are UTC; an ISO time with its own offset is read as such.
    expect(timesOf((await pageOf("?action=report.*&from=2026-03-01T10:00&to=2026-03-02T00:00")).text)).toEqual([
      "2026-03-01T10:30:00.000Z"
    ])
    const iso = await pageOf("?action=report.*&from=2026-03-01T09:00:00%2B01:00&to=2026-03-01T10:00:00Z")
    expect(timesOf(iso.text)).toEqual(["2026-03-01T09:30:00.000Z", "2026-03-01T08:30:00.000Z"])
    expect(iso.text).toContain('value="2026-03-01T08:00"')
  })

  it("shows bad input at its field and keeps the form, instead of an error page", async () => {
    const bad = await pageOf(`?actor=${vera.user.id}&outcome=maybe&from=yesterday&tz=Mars%2FOlympus`)
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('id="audit-filters-error"')
    expect(bad.text).toMatch(
      /id="audit-from-error" class="field-error">must be a date and time such as 2026-11-28T09:30 \(given: yesterday\)/
    )
    expect(bad.text).toMatch(/id="audit-outcome-error"/)
    expect(bad.text).toContain("tz must be a time zone such as Europe/London or UTC")
    // The form as it was sent; no entries until the filters are fixed.
    expect(bad.text).toContain(`<option value="${vera.user.id}" selected>`)
    expect(bad.text).toContain('id="audit-invalid"')
    expect(bad.text).not.toContain('id="audit-entries"')
    expect(bad.text).toContain("<h1>Audit Log</h1>")

    const reversed = await pageOf("?from=2026-03-02T00:00&to=2026-03-01T00:00")
    expect(reversed.status).toBe(400)
    expect(reversed.text).toMatch(/id="audit-to-error" class="field-error">must be later than From/)
    expect(reversed.text).toContain('id="audit-to" name="to" value="2026-03-01T00:00"')
  })

  it("exports CSV with the same filters, time zone included", async () => {
    const response = await admin.fetch(
      "/audit/export.csv?action=report.*&from=2026-03-01T10:00&to=2026-03-01T12:00&tz=Europe%2FBerlin"
    )
    expect(response.status).toBe(200)
    const lines = (await response.text()).trim().split("\r\n")
    expect(lines).toHaveLength(3)
    expect(lines[1]).toContain("2026-03-01T10:30:00.000Z")
    expect(lines[2]).toContain("2026-03-01T09:30:00.000Z")
    // The page's export link carries the filters.
    const { text } = await pageOf("?action=report.*&tz=Europe%2FBerlin")
    expect(text).toContain('href="/audit/export.csv?action=report.*&amp;tz=Europe%2FBerlin"')
    const bad = await admin.fetch("/audit/export.csv?from=nope", { headers: { accept: "application/json" } })
    expect(bad.status).toBe(400)
  })
})

describe("denials in the audit log", () => {
  const deniedWith = async (requestId: string) =>
    testApp.query<{ actor_type: string; outcome: string }>(
      "SELECT actor_type, outcome FROM audit_log WHERE action = 'authz_denied' AND request_id = $1",
      [requestId]
    )

  it("does not record an anonymous page load that is sent to sign in", async () => {
    for (const [path, id] of [
      ["/audit", "anon-page-1"],
      ["/admin/api-keys", "anon-page-2"],
      ["/admin/diagnostics", "anon-page-3"]
    ] as const) {
      const response = await fetch(`${testApp.app.baseUrl}${path}`, {
        redirect: "manual",
        headers: { "x-request-id": id, accept: "text/html" }
      })
      expect(response.status).toBe(303)
      expect(response.headers.get("location")).toMatch(/^\/login/)
      expect(await deniedWith(id)).toEqual([])
    }
    // An expired or unknown session cookie is the same visit.
    const stale = await fetch(`${testApp.app.baseUrl}/audit`, {
      redirect: "manual",
      headers: { "x-request-id": "anon-page-4", cookie: "__Host-breakwater_session=gone" }
    })
    expect(stale.status).toBe(303)
    expect(await deniedWith("anon-page-4")).toEqual([])
  })

  it("still records API 401s, anonymous state changes and signed-in 403s", async () => {
    const api = await fetch(`${testApp.app.baseUrl}/api/v1/audit`, { headers: { "x-request-id": "anon-api-1" } })
    expect(api.status).toBe(401)
    expect(await deniedWith("anon-api-1")).toEqual([{ actor_type: "anonymous", outcome: "denied" }])

    const post = await fetch(`${testApp.app.baseUrl}/admin/api-keys`, {
      method: "POST",
      redirect: "manual",
      headers: { "x-request-id": "anon-post-1", "content-type": "application/x-www-form-urlencoded" },
      body: "name=x"
    })
    expect(post.status).toBe(303)
    expect(await deniedWith("anon-post-1")).toEqual([{ actor_type: "anonymous", outcome: "denied" }])

    const forbidden = await vera.fetch("/admin/api-keys", { headers: { "x-request-id": "viewer-page-1" } })
    expect(forbidden.status).toBe(403)
    expect(await deniedWith("viewer-page-1")).toEqual([{ actor_type: "user", outcome: "denied" }])
  })
})
