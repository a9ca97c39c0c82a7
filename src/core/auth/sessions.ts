/**
 * Server-side sessions. The cookie carries only a 256-bit random id; the row is keyed by its
 * SHA-256, so a leaked table does not hand out sessions. Idle and absolute lifetimes are enforced
 * here, on every request, against the database clock; `last_seen_at` is written at most once a
 * minute per session so a busy console does not turn every request into a write.
 */
import { createHash, randomBytes } from "node:crypto"
import { Context, Effect, Layer, Redacted } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { AppConfig } from "../config.ts"
import type { Principal } from "./access.ts"
import type { Permissions } from "./permissions.ts"
import { isRole, type Role } from "./roles.ts"

export const SESSION_COOKIE = "__Host-breakwater_session"

/** `__Host-` demands Secure, Path=/ and no Domain; Strict keeps the cookie off cross-site requests. */
export const SESSION_COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: "strict", path: "/" } as const

/**
 * Failed sign-ins (per account and address, and those of unknown identifiers) are kept a day,
 * longer than any throttling window; the audit log keeps them for good.
 */
const FAILURE_RETENTION_MINUTES = 24 * 60

/** 32 random bytes in base64url: exactly 43 characters. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/

export const hashSessionId = (id: string): string => createHash("sha256").update(id).digest("hex")

const randomToken = (): string => randomBytes(32).toString("base64url")

/** A session just created: the id goes into the cookie and nowhere else. */
export interface NewSession {
  readonly id: Redacted.Redacted<string>
  readonly idHash: string
  readonly csrfToken: string
}

/** A live session with its user, as a request sees it. */
export interface ActiveSession {
  readonly idHash: string
  readonly csrfToken: string
  readonly authenticatedAt: Date
  readonly user: {
    readonly id: string
    readonly email: string
    readonly displayName: string
    readonly role: Role
  }
}

export interface SessionMeta {
  readonly clientAddress: string | undefined
  readonly userAgent: string | undefined
}

interface SessionRow {
  readonly id_hash: string
  readonly user_id: string
  readonly csrf_token: string
  readonly authenticated_at: Date | string
  readonly expired: boolean
  readonly stale: boolean
  readonly email: string
  readonly display_name: string
  readonly role: string
  readonly disabled: boolean
}

/** Ends every session of a user; inside a transaction it commits with the change that caused it. */
export const revokeUserSessions = (userId: string): Effect.Effect<number, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ id_hash: string }>`DELETE FROM sessions WHERE user_id = ${userId} RETURNING id_hash`,
      (rows) => rows.length
    )
  )

/** The principal a session stands for: its user, with the permissions of the user's role. */
export const principalOfSession = (session: ActiveSession, permissions: Permissions["Service"]): Principal => ({
  kind: "user",
  id: session.user.id,
  person: session.user.id,
  name: session.user.displayName,
  email: session.user.email,
  role: session.user.role,
  permissions: permissions.ofRole(session.user.role),
  session: {
    idHash: session.idHash,
    csrfToken: session.csrfToken,
    authenticatedAt: session.authenticatedAt
  }
})

export interface SessionsShape {
  /** Creates a session for a user who just proved their password. */
  readonly create: (userId: string, meta: SessionMeta) => Effect.Effect<NewSession, SqlError.SqlError>
  /** The live session a cookie value names, or undefined (unknown, expired, or its user disabled). */
  readonly resolve: (cookieValue: string) => Effect.Effect<ActiveSession | undefined, SqlError.SqlError>
  /** Ends the session a cookie value names (logout, or the pre-login session at login). */
  readonly revokeByCookie: (cookieValue: string) => Effect.Effect<boolean, SqlError.SqlError>
  /** Records that the password was entered again in this session. */
  readonly markAuthenticated: (idHash: string) => Effect.Effect<void, SqlError.SqlError>
  /** Deletes expired sessions and failed logins older than any lockout window; returns the count. */
  readonly sweep: Effect.Effect<number, SqlError.SqlError>
}

export class Sessions extends Context.Service<Sessions, SessionsShape>()("breakwater/Sessions") {
  static readonly layer = Layer.effect(
    Sessions,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const config = yield* AppConfig
      const idleMinutes = config.sessionIdleMinutes
      const maxHours = config.sessionMaxHours

      const create = (userId: string, meta: SessionMeta) =>
        Effect.gen(function* () {
          const id = randomToken()
          const idHash = hashSessionId(id)
          const csrfToken = randomToken()
          yield* sql`INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, client_address, user_agent)
            VALUES (${idHash}, ${userId}, ${csrfToken}, now() + make_interval(hours => ${maxHours}),
                    ${meta.clientAddress ?? null}, ${meta.userAgent?.slice(0, 512) ?? null})`
          return { id: Redacted.make(id), idHash, csrfToken }
        }).pipe(Effect.withSpan("Sessions.create"))

      const resolve = (cookieValue: string) =>
        Effect.gen(function* () {
          // A malformed value cannot name a session: no query for it.
          if (!SESSION_ID.test(cookieValue)) return undefined
          const idHash = hashSessionId(cookieValue)
          const rows = yield* sql<SessionRow>`SELECT s.id_hash, s.user_id, s.csrf_token, s.authenticated_at,
              (s.expires_at <= now() OR s.last_seen_at <= now() - make_interval(mins => ${idleMinutes})) AS expired,
              (s.last_seen_at <= now() - interval '1 minute') AS stale,
              u.email, u.display_name, u.role, u.disabled
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id_hash = ${idHash}`
          const row = rows[0]
          if (row === undefined) return undefined
          if (row.expired || row.disabled || !isRole(row.role)) {
            yield* sql`DELETE FROM sessions WHERE id_hash = ${idHash}`
            return undefined
          }
          if (row.stale) yield* sql`UPDATE sessions SET last_seen_at = now() WHERE id_hash = ${idHash}`
          const session: ActiveSession = {
            idHash,
            csrfToken: row.csrf_token,
            authenticatedAt: new Date(row.authenticated_at),
            user: { id: row.user_id, email: row.email, displayName: row.display_name, role: row.role }
          }
          return session
        }).pipe(Effect.withSpan("Sessions.resolve"))

      const revokeByCookie = (cookieValue: string) =>
        SESSION_ID.test(cookieValue)
          ? Effect.map(
              sql`DELETE FROM sessions WHERE id_hash = ${hashSessionId(cookieValue)} RETURNING id_hash`,
              (rows) => rows.length > 0
            )
          : Effect.succeed(false)

      const markAuthenticated = (idHash: string) =>
        Effect.asVoid(sql`UPDATE sessions SET authenticated_at = now(), last_seen_at = now() WHERE id_hash = ${idHash}`)

      // Sessions nobody presents again (a closed browser) would otherwise stay for ever.
      const sweep = Effect.gen(function* () {
        const sessions = yield* sql`DELETE FROM sessions
          WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(mins => ${idleMinutes})
          RETURNING id_hash`
        const failures = yield* sql`DELETE FROM login_failures
          WHERE failed_at <= now() - make_interval(mins => ${FAILURE_RETENTION_MINUTES}) RETURNING id`
        return sessions.length + failures.length
      }).pipe(Effect.withSpan("Sessions.sweep"))

      return Sessions.of({ create, resolve, revokeByCookie, markAuthenticated, sweep })
    })
  )
}
