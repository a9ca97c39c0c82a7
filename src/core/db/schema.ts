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

export interface UsersTable {
  readonly id: Generated<string>
  readonly email: string
  readonly display_name: string
  readonly role: "viewer" | "operator" | "admin"
  readonly disabled: Generated<boolean>
  readonly password_hash: string
  readonly created_at: Generated<Date>
  readonly updated_at: Generated<Date>
}

export interface LoginFailuresTable {
  readonly id: Generated<string>
  readonly user_id: string
  readonly failed_at: Generated<Date>
}

export interface SessionsTable {
  readonly id_hash: string
  readonly user_id: string
  readonly csrf_token: string
  readonly created_at: Generated<Date>
  readonly last_seen_at: Generated<Date>
  readonly authenticated_at: Generated<Date>
  readonly expires_at: Date
  readonly client_address: string | null
  readonly user_agent: string | null
}

export interface ApiKeysTable {
  readonly id: string
  readonly name: string
  readonly owner_id: string
  readonly scopes: ReadonlyArray<string>
  readonly secret_hash: string
  readonly created_at: Generated<Date>
  readonly expires_at: Date
  readonly revoked_at: Date | null
  readonly last_used_at: Date | null
}

export interface Database {
  readonly installation: InstallationTable
  readonly users: UsersTable
  readonly login_failures: LoginFailuresTable
  readonly sessions: SessionsTable
  readonly api_keys: ApiKeysTable
}
