/**
 * Retention without a database: the checks on job declarations (audit tables refused, plain
 * identifiers, unique names naming both modules), the slot arithmetic of the daily run, and the
 * CLI's table.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { formatReport } from "../../src/core/retention/cli.ts"
import { coreRetentionJobs, expiredSessionsJob } from "../../src/core/retention/core-jobs.ts"
import type { RetentionJob } from "../../src/core/retention/job.ts"
import { DAY_MS, HOUR_MS, slotAtOrBefore, slotToRun } from "../../src/core/retention/schedule.ts"
import { AUDIT_TABLES, isAuditTable, validateJob } from "../../src/core/retention/validate.ts"
import { defineSetting } from "../../src/core/settings/spec.ts"

const days = (value: number) =>
  defineSetting({
    key: "test.days",
    schema: Schema.Number,
    default: value,
    description: "test",
    permission: "MANAGE_SYSTEM_CONFIG"
  })

const job = (patch: Partial<RetentionJob> = {}): RetentionJob => ({
  name: "test.old_rows",
  description: "test",
  table: "probe",
  ageColumn: "created_at",
  period: days(7),
  ...patch
})

describe("retention job declarations", () => {
  it("accepts a plain job and core's own jobs", () => {
    expect(validateJob("test", job(), [])).toBeUndefined()
    for (const j of coreRetentionJobs) expect(validateJob("core", j, [])).toBeUndefined()
  })

  it("refuses every audit table of migrations/0002_audit.sql, and any table named audit…", () => {
    expect(AUDIT_TABLES).toEqual(["audit_log", "audit_seal", "audit_pending"])
    for (const table of [...AUDIT_TABLES, "audit_entry", "audit", "audit_archive"]) {
      expect(isAuditTable(table)).toBe(true)
      expect(validateJob("test", job({ table }), [])).toMatch(/holds audit evidence, which retention never deletes/)
    }
    expect(isAuditTable("sessions")).toBe(false)
  })

  it("refuses identifiers that are not plain lower-case SQL names", () => {
    for (const table of [
      "Sessions",
      "public.sessions",
      'sessions"; DROP TABLE users; --',
      "1table",
      "",
      "a".repeat(64)
    ])
      expect(validateJob("test", job({ table }), [])).toMatch(/is not a plain lower-case SQL identifier/)
    for (const ageColumn of ["expires_at + 1", "ExpiresAt", ""])
      expect(validateJob("test", job({ ageColumn }), [])).toMatch(
        /age column .* is not a plain lower-case SQL identifier/
      )
    expect(validateJob("test", job({ table: "a".repeat(63) }), [])).toBeUndefined()
  })

  it("refuses a name that is not <module>.<what>", () => {
    for (const name of ["old_rows", "Test.Rows", "test.old-rows", "test.", ".rows", "a.b.c"])
      expect(validateJob("test", job({ name }), [])).toMatch(/the name must look like <module>\.<what>/)
  })

  it("refuses a negative or non-finite default period", () => {
    for (const value of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(validateJob("test", job({ period: days(value) }), [])).toMatch(/must be a number of days ≥ 0/)
    expect(validateJob("test", job({ period: days(0) }), [])).toBeUndefined()
  })

  it("refuses a name declared twice, naming both modules", () => {
    expect(validateJob("beta", job({ table: "other" }), [{ ...job(), module: "alpha" }])).toBe(
      "retention job test.old_rows is declared by both alpha and beta"
    )
  })

  it("expires sessions by their absolute expiry", () => {
    expect(expiredSessionsJob).toMatchObject({ table: "sessions", ageColumn: "expires_at" })
    expect(expiredSessionsJob.period.key).toBe("identity.session_retention_days")
    expect(Schema.decodeUnknownSync(expiredSessionsJob.period.schema)(expiredSessionsJob.period.default)).toBe(0)
    expect(() => Schema.decodeUnknownSync(expiredSessionsJob.period.schema)(-1)).toThrow()
  })
})

describe("retention schedule", () => {
  const at = (iso: string) => Date.parse(iso)

  it("finds the latest slot at or before now", () => {
    expect(slotAtOrBefore(at("2026-06-15T02:59:59.999Z"), 3)).toBe(at("2026-06-14T03:00:00Z"))
    expect(slotAtOrBefore(at("2026-06-15T03:00:00Z"), 3)).toBe(at("2026-06-15T03:00:00Z"))
    expect(slotAtOrBefore(at("2026-06-15T23:00:00Z"), 0)).toBe(at("2026-06-15T00:00:00Z"))
    expect(slotAtOrBefore(at("2026-06-15T22:00:00Z"), 23)).toBe(at("2026-06-14T23:00:00Z"))
  })

  it("runs the last slot while its window is open, otherwise the next one", () => {
    expect(slotToRun(at("2026-06-15T02:00:00Z"), 3, HOUR_MS)).toBe(at("2026-06-15T03:00:00Z"))
    expect(slotToRun(at("2026-06-15T03:20:00Z"), 3, HOUR_MS)).toBe(at("2026-06-15T03:00:00Z"))
    expect(slotToRun(at("2026-06-15T04:00:00Z"), 3, HOUR_MS)).toBe(at("2026-06-16T03:00:00Z"))
    expect(slotToRun(at("2026-06-15T04:00:00Z"), 3, HOUR_MS) - at("2026-06-15T03:00:00Z")).toBe(DAY_MS)
  })
})

describe("retention CLI output", () => {
  it("prints one aligned line per job and a total", () => {
    const text = formatReport({
      dryRun: true,
      startedAt: "2026-06-15T03:00:00.000Z",
      finishedAt: "2026-06-15T03:00:01.000Z",
      ok: false,
      jobs: [
        {
          name: "identity.expired_sessions",
          table: "sessions",
          periodDays: 0,
          cutoff: "2026-06-15T03:00:00.000Z",
          count: 12
        },
        {
          name: "http.expired_idempotency_keys",
          table: "idempotency_key",
          periodDays: 2,
          cutoff: "2026-06-13T03:00:00.000Z",
          count: 0,
          error: "relation does not exist"
        }
      ]
    })
    expect(text.split("\n")).toEqual([
      "job                            table            period (days)  cutoff                    due",
      "identity.expired_sessions      sessions         0              2026-06-15T03:00:00.000Z  12",
      "http.expired_idempotency_keys  idempotency_key  2              2026-06-13T03:00:00.000Z  0 (failed)",
      "dry run: 12 rows due in 2 jobs; nothing was deleted"
    ])
  })
})
