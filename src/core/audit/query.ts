/**
 * Reading the audit log: filters (actor, action, resource, outcome, time range) and keyset
 * pagination on the id, newest first, so page 1,000 costs what page 1 costs.
 */
import { Effect, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { Int64Id, IsoTimestamp } from "../input-schemas.ts"
import { shownJson } from "../json-bounds.ts"
import { AuditEntry, Outcome } from "./entry.ts"
import { AUDIT_COLUMNS, type AuditRow, toEntry } from "./store.ts"

const Limit = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 500 }))
const Text = Schema.String.check(Schema.isMaxLength(200))

/** The filters, as the page's form and the API's query string give them (empty means unset). */
export const AuditFilter = Schema.Struct({
  actor: Schema.optionalKey(Text),
  action: Schema.optionalKey(Text),
  resourceType: Schema.optionalKey(Text),
  resourceId: Schema.optionalKey(Text),
  outcome: Schema.optionalKey(Outcome),
  from: Schema.optionalKey(IsoTimestamp),
  to: Schema.optionalKey(IsoTimestamp),
  /** Entries older than this id (the previous page's `nextCursor`). */
  cursor: Schema.optionalKey(Int64Id),
  limit: Schema.optionalKey(Limit)
})
export type AuditFilter = typeof AuditFilter.Type

/** Query strings from HTML forms carry empty fields: drop them before decoding. */
export const withoutEmpty = (params: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>) =>
  Object.fromEntries(Object.entries(params).filter(([, v]) => typeof v === "string" && v.trim() !== ""))

export interface AuditPage {
  readonly entries: ReadonlyArray<AuditEntry>
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  readonly nextCursor: string | undefined
}

/** The body of `GET /api/v1/audit`. */
export const AuditPageSchema = Schema.Struct({
  entries: Schema.Array(AuditEntry),
  nextCursor: Schema.optionalKey(Schema.String)
})

const conditions = (filter: AuditFilter): { readonly where: string; readonly params: Array<unknown> } => {
  const clauses: Array<string> = []
  const params: Array<unknown> = []
  const add = (clause: (n: string) => string, value: unknown) => {
    params.push(value)
    clauses.push(clause(`$${params.length}`))
  }
  if (filter.actor !== undefined) add((p) => `(actor_id = ${p} OR actor_name = ${p})`, filter.actor)
  if (filter.action !== undefined) {
    // `auth.*` matches every action under `auth.`.
    if (filter.action.endsWith(".*"))
      add((p) => `action LIKE ${p}`, `${filter.action.slice(0, -1).replace(/[%_\\]/g, "\\$&")}%`)
    else add((p) => `action = ${p}`, filter.action)
  }
  if (filter.resourceType !== undefined) add((p) => `resource_type = ${p}`, filter.resourceType)
  if (filter.resourceId !== undefined) add((p) => `resource_id = ${p}`, filter.resourceId)
  if (filter.outcome !== undefined) add((p) => `outcome = ${p}`, filter.outcome)
  if (filter.from !== undefined) add((p) => `occurred_at >= ${p}::timestamptz`, new Date(filter.from).toISOString())
  if (filter.to !== undefined) add((p) => `occurred_at < ${p}::timestamptz`, new Date(filter.to).toISOString())
  if (filter.cursor !== undefined) add((p) => `id < ${p}::bigint`, filter.cursor)
  return { where: clauses.length === 0 ? "" : `WHERE ${clauses.join(" AND ")}`, params }
}

/** One page of entries, newest first. */
export const listEntries = (filter: AuditFilter): Effect.Effect<AuditPage, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const limit = filter.limit ?? 50
    const { where, params } = conditions(filter)
    const rows = yield* sql.unsafe<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log ${where} ORDER BY id DESC LIMIT ${limit + 1}`,
      params
    )
    // Details written before the bounds existed may be too deep to encode: readers get them withheld.
    const entries = rows.slice(0, limit).map((row) => {
      const entry = toEntry(row)
      return { ...entry, details: shownJson(entry.details) }
    })
    const last = entries.at(-1)
    return { entries, nextCursor: rows.length > limit && last !== undefined ? last.id : undefined }
  })

/** Who acted and what was done in the newest entries: the audit page's actor and action pickers. */
export interface AuditVocabulary {
  /** Distinct actions, sorted. */
  readonly actions: ReadonlyArray<string>
  /** Distinct actors, by type then name. */
  readonly actors: ReadonlyArray<{ readonly type: string; readonly id: string; readonly name: string }>
}

/**
 * Reads only the newest {@link VOCABULARY_SAMPLE} entries (a walk back along the primary key),
 * so the pickers cost the same on a log of a billion entries; an action or actor seen only
 * further back can still be filtered by typing it (the API and the page's URL take any value).
 */
export const VOCABULARY_SAMPLE = 20_000

export const recentVocabulary: Effect.Effect<AuditVocabulary, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient
    const recent = `(SELECT actor_type, actor_id, actor_name, action FROM audit_log ORDER BY id DESC LIMIT ${VOCABULARY_SAMPLE}) recent`
    const actions = yield* sql.unsafe<{ readonly action: string }>(
      `SELECT DISTINCT action FROM ${recent} ORDER BY action LIMIT 500`
    )
    const actors = yield* sql.unsafe<{
      readonly actor_type: string
      readonly actor_id: string
      readonly actor_name: string
    }>(
      `SELECT actor_type, actor_id, max(actor_name) AS actor_name FROM ${recent}
       GROUP BY actor_type, actor_id ORDER BY actor_type, max(actor_name) LIMIT 1000`
    )
    return {
      actions: actions.map((r) => r.action),
      actors: actors.map((r) => ({ type: r.actor_type, id: r.actor_id, name: r.actor_name }))
    }
  }
)
