/**
 * Schemas for input values whose range is the database's, not JavaScript's: an id must fit
 * PostgreSQL's `bigint`, a time its `timestamptz` as we write it, a free-form object our JSON
 * bounds. Out of range is then a 400 naming the field, never an SQL error.
 */
import { Schema } from "effect"
import { jsonBoundsProblem, MAX_JSON_BYTES, MAX_JSON_DEPTH } from "./json-bounds.ts"

const BIGINT_MAX = 9_223_372_036_854_775_807n

/** A positive `bigint` id as decimal digits (keyset cursors, transition ids). */
export const Int64Id = Schema.String.check(
  Schema.makeFilter(
    (s: string) =>
      (/^[0-9]{1,19}$/.test(s) && BigInt(s) <= BIGINT_MAX) ||
      "must be an id: decimal digits, at most 9223372036854775807"
  )
)

/**
 * An ISO 8601 date or date-time with a four-digit year from 0001 to 9999 (what PostgreSQL reads
 * back from `toISOString`; JavaScript also accepts `+275760-…` and `-000001-…`, PostgreSQL does not).
 */
export const IsoTimestamp = Schema.String.check(
  Schema.makeFilter(
    (s: string) =>
      (/^(?!0000)\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/.test(s) &&
        !Number.isNaN(Date.parse(s)) &&
        /^(?!0000)\d{4}-/.test(new Date(s).toISOString())) ||
      "must be an ISO 8601 date and time between the years 0001 and 9999, e.g. 2026-11-28T12:00:00Z",
    { title: "date-time" }
  )
)

/** A free-form JSON object (a trip's `details`): at most {@link MAX_JSON_DEPTH} levels and {@link MAX_JSON_BYTES} bytes. */
export const BoundedJsonObject = Schema.Record(Schema.String, Schema.Unknown).check(
  Schema.makeFilter((value: Readonly<Record<string, unknown>>) => jsonBoundsProblem(value) ?? true, {
    description: `a JSON object nested at most ${MAX_JSON_DEPTH} levels deep and at most ${MAX_JSON_BYTES} bytes long`
  })
)
