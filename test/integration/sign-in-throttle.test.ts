/**
 * Sign-in throttling per address as well as per account, and what the audit log keeps of a
 * sign-in with an unknown identifier (issue 9, defects 9 and 10). Clients send from other loopback
 * addresses (Linux routes all of 127.0.0.0/8 to `lo`) with `node:http`'s `localAddress`, so the
 * server, listening on 127.0.0.1, sees several addresses.
 */
import { createHmac } from "node:crypto"
import { request } from "node:http"
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { verifyAgainstDummy } from "../../src/core/auth/passwords.ts"
import { SESSION_COOKIE } from "../../src/core/auth/sessions.ts"
import { createUser, postLogin, sessionFor, testAdmin } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
const { query } = testApp

interface Answer {
  readonly status: number
  readonly body: string
  /** The session cookie's value, when the answer sets one. */
  readonly session: string | undefined
}

/** One HTTP request to the test app, sent from `from` (a loopback address). */
const sendFrom = (
  from: string,
  path: string,
  init: { readonly method: string; readonly headers?: Record<string, string>; readonly body?: string }
) =>
  new Promise<Answer>((resolve, reject) => {
    const url = new URL(path, testApp.app.baseUrl)
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: init.method,
        localAddress: from,
        headers: init.headers
      },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          body += chunk
        })
        res.on("end", () => {
          const cookie = (res.headers["set-cookie"] ?? [])
            .map((line) => line.split(";")[0] ?? "")
            .find((pair) => pair.startsWith(`${SESSION_COOKIE}=`))
          resolve({ status: res.statusCode ?? 0, body, session: cookie?.slice(SESSION_COOKIE.length + 1) })
        })
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    req.end(init.body)
  })

const loginFrom = (from: string, email: string, password: string) =>
  sendFrom(from, "/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email, password }).toString()
  })

const refusalOf = (body: string) => /<p role="alert"[^>]*>([^<]*)<\/p>/.exec(body)?.[1]

interface AuditRow {
  readonly action: string
  readonly outcome: string
  readonly reason: string | null
  readonly resource_type: string
  readonly resource_id: string | null
  readonly details: Record<string, unknown>
  readonly client_address: string | null
}

const auditWhere = (condition: string, params: ReadonlyArray<unknown>) =>
  query<AuditRow>(
    `SELECT action, outcome, reason, resource_type, resource_id, details, client_address FROM audit_log WHERE ${condition} ORDER BY id`,
    params
  )

/** Failed sign-ins counted against an address (on one account's email, if given). */
const failuresFrom = async (address: string, email?: string) => {
  const [row] = await query<{ n: string }>(
    `SELECT count(*) AS n FROM login_failures f LEFT JOIN users u ON u.id = f.user_id
      WHERE f.client_address = $1 AND ($2::text IS NULL OR u.email = $2)`,
    [address, email ?? null]
  )
  return Number(row?.n)
}

const adminId = async () =>
  (await query<{ id: string }>("SELECT id FROM users WHERE email = $1", [testAdmin.email]))[0]?.id ?? ""

