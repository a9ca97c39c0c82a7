/**
 * CSRF on the real application: cross-site state changes are refused on every route (sign-in
 * included), a cookie session's state changes need its token (form field or header), and every
 * refusal is an `authz_denied` audit entry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { withSql } from "../support/admin-sql.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { loginAsNewUser, postLogin, sessionCookieOf, testAdmin } from "../support/session.ts"

let stores: TestStores
let app: Awaited<ReturnType<typeof startAppPromise>>

beforeAll(async () => {
  stores = await createTestStores()
  app = await startAppPromise(testEnv(stores))
})
afterAll(() => app?.stop())

let counter = 0
/** A request id of our own, to find the audit entry of exactly this request. */
const requestId = () => `csrf-test-${++counter}`

const denial = async (id: string) =>
  (
    await withSql(
      stores.databaseUrl,
      (sql) =>
        sql<{
          actor_type: string
          actor_id: string
          reason: string
          details: Record<string, unknown>
          client_address: string
        }>`
        SELECT actor_type, actor_id, reason, details, client_address FROM audit_log
        WHERE action = 'authz_denied' AND request_id = ${id}`
    )
  )[0]

describe("cross-site requests", () => {
  it("refuses a sign-in posted from another origin, and audits it", async () => {
    const id = requestId()
    const response = await postLogin(app.baseUrl, testAdmin.email, testAdmin.password, {
      origin: "https://evil.example",
      "x-request-id": id
    })
    expect(response.status).toBe(403)
    expect(sessionCookieOf(response)).toBeUndefined()
    expect(await denial(id)).toMatchObject({
      actor_type: "anonymous",
      client_address: "127.0.0.1",
      details: { method: "POST", route: "/login", permission: null }
    })
    expect((await denial(id))?.reason).toContain("evil.example")
  })

  it("refuses a request the browser marks Sec-Fetch-Site: cross-site", async () => {
    const id = requestId()
    const response = await postLogin(app.baseUrl, testAdmin.email, testAdmin.password, {
      "sec-fetch-site": "cross-site",
      "x-request-id": id
    })
    expect(response.status).toBe(403)
    expect((await denial(id))?.reason).toContain("cross-site")
  })

  it("accepts a same-origin sign-in (Origin equal to the request's host)", async () => {
    const response = await postLogin(app.baseUrl, testAdmin.email, testAdmin.password, {
      origin: app.baseUrl,
      "sec-fetch-site": "same-origin"
    })
    expect(response.status).toBe(303)
  })

  it("refuses a cross-site request even with the right token", async () => {
    const session = await loginAsNewUser(app, { email: "x1@test.local", role: "viewer" })
    const id = requestId()
    const response = await session.fetch("/logout", {
      method: "POST",
      headers: { origin: "http://attacker.example", "x-request-id": id }
    })
    expect(response.status).toBe(403)
    expect(await denial(id)).toMatchObject({ actor_type: "user", actor_id: session.user.id })
    expect((await session.fetch("/about")).status).toBe(200)
  })
})

describe("the session's CSRF token", () => {
  it("refuses a state change without the token, or with a wrong one, and audits both", async () => {
    const session = await loginAsNewUser(app, { email: "x2@test.local", role: "viewer" })
    const post = (body: URLSearchParams, headers: Record<string, string>) =>
      fetch(`${app.baseUrl}/logout`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie: session.cookie, "content-type": "application/x-www-form-urlencoded", ...headers },
        body
      })
    const missingId = requestId()
    const missing = await post(new URLSearchParams(), { "x-request-id": missingId })
    expect(missing.status).toBe(403)
    expect(await missing.text()).toContain("reload the page")
    const wrongId = requestId()
    const wrong = await post(new URLSearchParams({ _csrf: `${session.csrfToken.slice(0, -1)}x` }), {
      "x-request-id": wrongId
    })
    expect(wrong.status).toBe(403)
    const wrongHeader = await post(new URLSearchParams(), { "x-csrf-token": "nope" })
    expect(wrongHeader.status).toBe(403)
    for (const id of [missingId, wrongId])
      expect(await denial(id)).toMatchObject({ actor_id: session.user.id, reason: "CSRF token missing or wrong" })
    // Still signed in: nothing happened.
    expect((await session.fetch("/about")).status).toBe(200)
    // JSON clients get the code.
    const json = await fetch(`${app.baseUrl}/logout`, {
      method: "POST",
      headers: { cookie: session.cookie, accept: "application/json" }
    })
    expect(json.status).toBe(403)
    expect((await json.json()).error.code).toBe("csrf_rejected")
  })

  it("accepts the right token as a form field", async () => {
    const session = await loginAsNewUser(app, { email: "x3@test.local", role: "viewer" })
    const response = await session.postForm("/logout")
    expect(response.status).toBe(303)
    expect((await session.fetch("/about")).status).toBe(303)
  })

  it("accepts the right token in the X-CSRF-Token header (what htmx sends)", async () => {
    const session = await loginAsNewUser(app, { email: "x4@test.local", role: "viewer" })
    const response = await fetch(`${app.baseUrl}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: session.cookie, "x-csrf-token": session.csrfToken, "hx-request": "true" }
    })
    expect(response.status).toBe(303)
  })

  it("gives each session its own token, and puts it on <body> for htmx and in the logout form", async () => {
    const a = await loginAsNewUser(app, { email: "x5@test.local", role: "viewer" })
    const b = await loginAsNewUser(app, { email: "x6@test.local", role: "viewer" })
    expect(a.csrfToken).not.toBe(b.csrfToken)
    const page = await (await a.fetch("/about")).text()
    expect(page).toContain(`hx-headers:inherited="{&quot;X-CSRF-Token&quot;:&quot;${a.csrfToken}&quot;}"`)
    expect(page).toContain(`<input type="hidden" name="_csrf" value="${a.csrfToken}">`)
    // A's token does not work for B's session.
    const crossed = await fetch(`${app.baseUrl}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: b.cookie, "x-csrf-token": a.csrfToken }
    })
    expect(crossed.status).toBe(403)
  })
})

describe("bearer credentials", () => {
  it("are not cookie-based, so need no CSRF token; an unknown key is 401 and audited", async () => {
    const id = requestId()
    const response = await fetch(`${app.baseUrl}/api/v1/system`, {
      headers: { authorization: "Bearer bw_not_a_key", "x-request-id": id }
    })
    expect(response.status).toBe(401)
    expect((await response.json()).error.code).toBe("unauthenticated")
    expect(await denial(id)).toMatchObject({ actor_type: "anonymous", reason: "no valid credentials" })
  })
})
