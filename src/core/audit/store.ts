/**
 * The audit tables' SQL. Entries go in with one statement per batch (a JSON array expanded by
 * `jsonb_to_recordset`), so a group of a thousand costs one round trip and one parse.
 */
import { Effect } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import type { AuditEntry, AuditEntryInput } from "./entry.ts"

/** A row of `audit_log` as the SQL client returns it. */
export interface AuditRow {
  readonly id: string | number | bigint
  readonly occurred_at: Date | string
  readonly actor_type: AuditEntry["actorType"]
  readonly actor_id: string
  readonly actor_name: string
  readonly action: string
  readonly resource_type: string
  readonly resource_id: string | null
  readonly outcome: AuditEntry["outcome"]
  readonly reason: string | null
  readonly details: unknown
  readonly client_address: string | null
  readonly request_id: string | null
}

export const AUDIT_COLUMNS =
  "id, occurred_at, actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome, reason, details, client_address, request_id"

const asRecord = (value: unknown): Record<string, unknown> => {
  const parsed = typeof value === "string" ? (JSON.parse(value) as unknown) : value
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {}
}

export const toEntry = (row: AuditRow): AuditEntry => ({
  id: String(row.id),
  occurredAt: new Date(row.occurred_at).toISOString(),
  actorType: row.actor_type,
  actorId: row.actor_id,
  actorName: row.actor_name,
  action: row.action,
  resourceType: row.resource_type,
  resourceId: row.resource_id,
  outcome: row.outcome,
  reason: row.reason,
  details: asRecord(row.details),
  clientAddress: row.client_address,
  requestId: row.request_id
})

const toRecord = (e: AuditEntryInput) => ({
  actor_type: e.actor.type,
  actor_id: e.actor.id,
  actor_name: e.actor.name,
  action: e.action,
  resource_type: e.resourceType,
  resource_id: e.resourceId ?? null,
  outcome: e.outcome,
  reason: e.reason ?? null,
  details: e.details ?? {},
  client_address: e.clientAddress ?? null,
  request_id: e.requestId ?? null
})

/** The columns an entry fills, in the order of {@link AUDIT_RECORDSET}. */
export const AUDIT_INSERT_COLUMNS =
  "actor_type, actor_id, actor_name, action, resource_type, resource_id, outcome, reason, details, client_address, request_id"

/** `jsonb_to_recordset(<rows>) AS x(…)`: the row type of {@link auditRowsJson}'s JSON. */
export const AUDIT_RECORDSET = `x(actor_type text, actor_id text, actor_name text, action text, resource_type text,
  resource_id text, outcome text, reason text, details jsonb, client_address text, request_id text)`

/** Entries as the JSON array parameter of `jsonb_to_recordset`. */
export const auditRowsJson = (entries: ReadonlyArray<AuditEntryInput>) => JSON.stringify(entries.map(toRecord))

/** Inserts entries in order; inside a transaction they commit with it. */
export const insertEntries = (
  entries: ReadonlyArray<AuditEntryInput>
): Effect.Effect<void, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql
      .unsafe(
        `INSERT INTO audit_log (${AUDIT_INSERT_COLUMNS}) SELECT ${AUDIT_INSERT_COLUMNS}
         FROM jsonb_to_recordset($1::jsonb) AS ${AUDIT_RECORDSET}`,
        [auditRowsJson(entries)]
      )
      .pipe(Effect.asVoid)
  )
