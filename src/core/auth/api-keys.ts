/**
 * API keys: created for an owner with scopes (a subset of the owner's permissions) and a
 * mandatory expiry of at most a year, shown once, stored as a hash, revocable, with their last
 * use recorded at most once a minute. A key acts with its scopes, narrowed by what its owner may
 * still do: demote or disable the owner and the key loses the same.
 */
import { hash } from "node:crypto"
import { Clock, Context, Effect, Layer, Option, Redacted, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { Audit } from "../audit/audit.ts"
import type { Actor } from "../audit/entry.ts"
import { isDatabaseOutage } from "../db/outage.ts"
import { BadRequest, NotFound, ServiceUnavailable } from "../errors/generic.ts"
import type { Principal } from "./access.ts"
import { ApiKeyAuthenticator } from "./api-key-authenticator.ts"
import { generateApiKey, MAX_API_KEY_SECONDS, parseApiKey, secretMatches } from "./api-key-format.ts"
import { type Permission, Permissions } from "./permissions.ts"
import type { Role } from "./roles.ts"

export const ApiKeyView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  ownerId: Schema.String,
  ownerEmail: Schema.String,
  scopes: Schema.Array(Schema.String),
  createdAt: Schema.String,
  expiresAt: Schema.String,
  revokedAt: Schema.NullOr(Schema.String),
  lastUsedAt: Schema.NullOr(Schema.String)
})
export type ApiKeyView = typeof ApiKeyView.Type

export interface NewApiKeyRequest {
  readonly name: string
  readonly ownerId: string
  readonly scopes: ReadonlyArray<string>
  readonly expiresInSeconds: number
}

export interface CreatedApiKey {
  readonly key: ApiKeyView
  /** The only time the whole key exists outside its holder's hands. */
  readonly plaintext: Redacted.Redacted<string>
}

export interface ApiKeysShape {
  readonly create: (
    request: NewApiKeyRequest,
    actor: Actor
  ) => Effect.Effect<CreatedApiKey, BadRequest | NotFound | SqlError.SqlError>
  readonly list: Effect.Effect<ReadonlyArray<ApiKeyView>, SqlError.SqlError>
  readonly revoke: (id: string, actor: Actor) => Effect.Effect<ApiKeyView, NotFound | SqlError.SqlError>
}

interface KeyRow {
  readonly id: string
  readonly name: string
  readonly owner_id: string
  readonly owner_email: string
  readonly scopes_json: unknown
  readonly created_at: Date | string
  readonly expires_at: Date | string
  readonly revoked_at: Date | string | null
  readonly last_used_at: Date | string | null
}

interface AuthRow extends KeyRow {
  readonly secret_hash: string
  readonly owner_role: Role
  readonly owner_disabled: boolean
  readonly owner_name: string
}

const iso = (d: Date | string) => new Date(d).toISOString()
const scopesOf = (json: unknown): ReadonlyArray<string> => {
  const value: unknown = typeof json === "string" ? JSON.parse(json) : json
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === "string") : []
}

const toView = (row: KeyRow): ApiKeyView => ({
  id: row.id,
  name: row.name,
  ownerId: row.owner_id,
  ownerEmail: row.owner_email,
  scopes: scopesOf(row.scopes_json),
  createdAt: iso(row.created_at),
  expiresAt: iso(row.expires_at),
  revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
  lastUsedAt: row.last_used_at === null ? null : iso(row.last_used_at)
})

const SELECT_KEYS = `SELECT k.id, k.name, k.owner_id, u.email AS owner_email, array_to_json(k.scopes) AS scopes_json,
  k.created_at, k.expires_at, k.revoked_at, k.last_used_at FROM api_keys k JOIN users u ON u.id = k.owner_id`

/** How often a key's `last_used_at` is written at most. */
const LAST_USE_INTERVAL_MS = 60_000

