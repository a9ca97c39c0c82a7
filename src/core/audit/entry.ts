/**
 * An audit entry: when, who, what, on which resource, with what outcome and why, from where
 * (client address, request id). The chain hash of a sealed entry covers exactly these fields.
 */
import { createHash } from "node:crypto"
import { Schema } from "effect"
import type { Principal } from "../auth/access.ts"

export const ActorType = Schema.Literals(["user", "api_key", "system", "anonymous"])
export const Outcome = Schema.Literals(["success", "failure", "denied"])
export type Outcome = typeof Outcome.Type

export interface Actor {
  readonly type: typeof ActorType.Type
  readonly id: string
  readonly name: string
}

/** What a caller records; time and id are given by the database. */
export interface AuditEntryInput {
  readonly actor: Actor
  readonly action: string
  readonly resourceType: string
  readonly resourceId?: string | undefined
  readonly outcome: Outcome
  readonly reason?: string | undefined
  readonly details?: Readonly<Record<string, unknown>> | undefined
  /** Default: the current request's client address and id. */
  readonly clientAddress?: string | undefined
  readonly requestId?: string | undefined
}

/** A stored entry, as the API and the page show it. */
export const AuditEntry = Schema.Struct({
  id: Schema.String,
  occurredAt: Schema.String,
  actorType: ActorType,
  actorId: Schema.String,
  actorName: Schema.String,
  action: Schema.String,
  resourceType: Schema.String,
  resourceId: Schema.NullOr(Schema.String),
  outcome: Outcome,
  reason: Schema.NullOr(Schema.String),
  details: Schema.Record(Schema.String, Schema.Unknown),
  clientAddress: Schema.NullOr(Schema.String),
  requestId: Schema.NullOr(Schema.String)
})
export type AuditEntry = typeof AuditEntry.Type

export const actorOf = (principal: Principal): Actor => ({
  type: principal.kind,
  id: principal.id,
  name: principal.name
})

export const systemActor = (name: string): Actor => ({ type: "system", id: `system:${name}`, name })

/** JSON with object keys sorted at every level, so equal content always hashes the same. */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
}

/** The genesis value of the chain: the first seal's previous hash. */
export const GENESIS_HASH = "0".repeat(64)

/** The chain hash of an entry: SHA-256 over the previous hash and the entry's canonical content. */
export const chainHash = (previous: string, entry: AuditEntry): string =>
  createHash("sha256").update(previous).update("\n").update(canonicalJson(entry)).digest("hex")
