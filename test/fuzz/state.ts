/**
 * What the fuzz suite knows about the database of the server under fuzz: the principals it acts
 * as (sessions minted straight into `sessions`, so signing out, disabling or demoting one is
 * undone without going through `/login` and its throttle), the identifiers that exist (so path
 * parameters can name real scopes, users, keys and reset requests), and a fingerprint of the
 * domain tables and the audit log, to tell a refusal that wrote nothing from a partial write.
 */
import { createHash, randomBytes } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import { Effect, ManagedRuntime, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { generateApiKey } from "../../src/core/auth/api-key-format.ts"
import type { Role } from "../../src/core/auth/roles.ts"

export type Query = <Row extends object>(
  text: string,
  params?: ReadonlyArray<string | number>
) => Promise<ReadonlyArray<Row>>

/** One small pool of connections for the whole run: opening one per query would dominate a case. */
export const openDatabase = (url: string): { readonly query: Query; readonly close: () => Promise<void> } => {
  const runtime = ManagedRuntime.make(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 }))
  const query: Query = <Row extends object>(text: string, params: ReadonlyArray<string | number> = []) =>
    runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<Row>(text, params)))
  return { query, close: () => runtime.dispose() }
}

// ---------------------------------------------------------------------------------------------
// Principals.

export const principalNames = ["anonymous", "viewer", "operator", "admin", "admin-stale", "narrow-key"] as const
/**
 * Who sends a case. `admin-stale` is the admin with a sign-in older than the re-authentication
 * window, so dangerous actions take the password path; `narrow-key` is an API key that holds
 * only VIEW_CIRCUIT_BREAKER.
 */
export type PrincipalName = (typeof principalNames)[number]

export const NARROW_KEY_SCOPES = ["VIEW_CIRCUIT_BREAKER"] as const

export interface HarnessKey {
  readonly id: string
  readonly plaintext: string
  readonly ownerId: string
}

/** The narrow key, inserted as `ApiKeys.create` does (a key of the application's own format). */
export const createNarrowKey = async (query: Query, ownerId: string): Promise<HarnessKey> => {
  const key = generateApiKey()
  await query(
    `INSERT INTO api_keys (id, name, owner_id, scopes, secret_hash, expires_at)
     VALUES ($1, 'fuzz narrow key', $2::uuid, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4,
             now() + interval '30 days')`,
    [key.id, ownerId, JSON.stringify(NARROW_KEY_SCOPES), key.secretHash]
  )
  return { id: key.id, plaintext: key.plaintext, ownerId }
}

export interface HarnessUser {
  readonly id: string
  readonly role: Role
  readonly email: string
  readonly password: string
}

export interface SessionCredential {
  readonly kind: "session"
  readonly cookie: string
  readonly csrfToken: string
  readonly idHash: string
  readonly userId: string
}

export type Credentials =
  | { readonly kind: "none" }
  | SessionCredential
  | { readonly kind: "key"; readonly bearer: string; readonly keyId: string; readonly ownerId: string }

const SESSION_PRINCIPALS = ["viewer", "operator", "admin", "admin-stale"] as const
type SessionPrincipal = (typeof SESSION_PRINCIPALS)[number]

const roleOf = (p: SessionPrincipal): Role => (p === "admin-stale" ? "admin" : p)
/** Minutes since the session's password entry: past the 5-minute re-authentication window for `admin-stale`. */
const signedInMinutesAgo = (p: SessionPrincipal) => (p === "admin-stale" ? 60 : 0)
/** A fresh session is refreshed before it gets near the 5-minute window. */
const FRESH_FOR_SECONDS = 120

export interface Principals {
  readonly users: ReadonlyArray<HarnessUser>
  readonly credentials: (p: PrincipalName) => Credentials
  /** Puts every principal back as it was (role, enabled, session, key); true when it had to change something. */
  readonly restore: () => Promise<boolean>
}

interface RestoreState {
  readonly users: Readonly<Record<string, readonly [string, boolean]>> | null
  readonly sessions: Readonly<Record<string, number>> | null
  readonly key: readonly [boolean] | null
}

