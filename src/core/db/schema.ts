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

/** Queried with hand-written SQL in `core/auth/sign-in-throttle.ts`. */
export interface LoginFailuresTable {
  readonly id: Generated<string>
  /** Null for an identifier that matched no account (counted against its address only). */
  readonly user_id: string | null
  /** The throttled address: IPv4, an IPv6 /64 (`2001:db8:1:2::/64`) or `unknown`. */
  readonly client_address: Generated<string>
  readonly failed_at: Generated<Date>
}

/** One row: the key of the audited identifier hash (`core/auth/identifier-hash.ts`). */
export interface IdentifierHashKeyTable {
  readonly singleton: Generated<boolean>
  readonly key: string
  readonly created_at: Generated<Date>
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

/** The breaker tables are queried with hand-written SQL in `core/breaker/store.ts`; typed here to mirror the migration. */
export interface BreakerScopeTable {
  readonly scope: string
  readonly state: "OPEN" | "TRIPPED" | "QUIET_PERIOD"
  readonly version: string
  readonly tripped_at: Date | null
  readonly trip_reason: string | null
  readonly trip_details: unknown
  readonly tripped_by: unknown
  readonly trip_source: "manual" | "automatic" | null
  readonly reset_at: Date | null
  readonly reset_by: unknown
  readonly quiet_until: Date | null
  readonly trip_count_today: Generated<number>
  readonly trip_count_day: Date | null
  readonly created_at: Generated<Date>
  readonly updated_at: Generated<Date>
}

export interface BreakerTransitionTable {
  readonly id: Generated<string>
  readonly scope: string
  readonly kind: "trip" | "trip_repeated" | "reset" | "quiet_period_ended" | "reset_requested"
  readonly from_state: string
  readonly to_state: string
  readonly version: string
  readonly source: "manual" | "automatic" | null
  readonly actor: unknown
  readonly reason: string | null
  readonly details: Generated<unknown>
  readonly at: Date
}

export interface BreakerResetRequestTable {
  readonly id: string
  readonly scope: string
  readonly base_version: string
  readonly requested_by: unknown
  readonly reason: string
  readonly requested_at: Date
  readonly expires_at: Date
  readonly status: "pending" | "approved" | "expired" | "superseded"
  readonly approved_by: unknown
  readonly approved_at: Date | null
}

export interface SettingTable {
  readonly key: string
  readonly value: unknown
  readonly updated_at: Generated<Date>
  readonly updated_by: unknown
}

export interface Database {
  readonly installation: InstallationTable
  readonly users: UsersTable
  readonly login_failures: LoginFailuresTable
  readonly identifier_hash_key: IdentifierHashKeyTable
  readonly sessions: SessionsTable
  readonly api_keys: ApiKeysTable
  readonly breaker_scope: BreakerScopeTable
  readonly breaker_transition: BreakerTransitionTable
  readonly breaker_reset_request: BreakerResetRequestTable
  readonly setting: SettingTable
}
