/**
 * Idempotency keys on the JSON API, through the whole application (real PostgreSQL and Redis):
 * replay of the first answer (once executed), 422 for a key reused with another request, 20
 * concurrent duplicates executing once, callers' keys kept apart, failed first attempts retried,
 * a duplicate waiting for a running first request (and 409 when it keeps running), dead claims
 * taken over, secrets never stored, bad keys refused, and the header ignored where it does not apply.
 */
import { randomUUID } from "node:crypto"
import { beforeAll, describe, expect, it } from "vitest"
import { fingerprintOf } from "../../src/core/idempotency/policy.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
let admin: TestSession
let alice: { readonly id: string; readonly secret: string }
let bob: { readonly id: string; readonly secret: string }

const REASON = "venue latency above the limit, halting while we check"
const SCOPES = ["VIEW_CIRCUIT_BREAKER", "TRIP_CIRCUIT_BREAKER", "MANAGE_SYSTEM_CONFIG"]

const newKey = async (name: string) => {
  const res = await admin.fetch("/api/v1/api-keys", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, scopes: SCOPES, expiresIn: "30d" })
  })
  expect(res.status, await res.clone().text()).toBe(201)
  const body = (await res.json()) as { key: { id: string }; apiKey: string }
  return { id: body.key.id, secret: body.apiKey }
}

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
  alice = await newKey("alice")
  bob = await newKey("bob")
})

/** A POST as an API key, with an `Idempotency-Key` when one is given. */
const post = (caller: { readonly secret: string }, path: string, body: unknown, key?: string) =>
  fetch(`${testApp.app.baseUrl}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${caller.secret}`,
      "content-type": "application/json",
      ...(key === undefined ? {} : { "idempotency-key": key })
    },
    body: JSON.stringify(body)
  })

const createScope = (caller: { readonly secret: string }, scope: string, key?: string) =>
  post(caller, "/api/v1/breaker/scopes", { scope }, key)

const trip = (caller: { readonly secret: string }, scope: string, key?: string) =>
  post(caller, `/api/v1/breaker/${scope}/trip`, { reason: REASON, acknowledge: true }, key)

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

const transitions = async (scope: string) => {
  const [row] = await testApp.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM breaker_transition WHERE scope = $1",
    [scope]
  )
  return row?.n ?? -1
}

const keyRow = async (principal: string, key: string) =>
  (
    await testApp.query<{ state: string; response_status: number | null; response_body: Uint8Array | null }>(
      "SELECT state, response_status, response_body FROM idempotency_key WHERE principal = $1 AND key = $2",
      [principal, key]
    )
  )[0]

describe("a retry with the same key", () => {
  it("replays the first answer (status, body, headers) with Idempotent-Replayed, executing once", async () => {
    const key = randomUUID()
    const first = await createScope(alice, "idem-replay", key)
    expect(first.status, await first.clone().text()).toBe(201)
    expect(first.headers.get("idempotent-replayed")).toBeNull()
    const firstBody = await first.text()
    for (let i = 0; i < 2; i++) {
      const again = await createScope(alice, "idem-replay", key)
      // Executed again, this would be 409 `scope_exists`.
      expect(again.status).toBe(201)
      expect(again.headers.get("idempotent-replayed")).toBe("true")
      expect(again.headers.get("content-type")).toBe(first.headers.get("content-type"))
      expect(await again.text()).toBe(firstBody)
      // Every answer still has its own request id and the pipeline's headers.
      expect(again.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"))
      expect(again.headers.get("cache-control")).toContain("no-store")
    }
    const [created] = await testApp.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_log WHERE action = 'breaker.scope_create' AND resource_id = 'idem-replay'"
    )
    expect(created?.n).toBe(1)
    expect(await keyRow(`api_key:${alice.id}`, key)).toMatchObject({ state: "completed", response_status: 201 })
  })

  it("replays an error answer of the domain too (a lost create is 409 each time, not executed again)", async () => {
    expect((await createScope(alice, "idem-exists")).status).toBe(201)
    const key = randomUUID()
    const first = await createScope(alice, "idem-exists", key)
    expect(first.status).toBe(409)
    const again = await createScope(alice, "idem-exists", key)
    expect(again.status).toBe(409)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(await again.text()).toBe(await first.text())
  })

  it("accepts the key as the draft's quoted string form", async () => {
    const key = `q-${randomUUID()}`
    expect((await createScope(alice, "idem-quoted", `"${key}"`)).status).toBe(201)
    const again = await createScope(alice, "idem-quoted", key)
    expect(again.status).toBe(201)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
  })
})

