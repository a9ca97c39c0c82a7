/**
 * The Users page's forms on the whole application (real PostgreSQL and Redis): adding a user with
 * a generated password shown once, a new password for a user, bad input answered 400 with the
 * form kept and each field named, a taken email 409 on the email field, re-authentication of an
 * old sign-in asked on the form itself, the last administrator's refusal said in their row, JSON
 * clients getting the standard error body, and the permission every form needs.
 */
import { describe, expect, it } from "vitest"
import { login, loginAsAdmin, loginAsNewUser, type TestSession, testAdmin } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()

const auditOf = (action: string, email: string) =>
  testApp.query<{ actor_name: string; details: Record<string, unknown> }>(
    "SELECT actor_name, details FROM audit_log WHERE action = $1 AND details->>'email' = $2",
    [action, email]
  )

const userCount = async (email: string) =>
  (
    await testApp.query<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)", [email])
  )[0]?.n

const oneTimePassword = (page: string) => /data-field="one-time-password">([^<]+)</.exec(page)?.[1]

const ageSignIn = (session: TestSession & { readonly user: { readonly id: string } }) =>
  testApp.query("UPDATE sessions SET authenticated_at = now() - interval '6 minutes' WHERE user_id = $1", [
    session.user.id
  ])

describe("adding a user in the console", () => {
  it("adds the user with a generated password shown once, which signs them in; audited", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const response = await admin.postForm("/admin/users", {
      email: "nina@test.local",
      name: "Nina",
      role: "operator"
    })
    expect(response.status).toBe(201)
    expect(response.headers.get("cache-control")).toBe("no-store")
    const page = await response.text()
    const password = oneTimePassword(page)
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(page).toContain("nina@test.local was added as operator")
    const nina = await login(testApp.app.baseUrl, "nina@test.local", password ?? "")
    expect((await nina.fetch("/api/v1/breaker")).status).toBe(200)
    expect(await auditOf("user.create", "nina@test.local")).toEqual([
      expect.objectContaining({ actor_name: "Administrator", details: { email: "nina@test.local", role: "operator" } })
    ])
    // The page loaded again does not show it.
    expect(await (await admin.fetch("/admin/users")).text()).not.toContain(password)
  })

  it("keeps the form on bad input, naming each field (400), and adds nobody", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const response = await admin.postForm("/admin/users", { email: "not-an-email", name: "", role: "boss" })
    expect(response.status).toBe(400)
    const page = await response.text()
    expect(page).toContain('id="add-user-error"')
    expect(page).toMatch(/id="add-user-email"[^>]*value="not-an-email"[^>]*aria-invalid="true"/)
    expect(page).toMatch(/id="add-user-email-error" class="field-error">must be an email address</)
    expect(page).toMatch(/id="add-user-name-error" class="field-error">must not be empty</)
    expect(page).toMatch(/id="add-user-role-error" class="field-error">must be one of viewer, operator, admin</)
    expect(await userCount("not-an-email")).toBe(0)
  })

  it("answers a JSON client with the standard 400 body naming the fields", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const response = await admin.fetch("/admin/users", {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email: "x", name: "X", role: "viewer" })
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { code: string; issues: ReadonlyArray<{ path: string }> } }
    expect(body.error.code).toBe("bad_request")
    expect(body.error.issues.map((i) => i.path)).toEqual(["email"])
  })

  it("refuses a taken email (any case) on the email field, 409, with the form kept", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const response = await admin.postForm("/admin/users", { email: "ADMIN@test.local", name: "Twin", role: "admin" })
    expect(response.status).toBe(409)
    const page = await response.text()
    expect(page).toMatch(
      /id="add-user-email-error" class="field-error">a user with the email ADMIN@test.local already exists</
    )
    expect(page).toMatch(/id="add-user-name"[^>]*value="Twin"/)
    expect(page).toMatch(/<option value="admin" selected>/)
  })

  it("asks an old sign-in for the password on the form itself, keeping what was typed", async () => {
    const boss = await loginAsNewUser(testApp.app, {
      email: "boss@test.local",
      role: "admin",
      password: "boss-password-1234"
    })
    await ageSignIn(boss)
    const form = await (await boss.fetch("/admin/users")).text()
    expect(form).toContain('id="add-user-password"')
    const missing = await boss.postForm("/admin/users", { email: "late@test.local", name: "Late", role: "viewer" })
    expect(missing.status).toBe(403)
    const page = await missing.text()
    expect(page).toMatch(/id="add-user-password-error" class="field-error">you signed in more than 5 minutes ago/)
    expect(page).toMatch(/id="add-user-email"[^>]*value="late@test.local"/)
    expect(await userCount("late@test.local")).toBe(0)
    const wrong = await boss.postForm("/admin/users", {
      email: "late@test.local",
      name: "Late",
      role: "viewer",
      password: "not it at all"
    })
    expect(wrong.status).toBe(403)
    expect(await wrong.text()).toContain("the password is wrong")
    const right = await boss.postForm("/admin/users", {
      email: "late@test.local",
      name: "Late",
      role: "viewer",
      password: "boss-password-1234"
    })
    expect(right.status).toBe(201)
    expect(await userCount("late@test.local")).toBe(1)
  })

  it("is refused (403) to roles without MANAGE_USERS, adding nobody", async () => {
    const operator = await loginAsNewUser(testApp.app, { email: "otto@test.local", role: "operator" })
    const response = await operator.postForm("/admin/users", { email: "sneak@test.local", name: "S", role: "admin" })
    expect(response.status).toBe(403)
    expect(await userCount("sneak@test.local")).toBe(0)
    const password = await operator.postForm(`/admin/users/${operator.user.id}/password`)
    expect(password.status).toBe(403)
  })
})