describe("throttling per address as well as per account", () => {
  it("ten wrong guesses for the administrator from one address do not lock the administrator out elsewhere", async () => {
    const id = await adminId()
    for (let i = 0; i < 10; i++) expect((await loginFrom("127.0.0.2", testAdmin.email, `guess-${i}`)).status).toBe(401)
    // The guessing address is throttled for this account: even the right password is refused there,
    // with the same words as any other refusal.
    const there = await loginFrom("127.0.0.2", testAdmin.email, testAdmin.password)
    expect(there.status).toBe(401)
    expect(there.session).toBeUndefined()
    const generic = await loginFrom("127.0.0.2", "nobody-at-all@test.local", "whatever")
    expect(refusalOf(there.body)).toBeDefined()
    expect(refusalOf(there.body)).toBe(refusalOf(generic.body))

    // The real administrator, elsewhere, signs in.
    const here = await postLogin(testApp.app.baseUrl, testAdmin.email, testAdmin.password)
    expect(here.status).toBe(303)
    // …and that does not forgive the other address's guesses.
    expect((await loginFrom("127.0.0.2", testAdmin.email, testAdmin.password)).status).toBe(401)

    const lockouts = await auditWhere("action = 'auth.lockout' AND resource_id = $1", [id])
    expect(lockouts).toHaveLength(1)
    expect(lockouts[0]).toMatchObject({ outcome: "denied", client_address: "127.0.0.2" })
    expect(lockouts[0]?.details).toMatchObject({ address: "127.0.0.2", failures: 10, windowMinutes: 15 })
    const denied = await auditWhere("action = 'auth.login' AND outcome = 'denied' AND resource_id = $1", [id])
    expect(denied).toHaveLength(2)
    expect(denied.every((d) => d.client_address === "127.0.0.2")).toBe(true)
  })

  it("re-authentication is counted per account and address too", async () => {
    await createUser(testApp.app, { email: "ria@test.local", role: "admin", password: "ria-password-1234" })
    const target = await createUser(testApp.app, {
      email: "rit@test.local",
      role: "viewer",
      password: "rit-password-1234"
    })
    const signedIn = await postLogin(testApp.app.baseUrl, "ria@test.local", "ria-password-1234")
    const cookie = /__Host-breakwater_session=([^;]+)/.exec(signedIn.headers.get("set-cookie") ?? "")?.[1] ?? ""
    const session = await sessionFor(testApp.app.baseUrl, cookie)
    for (let i = 0; i < 10; i++) await loginFrom("127.0.0.6", "ria@test.local", `guess-${i}`)
    await query(
      "UPDATE sessions SET authenticated_at = now() - interval '6 minutes' WHERE user_id = (SELECT id FROM users WHERE email = 'ria@test.local')"
    )
    const wrong = await session.postForm(`/admin/users/${target.id}/role`, { role: "operator", password: "nope-nope" })
    expect(wrong.status).toBe(403)
    const [failed] = await auditWhere(
      "action = 'auth.reauthenticate' AND outcome = 'failure' AND details->>'email' = $1",
      ["ria@test.local"]
    )
    expect(failed?.details).toMatchObject({ address: "127.0.0.1", accountFailures: 1 })
    const right = await session.postForm(`/admin/users/${target.id}/role`, {
      role: "operator",
      password: "ria-password-1234"
    })
    expect(right.status).toBe(303)
    // The wrong re-authentication was counted against this client's address; the right one forgave it.
    expect(await failuresFrom("127.0.0.6", "ria@test.local")).toBe(10)
    expect(await failuresFrom("127.0.0.1", "ria@test.local")).toBe(0)
  })

  it("stops one address after 30 failures across accounts and unknown identifiers, and only that address", async () => {
    await createUser(testApp.app, { email: "spa@test.local", role: "viewer", password: "spa-password-1234" })
    await createUser(testApp.app, { email: "spb@test.local", role: "viewer", password: "spb-password-1234" })
    await createUser(testApp.app, { email: "spc@test.local", role: "viewer", password: "spc-password-1234" })
    for (let i = 0; i < 30; i++) {
      const email = i < 10 ? "spa@test.local" : i < 15 ? "spb@test.local" : `sprayed-${i}@test.local`
      expect((await loginFrom("127.0.0.3", email, `Summer2024!-${i}`)).status).toBe(401)
    }
    // An account never guessed from there, with its right password: refused without a check…
    const refused = await loginFrom("127.0.0.3", "spc@test.local", "spc-password-1234")
    expect(refused.status).toBe(401)
    expect(refused.session).toBeUndefined()
    // …but the same sign-in from another address works.
    expect((await postLogin(testApp.app.baseUrl, "spc@test.local", "spc-password-1234")).status).toBe(303)
    expect((await postLogin(testApp.app.baseUrl, "spb@test.local", "spb-password-1234")).status).toBe(303)

    const throttles = await auditWhere("action = 'auth.throttle'", [])
    expect(throttles).toHaveLength(1)
    expect(throttles[0]).toMatchObject({
      outcome: "denied",
      resource_type: "client_address",
      resource_id: "127.0.0.3",
      client_address: "127.0.0.3"
    })
    expect(throttles[0]?.details).toMatchObject({ failures: 30, windowMinutes: 15 })
    const spc = await auditWhere("action = 'auth.login' AND outcome = 'denied' AND details->>'email' = $1", [
      "spc@test.local"
    ])
    expect(spc).toHaveLength(1)
    expect(spc[0]?.reason).toBe("too many failed sign-ins from this address")

    // A refusal without a check still takes as long as one argon2 verification. Timed as the
    // fastest of three verifications against the slowest of three refusals, so a loaded CI machine
    // cannot fail it, while a refusal that skipped the verification (about 1 ms) still would.
    const timed = async (f: () => Promise<unknown>) => {
      const start = performance.now()
      await f()
      return performance.now() - start
    }
    const verifications: Array<number> = []
    const refusals: Array<number> = []
    for (let i = 0; i < 3; i++) {
      verifications.push(await timed(() => Effect.runPromise(verifyAgainstDummy(Redacted.make("x")))))
      refusals.push(await timed(() => loginFrom("127.0.0.3", "spc@test.local", "spc-password-1234")))
    }
    expect(Math.max(...refusals)).toBeGreaterThanOrEqual(Math.min(...verifications) * 0.5)
  })

  it("counts parallel guesses from one address exactly: 40 at once leave 30 failures", async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => loginFrom("127.0.0.7", `parallel-${i}@test.local`, "guess"))
    )
    expect(answers.every((a) => a.status === 401)).toBe(true)
    expect(await failuresFrom("127.0.0.7")).toBe(30)
    const denied = await auditWhere("action = 'auth.login' AND outcome = 'denied' AND client_address = $1", [
      "127.0.0.7"
    ])
    expect(denied).toHaveLength(10)
  })

  it("under a distributed attack on one account, an address gets 3 tries and a fresh address still gets its own", async () => {
    const user = await createUser(testApp.app, {
      email: "dis@test.local",
      role: "admin",
      password: "dis-password-1234"
    })
    // 99 failures from 99 other addresses within the window (a botnet, 1 guess each).
    await query(
      `INSERT INTO login_failures (user_id, client_address)
        SELECT $1, '10.9.' || (i / 256) || '.' || (i % 256) FROM generate_series(1, 99) AS i`,
      [user.id]
    )
    for (let i = 0; i < 3; i++) expect((await loginFrom("127.0.0.8", "dis@test.local", `guess-${i}`)).status).toBe(401)
    const attack = await auditWhere("action = 'auth.distributed_attack' AND resource_id = $1", [user.id])
    expect(attack).toHaveLength(1)
    expect(attack[0]?.details).toMatchObject({ failures: 100, windowMinutes: 15, perAddressLimit: 3 })
    // A fourth attempt from the same address is refused even with the right password…
    expect((await loginFrom("127.0.0.8", "dis@test.local", "dis-password-1234")).status).toBe(401)
    // …while the real user, from an address without failures, signs in.
    expect((await loginFrom("127.0.0.9", "dis@test.local", "dis-password-1234")).status).toBe(303)
  })
})