export class ApiKeys extends Context.Service<ApiKeys, ApiKeysShape>()("breakwater/ApiKeys") {
  static readonly layer = Layer.effect(
    ApiKeys,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const audit = yield* Audit
      const permissions = yield* Permissions
      // Optional: the CLI manages keys without serving requests, so it has no verified keys to forget.
      const authenticator = yield* Effect.serviceOption(ApiKeyAuthenticator)

      const byId = (id: string) =>
        Effect.flatMap(sql.unsafe<KeyRow>(`${SELECT_KEYS} WHERE k.id = $1`, [id]), (rows) =>
          rows[0] === undefined
            ? Effect.fail(new NotFound({ message: `no API key ${id}` }))
            : Effect.succeed(toView(rows[0]))
        )

      const create = Effect.fn("ApiKeys.create")(function* (request: NewApiKeyRequest, actor: Actor) {
        const issues: Array<{ path: string; message: string }> = []
        const name = request.name.trim()
        if (name.length === 0 || name.length > 100)
          issues.push({ path: "name", message: "must be 1 to 100 characters" })
        if (!Number.isInteger(request.expiresInSeconds) || request.expiresInSeconds <= 0)
          issues.push({ path: "expiresIn", message: "is required and must be positive" })
        else if (request.expiresInSeconds > MAX_API_KEY_SECONDS)
          issues.push({ path: "expiresIn", message: "must be at most one year" })
        const owners = yield* sql<{
          role: Role
          disabled: boolean
        }>`SELECT role, disabled FROM users WHERE id = ${request.ownerId}`
        const owner = owners[0]
        if (owner === undefined || owner.disabled)
          return yield* new NotFound({ message: "the key's owner does not exist or is disabled" })
        const allowed = permissions.ofRole(owner.role)
        const scopes = [...new Set(request.scopes)]
        if (scopes.length === 0) issues.push({ path: "scopes", message: "must name at least one permission" })
        for (const scope of scopes) {
          if (!permissions.isPermission(scope)) issues.push({ path: "scopes", message: `${scope} is not a permission` })
          else if (!allowed.has(scope))
            issues.push({ path: "scopes", message: `${scope} is not held by the key's owner` })
        }
        if (issues.length > 0)
          return yield* new BadRequest({
            message: `invalid API key: ${issues.map((i) => `${i.path} ${i.message}`).join("; ")}`,
            issues
          })
        const generated = generateApiKey()
        const now = yield* Clock.currentTimeMillis
        const expiresAt = new Date(now + request.expiresInSeconds * 1000).toISOString()
        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO api_keys (id, name, owner_id, scopes, secret_hash, expires_at)
              VALUES (${generated.id}, ${name}, ${request.ownerId},
                ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(scopes)}::jsonb)), ${generated.secretHash}, ${expiresAt}::timestamptz)`
            yield* audit.recordInTransaction({
              actor,
              action: "api_key.create",
              resourceType: "api_key",
              resourceId: generated.id,
              outcome: "success",
              details: { name, ownerId: request.ownerId, scopes, expiresAt }
            })
          })
        )
        return { key: yield* byId(generated.id), plaintext: Redacted.make(generated.plaintext, { label: "api key" }) }
      })

      const revoke = Effect.fn("ApiKeys.revoke")(function* (id: string, actor: Actor) {
        yield* byId(id)
        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`UPDATE api_keys SET revoked_at = now() WHERE id = ${id} AND revoked_at IS NULL`
            yield* audit.recordInTransaction({
              actor,
              action: "api_key.revoke",
              resourceType: "api_key",
              resourceId: id,
              outcome: "success"
            })
          })
        )
        // After the commit: a lookup racing with it stores nothing (see `generation`).
        if (Option.isSome(authenticator)) yield* authenticator.value.forgetVerified
        return yield* byId(id)
      })

      return ApiKeys.of({
        create,
        list: Effect.map(sql.unsafe<KeyRow>(`${SELECT_KEYS} ORDER BY k.created_at DESC`), (rows) => rows.map(toView)),
        revoke
      })
    })
  )
}

/**
 * How long this process trusts a key it verified without asking the database again. Revocations
 * and owner changes made through this process apply at once (they clear the cache); those made
 * elsewhere (another replica, the CLI, SQL) apply within this time.
 */
export const VERIFIED_KEY_TTL_MS = 5_000
/** A bound on the cache; only valid keys enter it, so this is far above any real installation. */
const MAX_VERIFIED_KEYS = 10_000

interface VerifiedKey {
  readonly principal: Principal
  readonly keyId: string
  readonly expiresAt: number
  readonly verifiedAt: number
}

/** Recognises `bw_…` keys: valid checksum, known id, matching secret, not expired or revoked, owner enabled. */
export const ApiKeyAuthenticatorLive = Layer.effect(
  ApiKeyAuthenticator,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const registry = yield* Permissions
    const lastWrite = new Map<string, number>()
    const services = yield* Effect.context<never>()
    // Keyed by SHA-256 of the whole presented token, so the cache never holds a usable secret.
    const verified = new Map<string, VerifiedKey>()
    // Bumped by every forget: a lookup that started before it must not store what it read.
    let generation = 0

    /** Records the key's use, at most once a minute per key from this process. */
    const touch = (id: string, now: number) => {
      const previous = lastWrite.get(id)
      if (previous !== undefined && now - previous < LAST_USE_INTERVAL_MS) return Effect.void
      lastWrite.set(id, now)
      // Several replicas may race; the condition keeps the write to once a minute across them.
      return sql`UPDATE api_keys SET last_used_at = now()
        WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`.pipe(
        Effect.catch((error) => Effect.logWarning(`recording the last use of API key ${id} failed: ${error.message}`)),
        Effect.forkDetach,
        Effect.provide(services),
        Effect.asVoid
      )
    }

    const lookup = (text: string, tokenHash: string, now: number) =>
      Effect.gen(function* () {
        const parsed = parseApiKey(text)
        if (parsed === undefined) return undefined
        const started = generation
        const rows = yield* sql.unsafe<AuthRow>(
          `SELECT k.id, k.name, k.owner_id, u.email AS owner_email, array_to_json(k.scopes) AS scopes_json, k.created_at,
             k.expires_at, k.revoked_at, k.last_used_at, k.secret_hash, u.role AS owner_role, u.disabled AS owner_disabled,
             u.display_name AS owner_name
           FROM api_keys k JOIN users u ON u.id = k.owner_id WHERE k.id = $1`,
          [parsed.id]
        )
        const row = rows[0]
        if (row === undefined || !secretMatches(parsed.secret, row.secret_hash)) return undefined
        const expiresAt = new Date(row.expires_at).getTime()
        if (row.revoked_at !== null || expiresAt <= now || row.owner_disabled) return undefined
        yield* touch(row.id, now)
        const owned = registry.ofRole(row.owner_role)
        const permissions = new Set<Permission>(
          scopesOf(row.scopes_json)
            .filter(registry.isPermission)
            .filter((p) => owned.has(p))
        )
        const principal: Principal = {
          kind: "api_key",
          id: row.id,
          person: row.owner_id,
          name: `${row.name} (key of ${row.owner_name})`,
          permissions
        }
        if (generation === started) {
          if (verified.size >= MAX_VERIFIED_KEYS) verified.clear()
          verified.set(tokenHash, { principal, keyId: row.id, expiresAt, verifiedAt: now })
        }
        return principal
      }).pipe(
        // Only a lost database is "cannot check"; any other SQL error is a bug (500).
        Effect.catchTag("SqlError", (error) =>
          isDatabaseOutage(error)
            ? Effect.fail(
                new ServiceUnavailable({ message: "API keys cannot be checked: the database is unreachable" })
              )
            : Effect.die(error)
        )
      )

    return ApiKeyAuthenticator.of({
      // Runs on every API request: a cache hit is a hash and a map lookup, no generator, no query.
      authenticate: (token) =>
        Effect.clockWith((clock) => {
          const now = clock.currentTimeMillisUnsafe()
          const text = Redacted.value(token)
          const tokenHash = hash("sha256", text, "base64")
          const hit = verified.get(tokenHash)
          if (hit !== undefined) {
            // The key's own expiry holds to the millisecond, whatever the cache age.
            if (now - hit.verifiedAt < VERIFIED_KEY_TTL_MS && now < hit.expiresAt) {
              const last = lastWrite.get(hit.keyId)
              return last !== undefined && now - last < LAST_USE_INTERVAL_MS
                ? Effect.succeed(hit.principal)
                : Effect.as(touch(hit.keyId, now), hit.principal)
            }
            verified.delete(tokenHash)
          }
          return lookup(text, tokenHash, now)
        }),
      authenticateFresh: (token) =>
        Effect.clockWith((clock) => {
          const text = Redacted.value(token)
          return lookup(text, hash("sha256", text, "base64"), clock.currentTimeMillisUnsafe())
        }),
      forgetVerified: Effect.sync(() => {
        generation++
        verified.clear()
      }),
      verifiedUnsafe: (token, now) => {
        const hit = verified.get(hash("sha256", token, "base64"))
        if (hit === undefined || now - hit.verifiedAt >= VERIFIED_KEY_TTL_MS || now >= hit.expiresAt) return undefined
        const last = lastWrite.get(hit.keyId)
        return last !== undefined && now - last < LAST_USE_INTERVAL_MS ? hit.principal : undefined
      }
    })
  })
)
