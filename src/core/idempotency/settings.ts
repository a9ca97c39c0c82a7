/**
 * The runtime settings of idempotency keys and the retention job of their table. How long an
 * answer is kept is a promise to API clients (how late a retry may come), so it is a setting an
 * administrator may change; the rows themselves go as soon as they expire.
 */
import { Schema } from "effect"
import type { RetentionJob } from "../retention/job.ts"
import { defineSetting } from "../settings/spec.ts"

/** How long a key and its answer are kept after the answer (a retry later than this executes again). */
export const idempotencyTtlHours = defineSetting({
  key: "http.idempotency_ttl_hours",
  schema: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 168 })),
  default: 24,
  description:
    "How long the API keeps the answer to a POST sent with an Idempotency-Key: a retry with the same key within this time gets the stored answer instead of acting twice.",
  permission: "MANAGE_SYSTEM_CONFIG",
  unit: "hours"
})

/** Days an expired key stays in the table (0: deleted by the next retention run). */
export const idempotencyRetentionDays = defineSetting({
  key: "http.idempotency_retention_days",
  schema: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 30 })),
  default: 0,
  description:
    "Days an expired idempotency key (and its stored answer) stays in the database before it is deleted. An expired key is never replayed, whatever this says.",
  permission: "MANAGE_SYSTEM_CONFIG",
  unit: "days"
})

/**
 * Rows past `expires_at` are dead weight: the claim path treats an expired key as unused and
 * overwrites it, so deleting it changes no answer. Counting the period from the expiry (not from
 * creation) keeps the TTL the only knob for how long a key works.
 */
export const idempotencyRetention: RetentionJob = {
  name: "http.expired_idempotency_keys",
  description: "Idempotency keys of the API (and their stored answers) past their expiry.",
  table: "idempotency_key",
  ageColumn: "expires_at",
  period: idempotencyRetentionDays
}