describe("the same key for another request", () => {
  it("answers 422 idempotency_key_reused for another body, path or query, without executing", async () => {
    const key = randomUUID()
    expect((await createScope(alice, "idem-reuse-a", key)).status).toBe(201)
    const otherBody = await createScope(alice, "idem-reuse-b", key)
    expect(otherBody.status).toBe(422)
    expect(await errorCode(otherBody)).toBe("idempotency_key_reused")
    const otherPath = await trip(alice, "idem-reuse-a", key)
    expect(otherPath.status).toBe(422)
    const otherQuery = await post(alice, "/api/v1/breaker/scopes?x=1", { scope: "idem-reuse-a" }, key)
    expect(otherQuery.status).toBe(422)
    expect(await testApp.query("SELECT 1 FROM breaker_scope WHERE scope = 'idem-reuse-b'")).toHaveLength(0)
    expect(await transitions("idem-reuse-a")).toBe(0)
  })
})

describe("concurrent duplicates", () => {
  it("execute once: 20 identical requests at once all get the one answer", async () => {
    expect((await createScope(alice, "idem-burst")).status).toBe(201)
    const key = randomUUID()
    const answers = await Promise.all(Array.from({ length: 20 }, () => trip(alice, "idem-burst", key)))
    const bodies = await Promise.all(answers.map((r) => r.text()))
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200))
    expect(new Set(bodies).size).toBe(1)
    expect(answers.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(19)
    // One trip, not one trip and 19 repeats.
    expect(await transitions("idem-burst")).toBe(1)
  })
})

describe("keys of two callers", () => {
  it("are independent: the same key value neither replays nor refuses the other caller's request", async () => {
    const key = `shared-${randomUUID()}`
    expect((await createScope(alice, "idem-alice", key)).status).toBe(201)
    // Bob's own request under the same key value executes.
    expect((await createScope(bob, "idem-bob", key)).status).toBe(201)
    // And Bob repeating Alice's request is executed for Bob, not answered with Alice's answer.
    const bobRepeats = await createScope(bob, "idem-alice", `${key}-2`)
    expect(bobRepeats.status).toBe(409)
    const sameAsAlice = await createScope(bob, "idem-alice", key)
    expect(sameAsAlice.status).toBe(422)
    expect(await keyRow(`api_key:${alice.id}`, key)).toMatchObject({ response_status: 201 })
    expect(await keyRow(`api_key:${bob.id}`, key)).toMatchObject({ response_status: 201 })
  })

  it("keeps a session user's keys apart from their API keys", async () => {
    const key = randomUUID()
    const res = await admin.fetch("/api/v1/breaker/scopes", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": key },
      body: JSON.stringify({ scope: "idem-session" })
    })
    expect(res.status, await res.clone().text()).toBe(201)
    const replay = await admin.fetch("/api/v1/breaker/scopes", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": key },
      body: JSON.stringify({ scope: "idem-session" })
    })
    expect(replay.headers.get("idempotent-replayed")).toBe("true")
    expect((await createScope(alice, "idem-session", key)).status).toBe(409)
  })
})

describe("a first attempt that did not act", () => {
  it("is retried with the same key after a 500 (the claim is released)", async () => {
    await testApp.query(`CREATE FUNCTION idem_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused for the test'; END $$`)
    await testApp.query(
      "CREATE TRIGGER idem_refuse BEFORE INSERT ON breaker_scope FOR EACH ROW WHEN (NEW.scope = 'idem-crash') EXECUTE FUNCTION idem_refuse()"
    )
    const key = randomUUID()
    try {
      const failed = await createScope(alice, "idem-crash", key)
      expect(failed.status).toBe(500)
      expect(await keyRow(`api_key:${alice.id}`, key)).toBeUndefined()
    } finally {
      await testApp.query("DROP TRIGGER idem_refuse ON breaker_scope")
      await testApp.query("DROP FUNCTION idem_refuse()")
    }
    const retried = await createScope(alice, "idem-crash", key)
    expect(retried.status).toBe(201)
    expect(retried.headers.get("idempotent-replayed")).toBeNull()
  })

  it("is retried with the same key after a 400, with a corrected body", async () => {
    const key = randomUUID()
    const invalid = await createScope(alice, "Not A Scope", key)
    expect(invalid.status).toBe(400)
    const corrected = await createScope(alice, "idem-corrected", key)
    expect(corrected.status).toBe(201)
  })
})

