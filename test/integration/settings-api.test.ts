/**
 * The settings API on the whole application (real PostgreSQL and Redis): listing, history, a
 * change validated by the setting's schema (400 naming the key and field), the setting's own
 * permission (403 naming it, audited), re-authentication of an old sign-in, compare-and-set
 * (409), restore, and a second replica on the same stores that has the new value within a second.
 */
import { Context, Effect, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { hashSessionId } from "../../src/core/auth/sessions.ts"
import { Settings } from "../../src/core/settings/service.ts"
import { defineSetting } from "../../src/core/settings/spec.ts"
import { type RunningApp, startAppPromise, testEnv } from "../support/app.ts"
import { loginAsAdmin, loginAsNewUser, type TestSession, testAdmin } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()

/** Only an administrator (MANAGE_SYSTEM_CONFIG) may change it. */
const limit = defineSetting({
  key: "testmod.limit",
  schema: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 })),
  default: 10,
  description: "How many at most.",
  permission: "MANAGE_SYSTEM_CONFIG",
  unit: "items"
})

/** Anyone who may see the dashboard may change it. */
const banner = defineSetting({
  key: "testmod.banner",
  schema: Schema.Struct({
    text: Schema.String.check(Schema.isMaxLength(40)),
    level: Schema.Literals(["info", "warn"])
  }),
  default: { text: "", level: "info" },
  description: "A line shown above every page.",
  permission: "VIEW_DASHBOARD"
})

const declare = (app: RunningApp) =>
  Effect.runPromise(Context.get(app.context, Settings).declare("testmod", [limit, banner]))

let replica: Awaited<ReturnType<typeof startAppPromise>>
let admin: TestSession
let operator: TestSession & { readonly user: { readonly id: string } }
let viewer: TestSession

beforeAll(async () => {
  await declare(testApp.app)
  // A second replica on the same database and Redis.
  replica = await startAppPromise(testEnv(testApp.stores))
  await declare(replica)
  admin = await loginAsAdmin(testApp.app.baseUrl)
  operator = await loginAsNewUser(testApp.app, { email: "otto@test.local", role: "operator" })
  viewer = await loginAsNewUser(testApp.app, { email: "vera@test.local", role: "viewer" })
})
afterAll(() => replica?.stop())

const send = (session: TestSession, method: string, path: string, body?: unknown) =>
  session.fetch(path, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })

const put = (session: TestSession, key: string, body: unknown) => send(session, "PUT", `/api/v1/settings/${key}`, body)

interface ErrorBody {
  readonly error: {
    readonly code: string
    readonly message: string
    readonly issues?: ReadonlyArray<{ path: string; message: string }>
    readonly details?: unknown
  }
}

const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error

const valueOn = (app: RunningApp) => Effect.runPromise(Context.get(app.context, Settings).get(limit))