describe("changing users in the console", () => {
  it("sets a new generated password: shown once, the old one stops working, sessions end; audited", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const vera = await loginAsNewUser(testApp.app, { email: "vera@test.local", role: "viewer" })
    const response = await admin.postForm(`/admin/users/${vera.user.id}/password`)
    expect(response.status).toBe(200)
    const password = oneTimePassword(await response.text())
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect((await vera.fetch("/api/v1/breaker")).status).toBe(401)
    await expect(login(testApp.app.baseUrl, "vera@test.local", "viewer-password-1234")).rejects.toThrow(/401/)
    await login(testApp.app.baseUrl, "vera@test.local", password ?? "")
    expect(await auditOf("user.password_change", "vera@test.local")).toEqual([
      expect.objectContaining({ actor_name: "Administrator", details: { email: "vera@test.local", sessionsEnded: 1 } })
    ])
  })

  it("says the last administrator's refusal in their row (409), for a role change and a disable", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const [me] = await testApp.query<{ id: string }>("SELECT id FROM users WHERE email = $1", [testAdmin.email])
    // boss@test.local (another admin) exists from an earlier test: disable them first.
    const [boss] = await testApp.query<{ id: string }>("SELECT id FROM users WHERE email = 'boss@test.local'")
    expect((await admin.postForm(`/admin/users/${boss?.id}/disable`)).status).toBe(303)

    const demote = await admin.postForm(`/admin/users/${me?.id}/role`, { role: "viewer" })
    expect(demote.status).toBe(409)
    const page = await demote.text()
    expect(page).toContain("<h1>Users</h1>")
    expect(page).toMatch(
      new RegExp(
        `id="user-${me?.id}"[\\s\\S]*?data-field="refusal">Refused: admin@test.local is the last enabled administrator\\. Nothing was changed\\.`
      )
    )
    const disable = await admin.postForm(`/admin/users/${me?.id}/disable`)
    expect(disable.status).toBe(409)
    expect(await disable.text()).toContain('data-field="refusal">Refused: admin@test.local is the last enabled')
    const [still] = await testApp.query<{ role: string; disabled: boolean }>(
      "SELECT role, disabled FROM users WHERE id = $1",
      [me?.id]
    )
    expect(still).toEqual({ role: "admin", disabled: false })
  })

  it("refuses a role that does not exist (400) and an unknown user (404)", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const [nina] = await testApp.query<{ id: string }>("SELECT id FROM users WHERE email = 'nina@test.local'")
    expect((await admin.postForm(`/admin/users/${nina?.id}/role`, { role: "root" })).status).toBe(400)
    const unknown = await admin.postForm("/admin/users/00000000-0000-4000-8000-000000000000/password")
    expect(unknown.status).toBe(404)
  })

  it("asks for confirmation naming the user before each change that takes something away", async () => {
    const admin = await loginAsAdmin(testApp.app.baseUrl)
    const page = await (await admin.fetch("/admin/users")).text()
    for (const action of ["role", "disable", "end-sessions", "password"]) {
      expect(page, action).toMatch(
        new RegExp(
          `<div popover id="confirm-${action}-[0-9a-f-]+" class="confirm" role="dialog"[\\s\\S]*?nina@test\\.local`
        )
      )
    }
    // The role's confirmation offers the other roles only.
    expect(page).toMatch(
      /Change the role of <strong>nina@test\.local<\/strong>\?[\s\S]*?<option value="viewer">viewer<\/option>\s*<option value="admin">admin<\/option>\s*<\/select>/
    )
  })
})