describe("a duplicate of a request still running", () => {
  /** A claim held by another (pretend) request of Alice's, as the claim path would write it. */
  const holdClaim = async (key: string, path: string, body: unknown, lockedUntil: string) => {
    const fingerprint = fingerprintOf("POST", path, new TextEncoder().encode(JSON.stringify(body)))
    await testApp.query(
      `INSERT INTO idempotency_key (principal, key, fingerprint, method, path, state, claim_token, locked_until, created_at, expires_at)
       VALUES ($1, $2, $3, 'POST', $4, 'in_progress', $5, ${lockedUntil}, now(), now() + interval '1 day')`,
      [`api_key:${alice.id}`, key, fingerprint, path, randomUUID()]
    )
  }

  it("waits for the first to finish and replays its answer", async () => {
    const key = randomUUID()
    await holdClaim(key, "/api/v1/breaker/scopes", { scope: "idem-wait" }, "now() + interval '1 minute'")
    const waiting = createScope(alice, "idem-wait", key)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await testApp.query(
      `UPDATE idempotency_key SET state = 'completed', locked_until = NULL, response_status = 201,
         response_headers = '{"content-type": "application/json"}', response_body = convert_to('{"from":"first"}', 'UTF8'),
         completed_at = now() WHERE principal = $1 AND key = $2`,
      [`api_key:${alice.id}`, key]
    )
    const res = await waiting
    expect(res.status).toBe(201)
    expect(res.headers.get("idempotent-replayed")).toBe("true")
    expect(await res.json()).toEqual({ from: "first" })
    expect(await testApp.query("SELECT 1 FROM breaker_scope WHERE scope = 'idem-wait'")).toHaveLength(0)
  })

  it("answers 409 idempotency_key_in_progress with Retry-After when the first keeps running", async () => {
    const key = randomUUID()
    await holdClaim(key, "/api/v1/breaker/scopes", { scope: "idem-busy" }, "now() + interval '1 minute'")
    const started = Date.now()
    const res = await createScope(alice, "idem-busy", key)
    expect(res.status).toBe(409)
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000)
    expect(res.headers.get("retry-after")).toBe("1")
    expect(await errorCode(res)).toBe("idempotency_key_in_progress")
  }, 20_000)

  it("answers 422 at once when the running request is another one", async () => {
    const key = randomUUID()
    await holdClaim(key, "/api/v1/breaker/scopes", { scope: "idem-busy-other" }, "now() + interval '1 minute'")
    const res = await createScope(alice, "idem-busy-else", key)
    expect(res.status).toBe(422)
  })

  it("takes over the claim of a dead process once its lease ran out, and executes", async () => {
    const key = randomUUID()
    await holdClaim(key, "/api/v1/breaker/scopes", { scope: "idem-dead" }, "now() - interval '1 second'")
    const res = await createScope(alice, "idem-dead", key)
    expect(res.status).toBe(201)
    expect(res.headers.get("idempotent-replayed")).toBeNull()
    expect(await keyRow(`api_key:${alice.id}`, key)).toMatchObject({ state: "completed", response_status: 201 })
  })

  it("treats an expired key as unused, even for another request", async () => {
    const key = randomUUID()
    expect((await createScope(alice, "idem-expired-a", key)).status).toBe(201)
    await testApp.query(
      "UPDATE idempotency_key SET expires_at = now() - interval '1 second' WHERE principal = $1 AND key = $2",
      [`api_key:${alice.id}`, key]
    )
    const res = await createScope(alice, "idem-expired-b", key)
    expect(res.status).toBe(201)
    expect(res.headers.get("idempotent-replayed")).toBeNull()
  })
})

describe("an answer that carries a secret", () => {
  it("is never stored: a retry is told the request was executed (409), and no second key is made", async () => {
    const key = randomUUID()
    const send = () =>
      admin.fetch("/api/v1/api-keys", {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify({ name: "idem-secret", scopes: ["VIEW_DASHBOARD"], expiresIn: "7d" })
      })
    const first = await send()
    expect(first.status).toBe(201)
    const { apiKey } = (await first.json()) as { apiKey: string }
    const again = await send()
    expect(again.status).toBe(409)
    expect(await errorCode(again)).toBe("idempotency_key_answer_withheld")
    const rows = await testApp.query<{ response_body: Uint8Array | null; withheld: boolean }>(
      "SELECT response_body, withheld FROM idempotency_key WHERE key = $1",
      [key]
    )
    expect(rows).toEqual([{ response_body: null, withheld: true }])
    expect(JSON.stringify(await testApp.query("SELECT * FROM idempotency_key WHERE key = $1", [key]))).not.toContain(
      apiKey.slice(-20)
    )
    expect(await testApp.query("SELECT 1 FROM api_keys WHERE name = 'idem-secret'")).toHaveLength(1)
  })
})

