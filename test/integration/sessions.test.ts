/**
 * Sessions on the real application: idle and absolute expiry enforced server-side, `last_seen_at`
 * written at most once a minute, and everything that ends sessions at once (logout, disable, role
 * change, "end sessions"), each audited in the transaction of the change; re-authentication
 * before a role change; the last administrator kept.
 */
import { Context, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Sessions } from "../../src/core/auth/sessions.ts"
import { withSql } from "../support/admin-sql.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores } from "../support/database.ts"
import { createUser, login, loginAsAdmin, loginAsNewUser, type TestSession } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
const { query } = testApp

const sessionRow = (userId: string) =>
  query<{ last_seen_at: Date; created_at: Date; expires_at: Date; authenticated_at: Date }>(
    "SELECT last_seen_at, created_at, expires_at, authenticated_at FROM sessions WHERE user_id = $1",
    [userId]
  )

/** Whether the session still opens a page (a dead one is sent to sign in). */
const alive = async (session: TestSession) => (await session.fetch("/about")).status === 200

const lastAudit = async (action: string, resourceId: string) =>
  (
    await query<{ actor_id: string; outcome: string; details: Record<string, unknown> }>(
      "SELECT actor_id, outcome, details FROM audit_log WHERE action = $1 AND resource_id = $2 ORDER BY id DESC LIMIT 1",
      [action, resourceId]
    )
  )[0]

describe("session lifetime", () => {
  it("gives a new session an absolute expiry of SESSION_MAX_HOURS (12 h by default)", async () => {
    const { user } = await loginAsNewUser(testApp.app, { email: "abs@test.local", role: "viewer" })
    const [row] = await sessionRow(user.id)
    const hours = ((row?.expires_at.getTime() ?? 0) - (row?.created_at.getTime() ?? 0)) / 3_600_000
    expect(hours).toBeCloseTo(12, 3)
  })

  it("ends a session idle for more than 30 minutes", async () => {
    const session = await loginAsNewUser(testApp.app, { email: "idle@test.local", role: "viewer" })
    await query("UPDATE sessions SET last_seen_at = now() - interval '29 minutes' WHERE user_id = $1", [
      session.user.id
    ])
    expect(await alive(session)).toBe(true)
    await query("UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = $1", [
      session.user.id
    ])
    const response = await session.fetch("/about")
    expect(response.status).toBe(303)
    expect(response.headers.get("location")).toBe("/login?next=%2Fabout")
    // The API answers 401 JSON instead of a redirect.
    const api = await session.fetch("/api/v1/system")
    expect(api.status).toBe(401)
    expect((await api.json()).error.code).toBe("unauthenticated")
    expect(await sessionRow(session.user.id)).toEqual([])
  })

  it("tells htmx to reload into the sign-in page when a fragment's session has ended", async () => {
    const response = await fetch(`${testApp.app.baseUrl}/dashboard/status`, {
      redirect: "manual",
      headers: { "hx-request": "true", "hx-current-url": `${testApp.app.baseUrl}/?tab=x` }
    })
    expect(response.status).toBe(401)
    expect(response.headers.get("hx-redirect")).toBe(`/login?next=${encodeURIComponent("/?tab=x")}`)
  })

  it("ends a session past its absolute lifetime even while it is in use", async () => {
    const session = await loginAsNewUser(testApp.app, { email: "old@test.local", role: "viewer" })
    await query(
      "UPDATE sessions SET created_at = now() - interval '12 hours 1 minute', expires_at = now() - interval '1 minute', last_seen_at = now() WHERE user_id = $1",
      [session.user.id]
    )
    expect(await alive(session)).toBe(false)
  })

  it("writes last_seen_at at most once a minute", async () => {
    const session = await loginAsNewUser(testApp.app, { email: "touch@test.local", role: "viewer" })
    await query("UPDATE sessions SET last_seen_at = now() - interval '30 seconds' WHERE user_id = $1", [
      session.user.id
    ])
    const [before] = await sessionRow(session.user.id)
    await session.fetch("/about")
    const [unchanged] = await sessionRow(session.user.id)
    expect(unchanged?.last_seen_at.getTime()).toBe(before?.last_seen_at.getTime())
    await query("UPDATE sessions SET last_seen_at = now() - interval '90 seconds' WHERE user_id = $1", [
      session.user.id
    ])
    await session.fetch("/about")
    const [touched] = await sessionRow(session.user.id)
    expect(Date.now() - (touched?.last_seen_at.getTime() ?? 0)).toBeLessThan(10_000)
  })

  it("reads SESSION_IDLE_MINUTES and SESSION_MAX_HOURS", async () => {
    const other = await startAppPromise(testEnv(testApp.stores, { SESSION_IDLE_MINUTES: "5", SESSION_MAX_HOURS: "2" }))
    try {
      const user = await createUser(other, { email: "cfg@test.local", role: "viewer", password: "cfg-password-1234" })
      const session = await login(other.baseUrl, "cfg@test.local", "cfg-password-1234")
      const [row] = await sessionRow(user.id)
      expect(((row?.expires_at.getTime() ?? 0) - (row?.created_at.getTime() ?? 0)) / 3_600_000).toBeCloseTo(2, 3)
      await query("UPDATE sessions SET last_seen_at = now() - interval '6 minutes' WHERE user_id = $1", [user.id])
      expect((await session.fetch("/about")).status).toBe(303)
    } finally {
      await other.stop()
    }
  })
})