describe("settings API", () => {
  it("lists every declared setting with its value, default, version and schema", async () => {
    const res = await send(viewer, "GET", "/api/v1/settings")
    expect(res.status).toBe(200)
    const { settings } = (await res.json()) as { settings: ReadonlyArray<Record<string, unknown>> }
    const listed = settings.find((s) => s.key === limit.key)
    expect(listed).toMatchObject({
      module: "testmod",
      description: "How many at most.",
      unit: "items",
      permission: "MANAGE_SYSTEM_CONFIG",
      default: 10,
      fallback: false,
      schema: { type: "integer", minimum: 1, maximum: 100 }
    })
  })

  it("refuses a value that does not fit: 400 naming the key and the field", async () => {
    const res = await put(admin, limit.key, { value: 1000 })
    expect(res.status).toBe(400)
    const error = await errorOf(res)
    expect(error.code).toBe("invalid_setting_value")
    expect(error.message).toContain(limit.key)
    expect(error.issues?.map((i) => i.path)).toEqual(["value"])
    const nested = await errorOf(await put(admin, banner.key, { value: { text: "x".repeat(41), level: "loud" } }))
    expect(nested.issues?.map((i) => i.path).sort()).toEqual(["value.level", "value.text"])
    const missing = await put(admin, limit.key, { expectedVersion: 0 })
    expect(missing.status).toBe(400)
    expect((await errorOf(missing)).issues?.map((i) => i.path)).toEqual(["value"])
  })

  it("answers 404 for an unknown key and 400 for a malformed one", async () => {
    const unknown = await put(admin, "nobody.declared_this", { value: 1 })
    expect(unknown.status).toBe(404)
    expect((await errorOf(unknown)).code).toBe("setting_not_found")
    const malformed = await put(admin, "Not-A-Key", { value: 1 })
    expect(malformed.status).toBe(400)
    expect((await errorOf(malformed)).issues?.[0]?.path).toBe("key")
  })

  it("refuses a caller without the setting's own permission (403 naming it, audited)", async () => {
    const res = await put(operator, limit.key, { value: 20 })
    expect(res.status).toBe(403)
    const error = await errorOf(res)
    expect(error.code).toBe("forbidden")
    expect(error.message).toContain("MANAGE_SYSTEM_CONFIG")
    const rows = await testApp.query<{ actor_id: string; details: Record<string, unknown> }>(
      "SELECT actor_id, details FROM audit_log WHERE action = 'authz_denied' AND details->>'setting' = $1",
      [limit.key]
    )
    expect(rows.map((r) => [r.actor_id, r.details.permission])).toEqual([[operator.user.id, "MANAGE_SYSTEM_CONFIG"]])
    // A setting the operator's role may change.
    const allowed = await put(operator, banner.key, { value: { text: "maintenance at 18:00", level: "warn" } })
    expect(allowed.status, await allowed.clone().text()).toBe(200)
    // Viewers may read but not change what needs more.
    expect((await put(viewer, limit.key, { value: 20 })).status).toBe(403)
  })

  it("a session that signed in long ago must enter its password again", async () => {
    const old = await loginAsAdmin(testApp.app.baseUrl)
    await testApp.query("UPDATE sessions SET authenticated_at = now() - interval '10 minutes' WHERE id_hash = $1", [
      hashSessionId(old.cookie.split("=")[1] ?? "")
    ])
    const refused = await put(old, limit.key, { value: 20 })
    expect(refused.status).toBe(403)
    expect((await errorOf(refused)).code).toBe("reauthentication_required")
    const wrong = await put(old, limit.key, { value: 20, password: "not the password" })
    expect((await errorOf(wrong)).code).toBe("reauthentication_required")
    const confirmed = await put(old, limit.key, { value: 20, password: testAdmin.password, reason: "peak hours" })
    expect(confirmed.status, await confirmed.clone().text()).toBe(200)
  })

  it("versions: each change is the next version, in effect at once; history is newest first; a stale version is 409", async () => {
    const before = (await (await send(admin, "GET", `/api/v1/settings/${limit.key}/history`)).json()) as {
      versions: ReadonlyArray<{ version: number }>
    }
    const current = before.versions[0]?.version ?? 0
    const res = await put(admin, limit.key, { value: 30, expectedVersion: current })
    expect(res.status).toBe(200)
    const stored = (await res.json()) as { version: number; value: unknown; changedBy: { type: string } }
    expect(stored).toMatchObject({ version: current + 1, value: 30, changedBy: { type: "user" } })
    expect(await valueOn(testApp.app)).toBe(30)
    const stale = await put(admin, limit.key, { value: 40, expectedVersion: current })
    expect(stale.status).toBe(409)
    const conflict = await errorOf(stale)
    expect(conflict.code).toBe("setting_version_conflict")
    expect(conflict.details).toEqual({ key: limit.key, expectedVersion: current, currentVersion: current + 1 })
    const history = (await (await send(viewer, "GET", `/api/v1/settings/${limit.key}/history?limit=2`)).json()) as {
      versions: ReadonlyArray<{ version: number; value: unknown }>
    }
    expect(history.versions.map((v) => [v.version, v.value])).toEqual([
      [current + 1, 30],
      [current, 20]
    ])
    const audit = await testApp.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'setting.change' AND resource_id = $1 ORDER BY id DESC LIMIT 1",
      [limit.key]
    )
    expect(audit[0]?.details).toEqual({ key: limit.key, from: 20, to: 30, version: current + 1 })
  })

  it("restores an earlier version as the next one", async () => {
    const history = (await (await send(admin, "GET", `/api/v1/settings/${limit.key}/history`)).json()) as {
      versions: ReadonlyArray<{ version: number; value: unknown }>
    }
    const twenty = history.versions.find((v) => v.value === 20)
    expect(twenty).toBeDefined()
    const res = await send(admin, "POST", `/api/v1/settings/${limit.key}/restore`, { version: twenty?.version })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(((await res.json()) as { value: unknown }).value).toBe(20)
    expect(await valueOn(testApp.app)).toBe(20)
    const missing = await send(admin, "POST", `/api/v1/settings/${limit.key}/restore`, { version: 9999 })
    expect((await errorOf(missing)).code).toBe("setting_version_not_found")
  })

  it("another replica on the same stores has the new value within a second", async () => {
    const res = await put(admin, limit.key, { value: 77 })
    expect(res.status).toBe(200)
    const started = Date.now()
    while ((await valueOn(replica)) !== 77 && Date.now() - started < 1000)
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await valueOn(replica)).toBe(77)
    // Its API says so too.
    const listed = (await (
      await fetch(`${replica.baseUrl}/api/v1/settings`, { headers: { cookie: admin.cookie } })
    ).json()) as {
      settings: ReadonlyArray<{ key: string; value: unknown }>
    }
    expect(listed.settings.find((s) => s.key === limit.key)?.value).toBe(77)
  })

  it("the OpenAPI description documents each settings route", async () => {
    const doc = (await (await fetch(`${testApp.app.baseUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { "x-permission"?: string; responses: Record<string, unknown> }>>
    }
    const list = doc.paths["/api/v1/settings"]?.get
    expect(list?.["x-permission"]).toBe("VIEW_DASHBOARD")
    expect(list?.responses["200"]).toMatchObject({ content: { "application/json": { schema: { type: "object" } } } })
    expect(doc.paths["/api/v1/settings/{key}"]?.put?.responses).toHaveProperty("409")
    expect(doc.paths["/api/v1/settings/{key}/history"]?.get).toBeDefined()
    expect(doc.paths["/api/v1/settings/{key}/restore"]?.post).toBeDefined()
  })

  it("a state change without the CSRF token is refused before the handler", async () => {
    const res = await fetch(`${testApp.app.baseUrl}/api/v1/settings/${limit.key}`, {
      method: "PUT",
      headers: { cookie: admin.cookie, "content-type": "application/json" },
      body: JSON.stringify({ value: 5 })
    })
    expect(res.status).toBe(403)
    expect((await errorOf(res)).code).toBe("csrf_rejected")
  })
})
