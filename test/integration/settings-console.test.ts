/**
 * The Settings pages' forms on the whole application (real PostgreSQL and Redis): the overview
 * grouped by module, a review that shows the difference and stores nothing, bad values answered
 * 400 with the form kept and the problem named, the save (303, a new version the API shows,
 * audited with its reason), a change someone else made meanwhile (409, reviewed again), the
 * password an old sign-in needs, restoring a version and the default, JSON settings edited as JSON
 * with a line diff, and the permission the pages need.
 */
import { Context, Effect, Schema } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { Settings } from "../../src/core/settings/service.ts"
import { defineSetting } from "../../src/core/settings/spec.ts"
import { loginAsAdmin, loginAsNewUser, type TestSession } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()

const KEY = "http.idempotency_ttl_hours"
const path = `/admin/settings/${KEY}`

/** A JSON document: edited in a textarea, reviewed as a line diff. */
const banner = defineSetting({
  key: "consoletest.banner",
  schema: Schema.Struct({
    text: Schema.String.check(Schema.isMaxLength(40)),
    level: Schema.Literals(["info", "warn"])
  }),
  default: { text: "", level: "info" },
  description: "A line shown above every page.",
  permission: "MANAGE_SYSTEM_CONFIG"
})

let admin: TestSession

beforeAll(async () => {
  await Effect.runPromise(Context.get(testApp.app.context, Settings).declare("consoletest", [banner]))
  admin = await loginAsAdmin(testApp.app.baseUrl)
})

const listed = async (key: string) => {
  const body = (await (await admin.fetch("/api/v1/settings")).json()) as {
    settings: ReadonlyArray<{ key: string; value: unknown; version: number; reason: string | null }>
  }
  return body.settings.find((s) => s.key === key)
}

const versionsOf = async (key: string) =>
  (await testApp.query<{ n: number }>("SELECT count(*)::int AS n FROM setting_version WHERE key = $1", [key]))[0]?.n

describe("the settings overview", () => {
  it("lists every declared setting by module, with description, value in effect and default", async () => {
    const response = await admin.fetch("/admin/settings")
    expect(response.status).toBe(200)
    const page = await response.text()
    for (const module of ["core", "circuit-breaker", "consoletest"])
      expect(page).toContain(`<h2 id="module-${module}-heading">${module}</h2>`)
    expect(page).toMatch(
      /data-setting="breaker\.quiet_period_seconds"[\s\S]*?How long a scope stays in QUIET_PERIOD[\s\S]*?300 seconds<\/code> <small>\(the default\)/
    )
    expect(page).toContain('href="/admin/settings/http.idempotency_ttl_hours"')
  })

  it("is refused (403) to operators and viewers, and linked from /admin for admins only", async () => {
    const operator = await loginAsNewUser(testApp.app, { email: "otto@test.local", role: "operator" })
    expect((await operator.fetch("/admin/settings")).status).toBe(403)
    expect((await operator.fetch(path)).status).toBe(403)
    expect((await operator.postForm(`${path}/review`, { value: "2" })).status).toBe(403)
    expect((await operator.postForm(path, { value: "2", expectedVersion: "0" })).status).toBe(403)
    expect(await (await operator.fetch("/admin")).text()).not.toContain('href="/admin/settings"')
    expect(await (await admin.fetch("/admin")).text()).toContain('href="/admin/settings"')
    expect(await versionsOf(KEY)).toBe(0)
  })
})

