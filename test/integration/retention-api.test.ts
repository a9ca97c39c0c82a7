/**
 * The retention API in the running application: `POST /api/v1/retention/run` is a dry run by
 * default and deletes nothing; a real run deletes what the dry run counted, needs a recent password
 * from a session, and is audited; viewers and operators are refused; `GET /api/v1/retention/jobs`
 * lists core's jobs with their period and due rows.
 */
import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import { loginAsAdmin, loginAsNewUser, type TestSession, testAdmin } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const t = useTestApp()

interface Report {
  readonly dryRun: boolean
  readonly ok: boolean
  readonly jobs: ReadonlyArray<{ name: string; table: string; cutoff: string; count: number; periodDays: number }>
}

const post = (session: TestSession, body?: unknown) =>
  session.fetch("/api/v1/retention/run", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })

const sessionsJob = (report: Report) => report.jobs.find((j) => j.name === "identity.expired_sessions")

/** Three sessions of a fresh user that expired a day ago (the sweeper ran at start, not since). */
const insertExpiredSessions = async (email: string) => {
  const [user] = await t.query<{ id: string }>(
    "INSERT INTO users (email, display_name, role, password_hash) VALUES ($1, $1, 'viewer', 'x') RETURNING id",
    [email]
  )
  for (const n of [1, 2, 3])
    await t.query(
      "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, 'x', now() - interval '1 day')",
      [`${email}-${n}`, user?.id]
    )
  return user?.id
}

const sessionCount = async (userId: string | undefined) =>
  Number((await t.query<{ n: string }>("SELECT count(*) AS n FROM sessions WHERE user_id = $1", [userId]))[0]?.n)

describe("retention API", () => {
  it("lists core's jobs with their period and the rows due", async () => {
    const admin = await loginAsAdmin(t.app.baseUrl)
    const response = await admin.fetch("/api/v1/retention/jobs", { headers: { accept: "application/json" } })
    expect(response.status).toBe(200)
    const { jobs } = (await response.json()) as { jobs: ReadonlyArray<Record<string, unknown>> }
    expect(jobs.find((j) => j.name === "identity.expired_sessions")).toMatchObject({
      module: "core",
      table: "sessions",
      ageColumn: "expires_at",
      periodSetting: "identity.session_retention_days",
      periodDays: 0,
      due: expect.any(Number)
    })
  })

  it("a dry run by default: counts and deletes nothing; the real run then deletes exactly that many", async () => {
    const userId = await insertExpiredSessions("dry@retention.test")
    const admin = await loginAsAdmin(t.app.baseUrl)

    const dry = await post(admin)
    expect(dry.status).toBe(200)
    const dryReport = (await dry.json()) as Report
    expect(dryReport.dryRun).toBe(true)
    expect(sessionsJob(dryReport)).toMatchObject({ table: "sessions", periodDays: 0, count: 3 })
    expect(await sessionCount(userId)).toBe(3)

    const real = await post(admin, { dryRun: false, jobs: ["identity.expired_sessions"] })
    expect(real.status, await real.clone().text()).toBe(200)
    const realReport = (await real.json()) as Report
    expect(realReport).toMatchObject({ dryRun: false, ok: true })
    expect(realReport.jobs.map((j) => [j.name, j.count])).toEqual([["identity.expired_sessions", 3]])
    expect(await sessionCount(userId)).toBe(0)

    const [entry] = await t.query<{ actor_name: string; outcome: string; details: { jobs: unknown } }>(
      "SELECT actor_name, outcome, details FROM audit_log WHERE action = 'retention.run' ORDER BY id DESC LIMIT 1"
    )
    expect(entry).toMatchObject({
      outcome: "success",
      details: { jobs: [{ name: "identity.expired_sessions", table: "sessions", count: 3 }] }
    })
  })

  it("a real run needs a recent password from a session; a dry run does not", async () => {
    const userId = await insertExpiredSessions("reauth@retention.test")
    const admin = await loginAsAdmin(t.app.baseUrl)
    // The password was entered ten minutes ago: too long for a deletion.
    const idHash = createHash("sha256")
      .update(admin.cookie.split("=")[1] ?? "")
      .digest("hex")
    await t.query("UPDATE sessions SET authenticated_at = now() - interval '10 minutes' WHERE id_hash = $1", [idHash])

    expect((await post(admin, { dryRun: true })).status).toBe(200)
    const refused = await post(admin, { dryRun: false })
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("reauthentication_required")
    expect(await sessionCount(userId)).toBe(3)

    const confirmed = await post(admin, { dryRun: false, password: testAdmin.password })
    expect(confirmed.status).toBe(200)
    expect(sessionsJob((await confirmed.json()) as Report)?.count).toBe(3)
    expect(await sessionCount(userId)).toBe(0)
  })

  it("refuses viewers and operators (MANAGE_SYSTEM_CONFIG), even for a dry run", async () => {
    const userId = await insertExpiredSessions("kept@retention.test")
    const viewer = await loginAsNewUser(t.app, { email: "viewer@retention.test", role: "viewer" })
    const operator = await loginAsNewUser(t.app, { email: "operator@retention.test", role: "operator" })
    for (const session of [viewer, operator]) {
      expect((await post(session, { dryRun: false })).status).toBe(403)
      expect((await post(session)).status).toBe(403)
      expect((await session.fetch("/api/v1/retention/jobs", { headers: { accept: "application/json" } })).status).toBe(
        403
      )
    }
    expect(await sessionCount(userId)).toBe(3)
  })

  it("answers 400 naming the field for an unknown job or a malformed body, and deletes nothing", async () => {
    const userId = await insertExpiredSessions("bad@retention.test")
    const admin = await loginAsAdmin(t.app.baseUrl)
    const unknown = await post(admin, { dryRun: false, jobs: ["nobody.nothing"] })
    expect(unknown.status).toBe(400)
    const body = (await unknown.json()) as { error: { code: string; issues: ReadonlyArray<{ path: string }> } }
    expect(body.error.code).toBe("bad_request")
    expect(body.error.issues).toEqual([{ path: "jobs", message: "no retention job named nobody.nothing" }])
    for (const bad of [{ dryRun: "no" }, { jobs: [] }, { jobs: ["Not A Name"] }, [1, 2]])
      expect((await post(admin, bad)).status, JSON.stringify(bad)).toBe(400)
    expect(await sessionCount(userId)).toBe(3)
  })
})
