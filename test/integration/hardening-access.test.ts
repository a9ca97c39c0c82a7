/**
 * Issue 9's access defects on the whole application: four-eyes compares people (a key acts as its
 * owner, so its owner cannot approve their own request through it or another key of theirs);
 * event streams end within 5 s once their credential no longer stands; re-authentication guards
 * every change a stolen session could do damage with, and never a trip.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { hashSessionId } from "../../src/core/auth/sessions.ts"
import { loginAsAdmin, loginAsNewUser, type TestSession } from "../support/session.ts"
import { sseEvents } from "../support/sse.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
let admin: TestSession

const REASON = "venue latency above the limit, halting while we check"
const RESET_REASON = "latency back to normal, checked by the desk"

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
})

const json = (session: TestSession, method: string, path: string, body: unknown) =>
  session.fetch(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

const newKey = async (session: TestSession, scopes: ReadonlyArray<string>) => {
  const res = await json(session, "POST", "/api/v1/api-keys", { name: `key ${Math.random()}`, scopes, expiresIn: "7d" })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as { key: { id: string }; apiKey: string }
}

const withKey = (key: string, method: string, path: string, body?: unknown) =>
  fetch(`${testApp.app.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })

/** Makes a session's sign-in older than the re-authentication window. */
const ageSignIn = (session: TestSession) =>
  testApp.query("UPDATE sessions SET authenticated_at = now() - interval '10 minutes' WHERE id_hash = $1", [
    hashSessionId(session.cookie.split("=")[1] ?? "")
  ])

const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