describe("changing a setting in the console", () => {
  it("reviews a value with the difference and stores nothing", async () => {
    const response = await admin.postForm(`${path}/review`, { value: "48" })
    expect(response.status).toBe(200)
    const page = await response.text()
    expect(page).toMatch(/Now \(the default\)<\/th><td data-field="diff-before"><del>24<\/del> hours/)
    expect(page).toMatch(/After saving<\/th><td data-field="diff-after"><ins>48<\/ins> hours/)
    expect(page).toContain('<input type="hidden" name="value" value="48">')
    expect(page).toContain('<input type="hidden" name="expectedVersion" value="0">')
    expect(page).toContain("Save as version 1")
    expect(await versionsOf(KEY)).toBe(0)
  })

  it.each([
    ["abc", "must be a whole number"],
    ["500", "Expected a value between 1 and 168"],
    ["2.5", "Expected an integer"],
    ["", "must not be empty"]
  ])("keeps the value %j and names the problem (400)", async (value, problem) => {
    const response = await admin.postForm(`${path}/review`, { value })
    expect(response.status).toBe(400)
    const page = await response.text()
    expect(page).toMatch(
      new RegExp(`id="setting-value"[^>]*value="${value.replace(".", "\\.")}"[^>]*aria-invalid="true"`)
    )
    expect(page).toMatch(new RegExp(`id="setting-value-error" class="field-error">[^<]*${problem}`))
    expect(page).not.toContain('id="review"')
  })

  it("answers a JSON client's bad value with the standard 400 naming the field", async () => {
    const response = await admin.fetch(`${path}/review`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ value: "500" })
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { issues: ReadonlyArray<{ path: string }> } }
    expect(body.error.issues.map((i) => i.path)).toEqual(["value"])
  })

  it("saves a reviewed value: 303, a new version the API shows, audited with its reason", async () => {
    const response = await admin.postForm(path, { value: "48", expectedVersion: "0", reason: "  longer retries  " })
    expect(response.status).toBe(303)
    expect(response.headers.get("location")).toBe(`${path}?notice=saved`)
    expect(await listed(KEY)).toMatchObject({ value: 48, version: 1, reason: "longer retries" })
    const [entry] = await testApp.query<{ actor_name: string; reason: string; details: Record<string, unknown> }>(
      "SELECT actor_name, reason, details FROM audit_log WHERE action = 'setting.change' AND resource_id = $1",
      [KEY]
    )
    expect(entry).toMatchObject({ actor_name: "Administrator", reason: "longer retries" })
    expect(entry?.details).toMatchObject({ from: 24, to: 48, version: 1 })
    const page = await (await admin.fetch(`${path}?notice=saved`)).text()
    expect(page).toContain("Saved: the new version is in effect on every replica.")
    expect(page).toMatch(/data-version="1"[\s\S]*?48 hours[\s\S]*?longer retries[\s\S]*?in effect/)
  })

  it("shows a change someone else saved meanwhile instead of overwriting it (409)", async () => {
    const response = await admin.postForm(path, { value: "72", expectedVersion: "0" })
    expect(response.status).toBe(409)
    const page = await response.text()
    expect(page).toContain("Someone else saved version 1 while you were reviewing")
    expect(page).toMatch(/Now \(version 1\)<\/th><td data-field="diff-before"><del>48<\/del>/)
    expect(page).toContain('<input type="hidden" name="expectedVersion" value="1">')
    expect(await listed(KEY)).toMatchObject({ value: 48, version: 1 })
  })

  it("asks an old sign-in for the password on the review, keeping the value and the reason", async () => {
    const boss = await loginAsNewUser(testApp.app, { email: "boss@test.local", role: "admin" })
    await testApp.query("UPDATE sessions SET authenticated_at = now() - interval '6 minutes' WHERE user_id = $1", [
      boss.user.id
    ])
    expect(await (await boss.postForm(`${path}/review`, { value: "12" })).text()).toContain('id="review-password"')
    const refused = await boss.postForm(path, { value: "12", expectedVersion: "1", reason: "shorter" })
    expect(refused.status).toBe(403)
    const page = await refused.text()
    expect(page).toMatch(/id="review-password-error" class="field-error">you signed in more than 5 minutes ago/)
    expect(page).toContain('<input type="hidden" name="value" value="12">')
    expect(page).toMatch(/id="review-reason"[^>]*value="shorter"/)
    expect(await listed(KEY)).toMatchObject({ version: 1 })
    const saved = await boss.postForm(path, {
      value: "12",
      expectedVersion: "1",
      reason: "shorter",
      password: "admin-password-1234"
    })
    expect(saved.status).toBe(303)
    expect(await listed(KEY)).toMatchObject({ value: 12, version: 2 })
  })

  it("restores an earlier version after reviewing it, and returns to the default", async () => {
    const review = await (await admin.fetch(`${path}?restore=1`)).text()
    expect(review).toContain("Review: restore version 1")
    expect(review).toMatch(/<del>12<\/del> hours[\s\S]*?<ins>48<\/ins> hours/)
    expect(review).toContain('<input type="hidden" name="version" value="1">')
    const restored = await admin.postForm(`${path}/restore`, { version: "1", expectedVersion: "2" })
    expect(restored.status).toBe(303)
    expect(restored.headers.get("location")).toBe(`${path}?notice=restored`)
    expect(await listed(KEY)).toMatchObject({ value: 48, version: 3, reason: "restored version 1" })

    const toDefault = await (await admin.fetch(`${path}?restore=default`)).text()
    expect(toDefault).toContain("Review: return to the default")
    expect(toDefault).toContain('<input type="hidden" name="value" value="24">')
    expect((await admin.postForm(path, { value: "24", expectedVersion: "3" })).status).toBe(303)
    expect(await listed(KEY)).toMatchObject({ value: 24, version: 4 })
  })

  it("answers 404 for a version or a setting that does not exist", async () => {
    expect((await admin.fetch(`${path}?restore=99`)).status).toBe(404)
    expect((await admin.postForm(`${path}/restore`, { version: "99", expectedVersion: "4" })).status).toBe(404)
    expect((await admin.fetch("/admin/settings/nosuch.setting")).status).toBe(404)
    expect((await admin.postForm("/admin/settings/nosuch.setting/review", { value: "1" })).status).toBe(404)
  })

  it("edits a JSON setting as JSON and reviews it line by line", async () => {
    const form = await (await admin.fetch("/admin/settings/consoletest.banner")).text()
    expect(form).toMatch(
      /<textarea id="setting-value" name="value" rows="8"[^>]*>\{\n {2}&quot;text&quot;: &quot;&quot;,/
    )
    const bad = await admin.postForm("/admin/settings/consoletest.banner/review", { value: "{ not json" })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain("must be JSON")
    const value = JSON.stringify({ text: "Maintenance at 22:00", level: "warn" }, null, 2)
    const review = await (await admin.postForm("/admin/settings/consoletest.banner/review", { value })).text()
    expect(review).toContain(
      '<del><span class="visually-hidden">removed: </span>-   &quot;text&quot;: &quot;&quot;,</del>'
    )
    expect(review).toContain(
      '<ins><span class="visually-hidden">added: </span>+   &quot;text&quot;: &quot;Maintenance at 22:00&quot;,</ins>'
    )
    expect((await admin.postForm("/admin/settings/consoletest.banner", { value, expectedVersion: "0" })).status).toBe(
      303
    )
    expect(await listed("consoletest.banner")).toMatchObject({ value: { text: "Maintenance at 22:00", level: "warn" } })
  })

  it("says there is nothing to save when the value is the one in effect", async () => {
    const page = await (await admin.postForm(`${path}/review`, { value: "24" })).text()
    expect(page).toContain("No difference: the value would stay")
    expect(page).toContain("There is nothing to save.")
    expect(page).not.toContain('data-form="save"')
  })
})
