/**
 * A retention job as a module declares it: which rows of which table age out, and the setting
 * that holds the period. The retention runner deletes them in small batches; audit entries are
 * never a retention job.
 */
import type { SettingSpec } from "../settings/spec.ts"

export interface RetentionJob {
  /** `<module>.<what>`, e.g. `identity.expired_sessions`. */
  readonly name: string
  readonly description: string
  /** The table (a plain SQL identifier). */
  readonly table: string
  /** A `timestamptz` column: a row is due once `column < now() - period`. */
  readonly ageColumn: string
  /** The setting that holds the period, in days (0: due as soon as the column's time has passed). */
  readonly period: SettingSpec<number>
}
