/**
 * Checks a module's retention job declarations before the runner accepts them, the way
 * `http/route.ts` `validateRoute` checks routes: a bad declaration stops the start, naming the
 * module. Audit tables are refused outright, so no setting or declaration can ever make retention
 * delete audit evidence.
 */
import type { RetentionJob } from "./job.ts"

/** A plain, unquoted PostgreSQL identifier (at most 63 bytes). */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

/** `<module>.<what>` in lower snake case. */
const JOB_NAME = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/

/**
 * The tables of migrations/0002_audit.sql. Any other table whose name starts with `audit` is
 * refused too, so an audit table added later is protected without editing this list.
 */
export const AUDIT_TABLES: ReadonlyArray<string> = ["audit_log", "audit_seal", "audit_pending"]

export const isAuditTable = (table: string): boolean => AUDIT_TABLES.includes(table) || table.startsWith("audit")

export interface DeclaredJob extends RetentionJob {
  readonly module: string
}

/** Why `job` of `module` cannot be registered next to `existing`, or undefined when it can. */
export const validateJob = (
  module: string,
  job: RetentionJob,
  existing: ReadonlyArray<DeclaredJob>
): string | undefined => {
  const which = `retention job ${JSON.stringify(job.name)} (module ${module})`
  if (!JOB_NAME.test(job.name)) return `${which}: the name must look like <module>.<what> in lower snake case`
  if (!IDENTIFIER.test(job.table))
    return `${which}: table ${JSON.stringify(job.table)} is not a plain lower-case SQL identifier`
  if (!IDENTIFIER.test(job.ageColumn))
    return `${which}: age column ${JSON.stringify(job.ageColumn)} is not a plain lower-case SQL identifier`
  if (isAuditTable(job.table)) return `${which}: table ${job.table} holds audit evidence, which retention never deletes`
  const period = job.period.default
  if (!Number.isFinite(period) || period < 0)
    return `${which}: the default of setting ${job.period.key} must be a number of days ≥ 0, not ${period}`
  const clash = existing.find((j) => j.name === job.name)
  if (clash !== undefined) return `retention job ${job.name} is declared by both ${clash.module} and ${module}`
  return undefined
}

/** A period read from its setting, checked: a number of days ≥ 0. */
export const periodProblem = (key: string, days: number): string | undefined =>
  Number.isFinite(days) && days >= 0 ? undefined : `setting ${key} must be a number of days ≥ 0, not ${days}`
