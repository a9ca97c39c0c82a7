/**
 * An audit entry: when, who, what, on which resource, with what outcome and why, from where
 * (client address, request id). The chain hash of a sealed entry covers exactly these fields.
 */
import { createHash } from "node:crypto"
import { Schema } from "effect"
import type { Principal } from "../auth/access.ts"
import { canonicalJson } from "../json-bounds.ts"

export const ActorType = Schema.Literals(["user", "api_key", "system", "anonymous"])
export const Outcome = Schema.Literals(["success", "failure", "denied"])
export type Outcome = typeof Outcome.Type

/** Who acted, as it is stored (JSON in the audit log, a breaker record, a setting's version). */
export const ActorJson = Schema.Struct({
  type: ActorType,
  id: Schema.String,
  name: Schema.String,
  /** For an API key: the user it acts for (its owner). Four-eyes compares people, not keys. */
  person: Schema.optionalKey(Schema.String)
})
export type ActorJson = typeof ActorJson.Type

export interface Actor {
  readonly type: typeof ActorType.Type
  readonly id: string
  readonly name: string
  /** For an API key: the user it acts for (its owner). */
  readonly person?: string
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
  name: principal.name,
  ...(principal.kind === "api_key" && principal.person !== undefined ? { person: principal.person } : {})
})

/** The person behind an actor: a user, or an API key's owner; none for the system or anonymous. */
export const personOf = (actor: Actor): string | undefined =>
  actor.type === "user" ? actor.id : actor.type === "api_key" ? actor.person : undefined

export const systemActor = (name: string): Actor => ({ type: "system", id: `system:${name}`, name })

/** The genesis value of the chain: the first seal's previous hash. */
export const GENESIS_HASH = "0".repeat(64)

/** The chain hash of an entry: SHA-256 over the previous hash and the entry's canonical content. */
export const chainHash = (previous: string, entry: AuditEntry): string =>
  createHash("sha256").update(previous).update("\n").update(canonicalJson(entry)).digest("hex")
