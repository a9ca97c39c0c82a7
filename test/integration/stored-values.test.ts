/**
 * No stored value can break a later reader (issue 9, defect 2). Rows written before the input
 * bounds existed — details nested 5,000 levels deep in the audit log, a breaker record and its
 * history — are put straight into the tables; then the audit sealer must keep sealing,
 * `breakwater audit verify` must pass, and the breaker's readers (the API, the fast lane, the
 * event stream, the published copy) must answer, with such details withheld.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { nodeBinary, repoRoot, spawnChild, waitFor } from "../support/processes.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"
import { sseEvents } from "../support/sse.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
let admin: TestSession
let key: string

const LEVELS = 5000
const deepJson = `${'{"a":'.repeat(LEVELS)}1${"}".repeat(LEVELS)}`

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
  const created = await admin.fetch("/api/v1/api-keys", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "reader", scopes: ["VIEW_CIRCUIT_BREAKER", "VIEW_AUDIT"], expiresIn: "30d" })
  })
  key = ((await created.json()) as { apiKey: string }).apiKey
})

const byKey = (path: string) => fetch(`${testApp.app.baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } })

const withheld = (details: unknown) =>
  typeof details === "object" && details !== null && "withheld" in details && Object.keys(details).length === 1

describe("stored values out of bounds", () => {
  it("are sealed into the audit chain, verified by the CLI, and shown withheld", async () => {
    const [row] = await testApp.query<{ id: string }>(
      `INSERT INTO audit_log (actor_type, actor_id, actor_name, action, resource_type, outcome, details)
       VALUES ('system', 'system:test', 'test', 'test.deep', 'test', 'success', $1::jsonb) RETURNING id`,
      [deepJson]
    )
    const id = String(row?.id)
    await waitFor(
      "the deep entry to be sealed",
      async () => {
        const sealed = await testApp.query("SELECT 1 FROM audit_seal WHERE entry_id = $1", [id])
        return sealed.length === 1 ? true : undefined
      },
      { timeoutMs: 10_000, intervalMs: 200 }
    )
    // Entries after it are sealed too: the sealer is not stuck on it.
    await admin.fetch("/api/v1/breaker/global/history")
    await waitFor(
      "nothing left to seal",
      async () => {
        const [pending] = await testApp.query<{ n: string }>("SELECT count(*) AS n FROM audit_pending")
        return Number(pending?.n) === 0 ? true : undefined
      },
      { timeoutMs: 10_000, intervalMs: 200 }
    )
    const verify = spawnChild(nodeBinary, ["src/cli.ts", "audit", "verify"], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: testApp.stores.databaseUrl, LOG_LEVEL: "error" }
    })
    const exit = await verify.exited
    expect(verify.stderr()).toBe("")
    expect(exit.code).toBe(0)
    expect(verify.stdout()).toMatch(/audit chain intact/)

    const page = await admin.fetch("/api/v1/audit?action=test.deep")
    expect(page.status).toBe(200)
    const body = (await page.json()) as { entries: Array<{ id: string; details: unknown }> }
    expect(body.entries.map((e) => e.id)).toEqual([id])
    expect(withheld(body.entries[0]?.details)).toBe(true)
    expect((await admin.fetch("/audit/export.csv")).status).toBe(200)
  }, 30_000)

  it("in a breaker record and its history: every reader answers, the details withheld", async () => {
    await testApp.query(
      `UPDATE breaker_scope SET state = 'TRIPPED', version = version + 1, tripped_at = now(), trip_reason = 'legacy deep trip',
         trip_details = $1::jsonb, tripped_by = '{"type":"system","id":"system:test","name":"test"}'::jsonb,
         trip_source = 'manual', updated_at = now() WHERE scope = 'global'`,
      [deepJson]
    )
    await testApp.query(
      `INSERT INTO breaker_transition (scope, kind, from_state, to_state, version, source, actor, reason, details, at)
       SELECT 'global', 'trip', 'OPEN', 'TRIPPED', version, 'manual', '{"type":"system","id":"system:test","name":"test"}'::jsonb,
         'legacy deep trip', $1::jsonb, now() FROM breaker_scope WHERE scope = 'global'`,
      [deepJson]
    )
    // The verifier reads the truth every second and republishes it.
    const read = await waitFor(
      "the API to report the stored trip",
      async () => {
        const res = await admin.fetch("/api/v1/breaker/global")
        const view = (await res.json()) as { state: string; trip_details: unknown }
        return res.status === 200 && view.state === "TRIPPED" ? view : undefined
      },
      { timeoutMs: 10_000, intervalMs: 200 }
    )
    expect(withheld(read.trip_details)).toBe(true)

    const list = await admin.fetch("/api/v1/breaker")
    expect(list.status).toBe(200)
    // The fast lane (second read of a verified key) and the normal path agree.
    for (let i = 0; i < 2; i++) {
      const res = await byKey("/api/v1/breaker/global")
      expect(res.status).toBe(200)
      expect(withheld(((await res.json()) as { trip_details: unknown }).trip_details)).toBe(true)
    }
    const history = await admin.fetch("/api/v1/breaker/global/history")
    expect(history.status).toBe(200)
    const transitions = ((await history.json()) as { transitions: Array<{ details: unknown }> }).transitions
    expect(withheld(transitions[0]?.details)).toBe(true)
    expect((await admin.fetch("/breaker")).status).toBe(200)

    const stream = await admin.fetch("/api/v1/breaker/stream")
    if (stream.body === null) throw new Error("no body")
    const events = sseEvents(stream.body)
    try {
      const snapshot = await events.waitFor("snapshot", (e) => e.event === "snapshot")
      const scopes = (snapshot.data as { scopes: Array<{ scope: string; trip_details: unknown }> }).scopes
      expect(withheld(scopes.find((s) => s.scope === "global")?.trip_details)).toBe(true)
      // The event feed still encodes changes after reading the record.
      const reset = await admin.fetch("/api/v1/breaker/global/reset", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ reason: "legacy trip checked and cleared by the desk", acknowledge: true })
      })
      expect(reset.status).toBe(200)
      await events.waitFor("the reset", (e) => e.event === "transition")
    } finally {
      await events.close()
    }
    const ready = (await (await admin.fetch("/readyz")).json()) as {
      checks: { fibers: { details: Record<string, { state: string; restarts: number }> } }
    }
    expect(ready.checks.fibers.details["breaker.publisher"]).toMatchObject({ state: "running", restarts: 0 })
    expect(ready.checks.fibers.details["audit.sealer"]).toMatchObject({ state: "running", restarts: 0 })
  }, 30_000)
})