describe("the header", () => {
  it("is refused with 400 naming Idempotency-Key when malformed, before anything runs", async () => {
    for (const bad of ["", "x".repeat(256), "has space", "tab\there", '"quoted"inside"', '""']) {
      const res = await createScope(alice, "idem-bad-key", bad)
      expect(res.status, JSON.stringify(bad)).toBe(400)
      const body = (await res.json()) as { error: { code: string; issues: Array<{ path: string }> } }
      expect(body.error.code).toBe("bad_request")
      expect(body.error.issues.map((i) => i.path)).toEqual(["Idempotency-Key"])
    }
    expect(await testApp.query("SELECT 1 FROM breaker_scope WHERE scope = 'idem-bad-key'")).toHaveLength(0)
    expect((await createScope(alice, "idem-good-key", "x".repeat(255))).status).toBe(201)
  })

  it("is ignored by other methods and outside /api/v1", async () => {
    const put = () =>
      admin.fetch("/api/v1/breaker/settings", {
        method: "PUT",
        headers: { "content-type": "application/json", "idempotency-key": "put-key" },
        body: JSON.stringify({ quiet_period_seconds: 30 })
      })
    for (const res of [await put(), await put()]) {
      expect(res.status).toBe(200)
      expect(res.headers.get("idempotent-replayed")).toBeNull()
    }
    const read = await fetch(`${testApp.app.baseUrl}/api/v1/breaker`, {
      headers: { authorization: `Bearer ${alice.secret}`, "idempotency-key": "has space" }
    })
    expect(read.status).toBe(200)
    const login = await fetch(`${testApp.app.baseUrl}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", "idempotency-key": "has space" },
      body: new URLSearchParams({ email: "nobody@test.local", password: "wrong-password" })
    })
    expect(login.status).toBe(401)
    expect(await testApp.query("SELECT 1 FROM idempotency_key WHERE key IN ('put-key', 'has space')")).toHaveLength(0)
  })
})

describe("the OpenAPI description", () => {
  it("documents the header, the replay header and the 409/422 answers on every POST under /api/v1", async () => {
    type Operation = {
      parameters: Array<{ name: string; in: string }>
      responses: Record<string, { description: string; headers?: Record<string, unknown> }>
    }
    const doc = (await (await fetch(`${testApp.app.baseUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>
    }
    let posts = 0
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        const keyed = op.parameters.some((p) => p.name === "Idempotency-Key" && p.in === "header")
        expect(keyed, `${method} ${path}`).toBe(method === "post" && path.startsWith("/api/v1/"))
        if (!keyed) continue
        posts++
        expect(op.responses["422"]?.description).toContain("idempotency_key_reused")
        expect(op.responses["409"]?.description).toContain("idempotency_key_in_progress")
        expect(op.responses["200"]?.headers?.["Idempotent-Replayed"]).toBeDefined()
      }
    }
    expect(posts).toBeGreaterThan(3)
    // A route's own 409 keeps its description.
    expect(doc.paths["/api/v1/breaker/scopes"]?.post?.responses["409"]?.description).toContain("The scope exists.")
  })
})

describe("the outcome metric", () => {
  const outcome = async (name: string) => {
    const text = await (await fetch(`${testApp.app.baseUrl}/metrics`)).text()
    const line = text.split("\n").find((l) => l.startsWith(`breakwater_idempotency_outcomes_total{outcome="${name}"}`))
    return Number(line?.split(" ").at(-1) ?? Number.NaN)
  }

  it("counts what became of keyed requests: executed, replayed, reused", async () => {
    const [executed, replayed, reused] = [await outcome("executed"), await outcome("replayed"), await outcome("reused")]
    const key = randomUUID()
    expect((await createScope(alice, "idem-metric", key)).status).toBe(201)
    expect((await createScope(alice, "idem-metric", key)).status).toBe(201)
    expect((await createScope(alice, "idem-metric-other", key)).status).toBe(422)
    expect(await outcome("executed")).toBe(executed + 1)
    expect(await outcome("replayed")).toBe(replayed + 1)
    expect(await outcome("reused")).toBe(reused + 1)
  })
})
