/**
 * The Kysely `Database` type: one interface per table, mirroring `migrations/`. Column types are
 * what the SQL client returns (timestamptz → Date, bigint → bigint, date → string). Update it with every migration.
 * A plugin declares its own tables beside its code and adds them to this interface by module
 * augmentation (`declare module "…/core/db/schema.ts"`), so core names no capability's tables.
 */
import type { ColumnType, Generated } from "kysely"

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

/** Versioned runtime settings (`core/settings/store.ts`): the current value is the highest version. */
export interface SettingVersionTable {
  readonly key: string
  readonly version: number
  readonly value: unknown
  readonly changed_at: Generated<Date>
  readonly changed_by: unknown
  readonly reason: string | null
}

/**
 * Idempotency keys of the JSON API (`core/idempotency/store.ts`; the claim is hand-written SQL).
 * Times are written as ISO strings from the Effect clock and read back as `Date`.
 */
export interface IdempotencyKeyTable {
  /** `user:<id>` or `api_key:<id>`: whose key it is. */
  readonly principal: string
  readonly key: string
  readonly fingerprint: string
  readonly method: string
  readonly path: string
  readonly state: "in_progress" | "completed"
  readonly claim_token: string
  readonly locked_until: ColumnType<Date | null, string | null, string | null>
  readonly response_status: number | null
  readonly response_headers: ColumnType<unknown, string | null, string | null>
  readonly response_body: Uint8Array | null
  readonly withheld: Generated<boolean>
  readonly created_at: ColumnType<Date, string, string>
  readonly completed_at: ColumnType<Date | null, string | null, string | null>
  readonly expires_at: ColumnType<Date, string, string>
}

/** One row: the last completed daily retention run (`core/retention/store.ts`, hand-written SQL). */
export interface RetentionScheduleTable {
  readonly singleton: Generated<boolean>
  readonly last_slot: Date
  readonly completed_at: Generated<Date>
}

export interface Database {
  readonly installation: InstallationTable
  readonly users: UsersTable
  readonly login_failures: LoginFailuresTable
  readonly identifier_hash_key: IdentifierHashKeyTable
  readonly sessions: SessionsTable
  readonly api_keys: ApiKeysTable
  readonly setting_version: SettingVersionTable
  readonly idempotency_key: IdempotencyKeyTable
  readonly retention_schedule: RetentionScheduleTable
  readonly fiber_leases: FiberLeasesTable
}

/** Leases of the singleton fibers (`core/leases/lease.ts`, hand-written SQL; times from the database's clock). */
export interface FiberLeasesTable {
  readonly name: string
  /** `host:pid:random` of the process holding it. */
  readonly holder: string
  readonly acquired_at: Date
  readonly expires_at: Date
}