describe("the sweeper", () => {
  it("deletes expired and idle sessions and day-old failed logins, and keeps live ones", async () => {
    const live = await loginAsNewUser(testApp.app, { email: "sweep@test.local", role: "viewer" })
    const id = live.user.id
    await query(
      `INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, last_seen_at) VALUES
        ($1, $3, 't', now() - interval '1 second', now()),
        ($2, $3, 't', now() + interval '1 hour', now() - interval '31 minutes')`,
      ["e".repeat(64), "i".repeat(64), id]
    )
    await query(
      "INSERT INTO login_failures (user_id, failed_at) VALUES ($1, now() - interval '25 hours'), ($1, now())",
      [id]
    )
    const swept = await Effect.runPromise(Context.get(testApp.app.context, Sessions).sweep)
    expect(swept).toBeGreaterThanOrEqual(3)
    expect(await sessionRow(id)).toHaveLength(1)
    expect(await alive(live)).toBe(true)
    expect(await query("SELECT id FROM login_failures WHERE user_id = $1", [id])).toHaveLength(1)
  })
})

describe("ending sessions", () => {
  it("logout ends the session at once and clears the cookie", async () => {
    const session = await loginAsNewUser(testApp.app, { email: "bye@test.local", role: "viewer" })
    const response = await session.postForm("/logout")
    expect(response.status).toBe(303)
    expect(response.headers.get("location")).toBe("/login")
    expect(response.headers.getSetCookie().join()).toMatch(
      /__Host-breakwater_session=;.*Max-Age=0|Expires=Thu, 01 Jan 1970/
    )
    expect(await alive(session)).toBe(false)
    expect(await sessionRow(session.user.id)).toEqual([])
    expect(await lastAudit("auth.logout", session.user.id)).toMatchObject({
      outcome: "success",
      actor_id: session.user.id
    })
  })

  it("disabling a user ends their sessions at once; the admin's change is audited", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const victim = await loginAsNewUser(testApp.app, { email: "off@test.local", role: "operator" })
    expect(await alive(victim)).toBe(true)
    const response = await admin.postForm(`/admin/users/${victim.user.id}/disable`)
    expect(response.status).toBe(303)
    expect(response.headers.get("location")).toBe("/admin/users?notice=disabled")
    expect(await alive(victim)).toBe(false)
    const entry = await lastAudit("user.disable", victim.user.id)
    expect(entry?.details).toMatchObject({ email: "off@test.local", sessionsEnded: 1 })
    // A disabled user cannot sign in again; enabling lets them.
    await expect(login(testApp.app.baseUrl, "off@test.local", "operator-password-1234")).rejects.toThrow(/refused: 401/)
    expect((await admin.postForm(`/admin/users/${victim.user.id}/enable`)).status).toBe(303)
    expect(await alive(await login(testApp.app.baseUrl, "off@test.local", "operator-password-1234"))).toBe(true)
  })

  it("a role change ends the user's sessions at once, and the new role applies at the next sign-in", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const op = await loginAsNewUser(testApp.app, { email: "demote@test.local", role: "operator" })
    expect((await op.fetch("/admin")).status).toBe(200) // operators hold VIEW_AUDIT
    const response = await admin.postForm(`/admin/users/${op.user.id}/role`, { role: "viewer" })
    expect(response.status).toBe(303)
    expect(await alive(op)).toBe(false)
    expect(await lastAudit("user.role_change", op.user.id)).toMatchObject({
      details: { from: "operator", to: "viewer", sessionsEnded: 1 }
    })
    const again = await login(testApp.app.baseUrl, "demote@test.local", "operator-password-1234")
    expect((await again.fetch("/admin")).status).toBe(403)
  })

  it("'end sessions' ends every session of the user", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const first = await loginAsNewUser(testApp.app, { email: "many@test.local", role: "viewer" })
    const second = await login(testApp.app.baseUrl, "many@test.local", "viewer-password-1234")
    expect(await alive(first)).toBe(true)
    expect(await alive(second)).toBe(true)
    expect((await admin.postForm(`/admin/users/${first.user.id}/end-sessions`)).status).toBe(303)
    expect(await alive(first)).toBe(false)
    expect(await alive(second)).toBe(false)
    expect(await lastAudit("user.sessions_end", first.user.id)).toMatchObject({ details: { sessionsEnded: 2 } })
  })

  it("lists users with role, state and activity on the admin page", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const page = await (await admin.fetch("/admin/users")).text()
    expect(page).toContain('data-user="admin@test.local"')
    expect(page).toMatch(/data-user="off@test.local"[\s\S]*?data-field="state">enabled/)
    expect(page).toContain('name="_csrf"')
  })
})

