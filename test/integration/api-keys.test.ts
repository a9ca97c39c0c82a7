import { beforeAll, describe, expect, it } from "vitest"
import { API_KEY_PATTERN } from "../../src/core/auth/api-key-format.ts"
import { VERIFIED_KEY_TTL_MS } from "../../src/core/auth/api-keys.ts"
import { loginAsAdmin, loginAsNewUser, type TestSession } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
let admin: TestSession

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
})

const sql = testApp.query

const createKey = (session: TestSession, body: Record<string, unknown>) =>
  session.fetch("/api/v1/api-keys", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })

const bearer = (key: string, path: string, init: RequestInit = {}) =>
  fetch(`${testApp.app.baseUrl}${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${key}` } })

const newKey = async (scopes: ReadonlyArray<string>, expiresIn = "30d") => {
  const res = await createKey(admin, { name: `key ${scopes.join("+")}`, scopes, expiresIn })
  expect(res.status).toBe(201)
  return (await res.json()) as { key: { id: string; name: string; scopes: Array<string> }; apiKey: string }
}

describe("API keys", () => {
  it("shows a new key once, in the creation response, and stores only its hash", async () => {
    const created = await newKey(["VIEW_DASHBOARD", "VIEW_AUDIT"])
    expect(created.apiKey).toMatch(API_KEY_PATTERN)
    expect(created.apiKey.startsWith(`bw_${created.key.id}_`)).toBe(true)
    const list = await (await admin.fetch("/api/v1/api-keys")).text()
    expect(list).toContain(created.key.id)
    expect(list).not.toContain(created.apiKey)
    const [stored] = await sql<{ secret_hash: string }>("SELECT secret_hash FROM api_keys WHERE id = $1", [
      created.key.id
    ])
    expect(created.apiKey).not.toContain(stored?.secret_hash ?? "none")
    const audit = await sql<{ details: unknown }>(
      "SELECT details FROM audit_log WHERE action = 'api_key.create' AND resource_id = $1",
      [created.key.id]
    )
    expect(audit).toHaveLength(1)
    expect(JSON.stringify(audit[0]?.details)).not.toContain(created.apiKey)
  })

  it("authenticates /api/v1 with exactly its scopes", async () => {
    const { apiKey } = await newKey(["VIEW_DASHBOARD"])
    expect((await bearer(apiKey, "/api/v1/system")).status).toBe(200)
    const denied = await bearer(apiKey, "/api/v1/audit")
    expect(denied.status).toBe(403)
    expect((await denied.json()).error.code).toBe("forbidden")
  })

  it("refuses unknown, malformed and tampered keys with 401", async () => {
    const { apiKey } = await newKey(["VIEW_DASHBOARD"])
    const tampered = apiKey.slice(0, -8) + (apiKey.at(-8) === "a" ? "b" : "a") + apiKey.slice(-7)
    for (const token of ["nonsense", "bw_000000000000_x", tampered]) {
      const res = await bearer(token, "/api/v1/system")
      expect(res.status, token).toBe(401)
    }
  })

  it("stops working at once when revoked", async () => {
    const { key, apiKey } = await newKey(["VIEW_DASHBOARD"])
    expect((await bearer(apiKey, "/api/v1/system")).status).toBe(200)
    const revoked = await admin.fetch(`/api/v1/api-keys/${key.id}/revoke`, { method: "POST" })
    expect(revoked.status).toBe(200)
    expect((await revoked.json()).revokedAt).not.toBeNull()
    expect((await bearer(apiKey, "/api/v1/system")).status).toBe(401)
    expect(
      await sql("SELECT 1 FROM audit_log WHERE action = 'api_key.revoke' AND resource_id = $1", [key.id])
    ).toHaveLength(1)
  })

  it("stops working once expired", async () => {
    const { key, apiKey } = await newKey(["VIEW_DASHBOARD"])
    await sql("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [key.id])
    expect((await bearer(apiKey, "/api/v1/system")).status).toBe(401)
  })

  it("records the last use at most once a minute", async () => {
    const { key, apiKey } = await newKey(["VIEW_DASHBOARD"])
    const lastUse = async () =>
      (await sql<{ last_used_at: Date | null }>("SELECT last_used_at FROM api_keys WHERE id = $1", [key.id]))[0]
        ?.last_used_at
    expect(await lastUse()).toBeNull()
    await bearer(apiKey, "/api/v1/system")
    await new Promise((r) => setTimeout(r, 200))
    const first = await lastUse()
    expect(first).not.toBeNull()
    await bearer(apiKey, "/api/v1/system")
    await new Promise((r) => setTimeout(r, 200))
    expect(await lastUse()).toEqual(first)
  })

  it("refuses scopes the owner does not hold, unknown permissions, and lifetimes over a year", async () => {
    const bad = await createKey(admin, { name: "bad", scopes: ["NOT_A_PERMISSION"], expiresIn: "30d" })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.issues[0].path).toBe("scopes")
    const long = await createKey(admin, { name: "long", scopes: ["VIEW_DASHBOARD"], expiresIn: "2y" })
    expect(long.status).toBe(400)
    expect((await long.json()).error.issues[0].path).toBe("expiresIn")
    const missing = await createKey(admin, { name: "no expiry", scopes: ["VIEW_DASHBOARD"] })
    expect(missing.status).toBe(400)
  })

  it("loses what its owner loses: a demoted or disabled owner's key is narrowed or refused at once", async () => {
    const owner = await loginAsNewUser(testApp.app, { email: "keyowner@test.local", role: "admin" })
    const res = await createKey(owner, { name: "owner key", scopes: ["VIEW_DASHBOARD", "VIEW_AUDIT"], expiresIn: "7d" })
    expect(res.status).toBe(201)
    const { apiKey } = (await res.json()) as { apiKey: string }
    expect((await bearer(apiKey, "/api/v1/audit")).status).toBe(200)
    // Through this process: the verified key is forgotten with the change.
    expect((await admin.postForm(`/admin/users/${owner.user.id}/role`, { role: "viewer" })).status).toBe(303)
    expect((await bearer(apiKey, "/api/v1/audit")).status).toBe(403)
    expect((await bearer(apiKey, "/api/v1/system")).status).toBe(200)
    expect((await admin.postForm(`/admin/users/${owner.user.id}/disable`)).status).toBe(303)
    expect((await bearer(apiKey, "/api/v1/system")).status).toBe(401)
  })

  it("applies a revocation made elsewhere (another replica, the CLI) within the verified-key TTL", async () => {
    const { key, apiKey } = await newKey(["VIEW_DASHBOARD"])
    expect((await bearer(apiKey, "/api/v1/system")).status).toBe(200)
    await sql("UPDATE api_keys SET revoked_at = now() WHERE id = $1", [key.id])
    const deadline = Date.now() + VERIFIED_KEY_TTL_MS + 2_000
    let status = 0
    while (Date.now() < deadline && status !== 401) {
      status = (await bearer(apiKey, "/api/v1/system")).status
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(status).toBe(401)
  })

  it("needs the password again when the sign-in is older than five minutes", async () => {
    const owner = await loginAsNewUser(testApp.app, {
      email: "reauth@test.local",
      role: "admin",
      password: "reauth-password-123"
    })
    await sql("UPDATE sessions SET authenticated_at = now() - interval '10 minutes' WHERE user_id = $1", [
      owner.user.id
    ])
    const refused = await createKey(owner, { name: "late", scopes: ["VIEW_DASHBOARD"], expiresIn: "7d" })
    expect(refused.status).toBe(403)
    expect((await refused.json()).error.code).toBe("reauthentication_required")
    const allowed = await createKey(owner, {
      name: "late",
      scopes: ["VIEW_DASHBOARD"],
      expiresIn: "7d",
      password: "reauth-password-123"
    })
    expect(allowed.status).toBe(201)
  })

  it("cannot mint keys with a key", async () => {
    const { apiKey } = await newKey(["MANAGE_API_KEYS"])
    const res = await bearer(apiKey, "/api/v1/api-keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "child", scopes: ["VIEW_DASHBOARD"], expiresIn: "1d" })
    })
    expect(res.status).toBe(403)
  })
})
