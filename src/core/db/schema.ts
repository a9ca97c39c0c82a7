/**
 * The Kysely `Database` type: one interface per table, mirroring `migrations/`. Column types are
 * what the SQL client returns (timestamptz → Date, bigint → string). Update it with every migration.
 */
import type { Generated } from "kysely"

export interface InstallationTable {
  readonly id: Generated<string>
  readonly singleton: Generated<boolean>
  readonly created_at: Generated<Date>
}

export interface Database {
  readonly installation: InstallationTable
}