describe("what is recorded of an unknown identifier", () => {
  const typed = "Tr0ub4dor&3-my-real-password"

  it("audits a keyed hash of it, never the text (a password typed into the email field)", async () => {
    const first = await loginFrom("127.0.0.10", typed, "whatever-1")
    const second = await loginFrom("127.0.0.10", ` ${typed.toUpperCase()} `, "whatever-2")
    await loginFrom("127.0.0.10", "someone-else@test.local", "whatever-3")
    expect([first.status, second.status]).toEqual([401, 401])

    // Nowhere in any audit row, in any column, in any case.
    const leaked = await query("SELECT id FROM audit_log a WHERE position($1 IN lower(a::text)) > 0", [
      typed.toLowerCase()
    ])
    expect(leaked).toEqual([])

    const rows = await auditWhere(
      "action = 'auth.login' AND reason = 'unknown account' AND client_address = '127.0.0.10'",
      []
    )
    expect(rows).toHaveLength(3)
    const hashes = rows.map((r) => r.details.identifierHash)
    for (const h of hashes) expect(h).toMatch(/^[0-9a-f]{16}$/)
    // The same identifier (up to case and surrounding spaces, as sign-in matches emails) hashes alike.
    expect(hashes[0]).toBe(hashes[1])
    expect(hashes[2]).not.toBe(hashes[0])
    for (const r of rows) {
      expect(r.details).not.toHaveProperty("email")
      expect(r.resource_id).toBeNull()
    }

    // HMAC-SHA-256 under this installation's key: an administrator can check a suspected value.
    const [key] = await query<{ key: string }>("SELECT key FROM identifier_hash_key")
    expect(key?.key).toMatch(/^[0-9a-f]{64}$/)
    const expected = createHmac("sha256", Buffer.from(key?.key ?? "", "hex"))
      .update(typed.toLowerCase())
      .digest("hex")
      .slice(0, 16)
    expect(hashes[0]).toBe(expected)
  })

  it("records a known account by its stored email, never by what was typed", async () => {
    const user = await createUser(testApp.app, {
      email: "Kim@test.local",
      role: "viewer",
      password: "kim-password-1234"
    })
    await query("UPDATE users SET disabled = true WHERE id = $1", [user.id])
    await loginFrom("127.0.0.12", "  kIM@TEST.local ", "kim-password-1234")
    const rows = await auditWhere("resource_id = $1 AND action = 'auth.login'", [user.id])
    expect(rows.at(-1)).toMatchObject({ outcome: "failure", reason: "account disabled" })
    expect(rows.at(-1)?.details).toMatchObject({ email: "Kim@test.local", address: "127.0.0.12" })
  })
})