describe("re-authentication", () => {
  it("asks for the password before a role change once the sign-in is older than 5 minutes", async () => {
    const admin = await loginAsNewUser(testApp.app, {
      email: "boss@test.local",
      role: "admin",
      password: "boss-password-1234"
    })
    const target = await createUser(testApp.app, {
      email: "tgt@test.local",
      role: "viewer",
      password: "tgt-password-1234"
    })
    await query("UPDATE sessions SET authenticated_at = now() - interval '6 minutes' WHERE user_id = $1", [
      admin.user.id
    ])

    const page = await (await admin.fetch("/admin/users")).text()
    expect(page).toContain('id="reauth-password"')
    const missing = await admin.postForm(`/admin/users/${target.id}/role`, { role: "operator" })
    expect(missing.status).toBe(403)
    expect(await missing.text()).toContain("enter your password again")
    const wrong = await admin.fetch(`/admin/users/${target.id}/role`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ role: "operator", password: "nope-nope-nope" })
    })
    expect(wrong.status).toBe(403)
    expect((await wrong.json()).error.code).toBe("reauthentication_required")
    const [unchanged] = await query<{ role: string }>("SELECT role FROM users WHERE id = $1", [target.id])
    expect(unchanged?.role).toBe("viewer")

    const right = await admin.postForm(`/admin/users/${target.id}/role`, {
      role: "operator",
      password: "boss-password-1234"
    })
    expect(right.status).toBe(303)
    const [changed] = await query<{ role: string }>("SELECT role FROM users WHERE id = $1", [target.id])
    expect(changed?.role).toBe("operator")
    const [row] = await sessionRow(admin.user.id)
    expect(Date.now() - (row?.authenticated_at.getTime() ?? 0)).toBeLessThan(10_000)
    expect(await lastAudit("auth.reauthenticate", admin.user.id)).toMatchObject({ outcome: "success" })
    // The wrong password was audited as a failed attempt on the account, like a failed sign-in.
    const failures = await query(
      "SELECT id FROM audit_log WHERE action = 'auth.reauthenticate' AND outcome = 'failure' AND resource_id = $1",
      [admin.user.id]
    )
    expect(failures).toHaveLength(1)
  })

  it("keeps the last enabled administrator", async () => {
    const stores2 = await createTestStores()
    const solo = await startAppPromise(testEnv(stores2))
    try {
      const admin = await loginAsAdmin(solo.baseUrl)
      const [me] = await withSql(
        stores2.databaseUrl,
        (sql) => sql<{ id: string }>`SELECT id FROM users WHERE email = 'admin@test.local'`
      )
      const demote = await admin.fetch(`/admin/users/${me?.id}/role`, {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ role: "viewer" })
      })
      expect(demote.status).toBe(409)
      expect((await demote.json()).error.message).toContain("last enabled administrator")
      expect((await admin.postForm(`/admin/users/${me?.id}/disable`)).status).toBe(409)
      expect(await alive(admin)).toBe(true)

      // Two admins demoting each other at the same moment: exactly one of them wins.
      const other = await loginAsNewUser(solo, { email: "second@test.local", role: "admin" })
      const answers = await Promise.all([
        admin.postForm(`/admin/users/${other.user.id}/role`, { role: "viewer" }),
        other.postForm(`/admin/users/${me?.id}/role`, { role: "viewer" })
      ])
      expect(answers.map((a) => a.status).sort()).toEqual([303, 409])
      const [admins] = await withSql(
        stores2.databaseUrl,
        (sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND NOT disabled`
      )
      expect(admins?.n).toBe(1)
    } finally {
      await solo.stop()
    }
  })
})
