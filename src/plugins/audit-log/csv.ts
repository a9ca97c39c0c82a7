/**
 * CSV export of audit entries (RFC 4180). Cells that a spreadsheet would run as a formula are
 * prefixed with a quote, so an exported log cannot execute what an attacker typed into it.
 */
import type { AuditEntry } from "../../core/audit/entry.ts"

export const CSV_HEADER = [
  "id",
  "occurred_at",
  "actor_type",
  "actor_id",
  "actor_name",
  "action",
  "resource_type",
  "resource_id",
  "outcome",
  "reason",
  "details",
  "client_address",
  "request_id"
] as const

export const csvCell = (value: string | null): string => {
  if (value === null) return ""
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

export const csvLine = (cells: ReadonlyArray<string | null>): string => `${cells.map(csvCell).join(",")}\r\n`

export const csvRow = (e: AuditEntry): string =>
  csvLine([
    e.id,
    e.occurredAt,
    e.actorType,
    e.actorId,
    e.actorName,
    e.action,
    e.resourceType,
    e.resourceId,
    e.outcome,
    e.reason,
    JSON.stringify(e.details),
    e.clientAddress,
    e.requestId
  ])