describe("four-eyes compares people (defect 4)", () => {
  let scope: string
  beforeAll(async () => {
    scope = "four-eyes"
    expect((await json(admin, "POST", "/api/v1/breaker/scopes", { scope })).status).toBe(201)
    expect((await json(admin, "PUT", "/api/v1/breaker/settings", { reset_approvals: 2 })).status).toBe(200)
  })

  /** Trips the scope and files a reset request; its id. */
  const tripAndRequest = async (request: () => Promise<Response>) => {
    const trip = await json(admin, "POST", `/api/v1/breaker/${scope}/trip`, { reason: REASON, acknowledge: true })
    expect(trip.status).toBe(200)
    const requested = await request()
    expect(requested.status, await requested.clone().text()).toBe(202)
    return ((await requested.json()) as { request: { id: string } }).request.id
  }

  it("an admin's request from the console cannot be approved with that admin's own API key", async () => {
    const key = await newKey(admin, ["RESET_CIRCUIT_BREAKER", "TRIP_CIRCUIT_BREAKER"])
    const trip = await json(admin, "POST", `/api/v1/breaker/${scope}/trip`, { reason: REASON, acknowledge: true })
    expect(trip.status).toBe(200)
    const requested = await admin.postForm(`/breaker/${scope}/reset`, { reason: RESET_REASON, acknowledge: "on" })
    expect(requested.status).toBe(303)
    const list = (await (await admin.fetch("/api/v1/breaker/approvals")).json()) as {
      requests: Array<{ id: string; scope: string }>
    }
    const id = list.requests.find((r) => r.scope === scope)?.id ?? ""
    const approve = await withKey(key.apiKey, "POST", `/api/v1/breaker/${scope}/approvals/${id}/approve`, {
      acknowledge: true
    })
    expect(approve.status).toBe(403)
    expect(await codeOf(approve)).toBe("approval_refused")
  })

  it("a request made with one of an admin's keys cannot be approved with another of theirs", async () => {
    const first = await newKey(admin, ["RESET_CIRCUIT_BREAKER"])
    const second = await newKey(admin, ["RESET_CIRCUIT_BREAKER"])
    const id = await tripAndRequest(() =>
      withKey(first.apiKey, "POST", `/api/v1/breaker/${scope}/reset`, { reason: RESET_REASON, acknowledge: true })
    )
    const approve = await withKey(second.apiKey, "POST", `/api/v1/breaker/${scope}/approvals/${id}/approve`, {
      acknowledge: true
    })
    expect(approve.status).toBe(403)
    expect(await codeOf(approve)).toBe("approval_refused")
    // Nor in the console, as the same person.
    const console = await admin.fetch(`/api/v1/breaker/${scope}/approvals/${id}/approve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ acknowledge: true })
    })
    expect(console.status).toBe(403)
    // Another person approves it.
    const other = await loginAsNewUser(testApp.app, { email: "second@test.local", role: "operator" })
    const approved = await json(other, "POST", `/api/v1/breaker/${scope}/approvals/${id}/approve`, {
      acknowledge: true
    })
    expect(approved.status, await approved.clone().text()).toBe(200)
    await json(admin, "PUT", "/api/v1/breaker/settings", { reset_approvals: 1 })
  })
})

/** Opens the breaker stream with the given headers; resolves how long after `cut()` it ended. */
const streamEndsAfter = async (headers: Record<string, string>, cut: () => Promise<unknown>) => {
  const res = await fetch(`${testApp.app.baseUrl}/api/v1/breaker/stream`, { headers })
  expect(res.status).toBe(200)
  if (res.body === null) throw new Error("no body")
  const events = sseEvents(res.body)
  await events.waitFor("snapshot", (e) => e.event === "snapshot")
  const started = performance.now()
  await cut()
  await expect(events.waitFor("the end", () => false, 8_000)).rejects.toThrow("ended")
  return performance.now() - started
}

describe("event streams re-check their credential (defect 7)", () => {
  it("ends a key's stream within 5 s of the key's revocation", async () => {
    const key = await newKey(admin, ["VIEW_CIRCUIT_BREAKER"])
    const ms = await streamEndsAfter({ authorization: `Bearer ${key.apiKey}` }, () =>
      json(admin, "POST", `/api/v1/api-keys/${key.key.id}/revoke`, {})
    )
    expect(ms).toBeLessThan(5_000)
  })

  it("ends a key's stream when the key is revoked elsewhere (directly in the database: another replica)", async () => {
    const key = await newKey(admin, ["VIEW_CIRCUIT_BREAKER"])
    const ms = await streamEndsAfter({ authorization: `Bearer ${key.apiKey}` }, () =>
      testApp.query("UPDATE api_keys SET revoked_at = now() WHERE id = $1", [key.key.id])
    )
    expect(ms).toBeLessThan(5_000)
  })

  it("ends a session's stream within 5 s of signing out", async () => {
    const user = await loginAsNewUser(testApp.app, { email: "streamer@test.local", role: "viewer" })
    const ms = await streamEndsAfter({ cookie: user.cookie }, () => user.postForm("/logout"))
    expect(ms).toBeLessThan(5_000)
  })

  it("ends a session's stream and a key's stream within 5 s of the user being disabled", async () => {
    const user = await loginAsNewUser(testApp.app, { email: "disabled-later@test.local", role: "admin" })
    const key = await newKey(user, ["VIEW_CIRCUIT_BREAKER"])
    const keyStream = streamEndsAfter({ authorization: `Bearer ${key.apiKey}` }, async () => undefined)
    const ms = await streamEndsAfter({ cookie: user.cookie }, () =>
      admin.postForm(`/admin/users/${user.user.id}/disable`)
    )
    expect(ms).toBeLessThan(5_000)
    expect(await keyStream).toBeLessThan(8_000)
  })
})

describe("re-authentication where a stolen session does damage", () => {
  it("never for a trip: an old sign-in trips in one step, in the API and the console", async () => {
    const operator = await loginAsNewUser(testApp.app, { email: "old-signin@test.local", role: "operator" })
    await ageSignIn(operator)
    expect((await json(admin, "POST", "/api/v1/breaker/scopes", { scope: "reauth-a" })).status).toBe(201)
    expect((await json(admin, "POST", "/api/v1/breaker/scopes", { scope: "reauth-b" })).status).toBe(201)
    const api = await json(operator, "POST", "/api/v1/breaker/reauth-a/trip", { reason: REASON, acknowledge: true })
    expect(api.status).toBe(200)
    const form = await operator.postForm("/breaker/reauth-b/trip", { reason: REASON, acknowledge: "on" })
    expect(form.status).toBe(303)
    // A reset asks for the password.
    const reset = await json(operator, "POST", "/api/v1/breaker/reauth-a/reset", {
      reason: RESET_REASON,
      acknowledge: true
    })
    expect(reset.status).toBe(403)
    expect(await codeOf(reset)).toBe("reauthentication_required")
  })

  it.each([
    ["create a scope", "POST", "/api/v1/breaker/scopes", { scope: "reauth-c" }],
    ["change settings", "PUT", "/api/v1/breaker/settings", { quiet_period_seconds: 60 }],
    ["create an API key", "POST", "/api/v1/api-keys", { name: "x", scopes: ["VIEW_DASHBOARD"], expiresIn: "7d" }]
  ])("asks an old sign-in for the password to %s (API)", async (_, method, path, body) => {
    const other = await loginAsNewUser(testApp.app, { email: `admin-${Math.random()}@test.local`, role: "admin" })
    await ageSignIn(other)
    const refused = await json(other, method, path, body)
    expect(refused.status).toBe(403)
    expect(await codeOf(refused)).toBe("reauthentication_required")
    const password = "admin-password-1234"
    const allowed = await json(other, method, path, { ...body, password })
    expect(allowed.status, await allowed.clone().text()).toBeLessThan(300)
  })

  it("asks an old sign-in for the password to revoke a key, disable a user or end sessions", async () => {
    const other = await loginAsNewUser(testApp.app, { email: "old-admin@test.local", role: "admin" })
    const victim = await loginAsNewUser(testApp.app, { email: "victim@test.local", role: "viewer" })
    const key = await newKey(other, ["VIEW_DASHBOARD"])
    await ageSignIn(other)
    const revoke = await json(other, "POST", `/api/v1/api-keys/${key.key.id}/revoke`, {})
    expect(revoke.status).toBe(403)
    const revokeForm = await other.postForm(`/admin/api-keys/${key.key.id}/revoke`)
    expect(revokeForm.status).toBe(403)
    for (const action of ["disable", "end-sessions"]) {
      const res = await other.postForm(`/admin/users/${victim.user.id}/${action}`)
      expect(res.status, action).toBe(403)
    }
    // Nothing happened: the key and the victim's session still work.
    expect((await withKey(key.apiKey, "GET", "/api/v1/system")).status).toBe(200)
    expect((await victim.fetch("/api/v1/breaker")).status).toBe(200)
    // The page asks once, above the table, and its buttons wait for it.
    const page = await (await other.fetch("/admin/users")).text()
    expect(page).toContain('action="/reauthenticate"')
    expect(page).toMatch(/data-form="disable"[\s\S]*?disabled title="Confirm with your password first"/)
    const wrong = await other.postForm("/reauthenticate", { password: "not it", next: "/admin/users" })
    expect(wrong.headers.get("location")).toBe("/admin/users?reauth=wrong")
    expect(await (await other.fetch("/admin/users?reauth=wrong")).text()).toContain("The password is wrong.")
    const confirmed = await other.postForm("/reauthenticate", { password: "admin-password-1234", next: "/admin/users" })
    expect(confirmed.status).toBe(303)
    expect(confirmed.headers.get("location")).toBe("/admin/users")
    // Confirmed: the change goes through in one step, for the next minutes.
    const done = await other.postForm(`/admin/users/${victim.user.id}/disable`)
    expect(done.status).toBe(303)
    expect((await victim.fetch("/api/v1/breaker")).status).toBe(401)
  })
})