export const makePrincipals = (query: Query, users: ReadonlyArray<HarnessUser>, key: HarnessKey): Principals => {
  const sessions = new Map<SessionPrincipal, SessionCredential>()
  const userFor = (role: Role) => {
    const user = users.find((u) => u.role === role)
    if (user === undefined) throw new Error(`no harness user with the role ${role}`)
    return user
  }

  /** A session row as `Sessions.create` writes it, for a cookie only this harness knows. */
  const mint = async (p: SessionPrincipal) => {
    const old = sessions.get(p)
    if (old !== undefined) await query("DELETE FROM sessions WHERE id_hash = $1", [old.idHash])
    const cookie = randomBytes(32).toString("base64url")
    const idHash = createHash("sha256").update(cookie).digest("hex")
    const csrfToken = randomBytes(32).toString("base64url")
    const user = userFor(roleOf(p))
    await query(
      `INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, authenticated_at)
       VALUES ($1, $2::uuid, $3, now() + interval '12 hours', now() - make_interval(mins => $4::int))`,
      [idHash, user.id, csrfToken, signedInMinutesAgo(p)]
    )
    sessions.set(p, { kind: "session", cookie, csrfToken, idHash, userId: user.id })
  }

  const restore = async () => {
    const ids = JSON.stringify(users.map((u) => u.id))
    const hashes = JSON.stringify([...sessions.values()].map((s) => s.idHash))
    const [row] = await query<{ state: string }>(
      `SELECT json_build_object(
         'users', (SELECT json_object_agg(id, json_build_array(role, disabled)) FROM users
                   WHERE id::text IN (SELECT jsonb_array_elements_text($1::jsonb))),
         'sessions', (SELECT json_object_agg(id_hash, extract(epoch FROM now() - authenticated_at)) FROM sessions
                      WHERE id_hash IN (SELECT jsonb_array_elements_text($2::jsonb))),
         'key', (SELECT json_build_array(revoked_at IS NOT NULL) FROM api_keys WHERE id = $3)
       )::text AS state`,
      [ids, hashes, key.id]
    )
    const state = JSON.parse(row?.state ?? "{}") as RestoreState
    let changed = false
    for (const user of users) {
      const [role, disabled] = state.users?.[user.id] ?? ["missing", true]
      if (role === user.role && !disabled) continue
      await query("UPDATE users SET role = $1, disabled = false WHERE id = $2::uuid", [user.role, user.id])
      changed = true
    }
    for (const p of SESSION_PRINCIPALS) {
      const session = sessions.get(p)
      const age = session === undefined ? undefined : state.sessions?.[session.idHash]
      if (session === undefined || age === undefined) {
        await mint(p)
        changed = true
      } else if (p === "admin-stale" ? age < 30 * 60 : age > FRESH_FOR_SECONDS) {
        // A right password made the stale session fresh, or a fresh one is getting old.
        await query(
          "UPDATE sessions SET authenticated_at = now() - make_interval(mins => $1::int) WHERE id_hash = $2",
          [signedInMinutesAgo(p), session.idHash]
        )
        changed = true
      }
    }
    if (state.key?.[0] !== false) {
      await query("UPDATE api_keys SET revoked_at = NULL WHERE id = $1", [key.id])
      changed = true
    }
    return changed
  }

  const credentials = (p: PrincipalName): Credentials => {
    if (p === "anonymous") return { kind: "none" }
    if (p === "narrow-key") return { kind: "key", bearer: key.plaintext, keyId: key.id, ownerId: key.ownerId }
    const session = sessions.get(p)
    if (session === undefined) throw new Error(`no session for ${p}: call restore() first`)
    return session
  }

  return { users, credentials, restore }
}

// ---------------------------------------------------------------------------------------------
// Identifiers that exist, for path parameters.

/** Scopes, user ids, API key ids and reset request ids, in a stable order. */
export const knownIdentifiers = async (query: Query): Promise<ReadonlyArray<string>> => {
  const rows = await query<{ v: string }>(
    `SELECT v FROM (
       SELECT 1 AS k, scope AS v FROM breaker_scope
       UNION ALL SELECT 2, id::text FROM users
       UNION ALL SELECT 3, id FROM api_keys
       UNION ALL SELECT 4, id::text FROM breaker_reset_request
     ) ids ORDER BY k, v`
  )
  return rows.map((r) => r.v)
}

// ---------------------------------------------------------------------------------------------
// Fingerprints and partial writes.

/** Row content by primary key; columns the server updates on every use (last seen, last used) left out. */
const TABLES = {
  users:
    "SELECT id::text AS k, json_build_array(email, display_name, role, disabled, password_hash, updated_at) AS v FROM users",
  sessions:
    "SELECT id_hash AS k, json_build_array(user_id, csrf_token, created_at, authenticated_at, expires_at) AS v FROM sessions",
  api_keys:
    "SELECT id AS k, json_build_array(name, owner_id, scopes, secret_hash, created_at, expires_at, revoked_at) AS v FROM api_keys",
  breaker_scope: "SELECT scope AS k, row_to_json(t) AS v FROM breaker_scope t",
  breaker_reset_request: "SELECT id::text AS k, row_to_json(t) AS v FROM breaker_reset_request t",
  setting_version: "SELECT key || ':' || version AS k, row_to_json(t) AS v FROM setting_version t",
  login_failures: "SELECT id::text AS k, row_to_json(t) AS v FROM login_failures t"
} as const
export type TableName = keyof typeof TABLES

export interface AuditRow {
  readonly id: number
  readonly actor_type: string
  readonly actor_id: string
  readonly action: string
  readonly outcome: string
  readonly reason: string | null
  readonly resource_type: string
  readonly resource_id: string | null
  readonly request_id: string | null
}

export interface TransitionRow {
  readonly id: number
  readonly scope: string
  readonly kind: string
}

export interface Fingerprint {
  readonly tables: Readonly<Record<TableName, Readonly<Record<string, unknown>>>>
  readonly lastTransition: number
  readonly lastAudit: number
}

export interface Written {
  readonly after: Fingerprint
  /** Rows of the domain tables that appeared, disappeared or changed. */
  readonly changes: ReadonlyArray<RowChange>
  readonly audit: ReadonlyArray<AuditRow>
  readonly transitions: ReadonlyArray<TransitionRow>
}

export interface RowChange {
  readonly table: TableName
  readonly key: string
  readonly before: unknown
  readonly after: unknown
}

const tableJson = Object.entries(TABLES)
  .map(([name, select]) => `'${name}', (SELECT coalesce(json_object_agg(k, v), '{}'::json) FROM (${select}) r)`)
  .join(",\n")

/** One round trip: every domain table, the newest ids, and the history and audit rows after `since`. */
const snapshot = async (query: Query, since: { readonly transition: number; readonly audit: number }) => {
  const [row] = await query<{ fp: string }>(
    `SELECT json_build_object(
       'tables', json_build_object(${tableJson}),
       'lastTransition', (SELECT coalesce(max(id), 0) FROM breaker_transition),
       'lastAudit', (SELECT coalesce(max(id), 0) FROM audit_log),
       'transitions', (SELECT coalesce(json_agg(t ORDER BY id), '[]'::json)
                       FROM (SELECT id, scope, kind FROM breaker_transition WHERE id > $1::bigint) t),
       'audit', (SELECT coalesce(json_agg(a ORDER BY id), '[]'::json)
                 FROM (SELECT id, actor_type, actor_id, action, outcome, reason, resource_type, resource_id, request_id
                       FROM audit_log WHERE id > $2::bigint) a)
     )::text AS fp`,
    [since.transition, since.audit]
  )
  if (row === undefined) throw new Error("the fingerprint query returned nothing")
  return JSON.parse(row.fp) as Fingerprint & {
    readonly transitions: ReadonlyArray<TransitionRow>
    readonly audit: ReadonlyArray<AuditRow>
  }
}

export const fingerprint = async (query: Query): Promise<Fingerprint> => {
  const { tables, lastTransition, lastAudit } = await snapshot(query, {
    transition: Number.MAX_SAFE_INTEGER,
    audit: Number.MAX_SAFE_INTEGER
  })
  return { tables, lastTransition, lastAudit }
}

/** What was written since `before`. */
export const writtenSince = async (query: Query, before: Fingerprint): Promise<Written> => {
  const now = await snapshot(query, { transition: before.lastTransition, audit: before.lastAudit })
  const after: Fingerprint = { tables: now.tables, lastTransition: now.lastTransition, lastAudit: now.lastAudit }
  const changes: Array<RowChange> = []
  for (const table of Object.keys(TABLES) as Array<TableName>) {
    const was = before.tables[table]
    const is = after.tables[table]
    for (const key of new Set([...Object.keys(was), ...Object.keys(is)])) {
      const a = JSON.stringify(was[key])
      const b = JSON.stringify(is[key])
      if (a !== b) changes.push({ table, key, before: was[key], after: is[key] })
    }
  }
  return { after, changes, audit: now.audit, transitions: now.transitions }
}
