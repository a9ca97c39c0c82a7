/**
 * Column codecs of the breaker's tables: what the driver returns, decoded into the contract's
 * field types, and the defects a row that does not decode becomes (see store.ts).
 */
import { Effect, Schema, SchemaTransformation } from "effect"
import { shownJson } from "../../core/json-bounds.ts"

/** A `timestamptz` as ISO 8601 UTC. The driver returns a `Date`; a string (as text) is parsed too. */
export const Timestamp = Schema.Union([Schema.Date, Schema.DateFromString]).pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transform({ decode: (date) => date.toISOString(), encode: (iso) => new Date(iso) })
  )
)

/** A `bigint` column as a number. The driver returns a `bigint`; a digit string or a number is taken too. */
export const BigIntNumber = Schema.Union([
  Schema.BigInt,
  Schema.String.check(Schema.isPattern(/^-?\d+$/)),
  Schema.Number
]).pipe(Schema.decodeTo(Schema.Int, SchemaTransformation.transform({ decode: (n) => Number(n), encode: (n) => n })))

/** A `bigint` identity as the contract's string id. */
export const BigIntId = Schema.Union([Schema.BigInt, Schema.String.check(Schema.isPattern(/^\d+$/)), Schema.Int]).pipe(
  Schema.decodeTo(Schema.String, SchemaTransformation.transform({ decode: (id) => String(id), encode: (id) => id }))
)

/**
 * Stored free-form details as readers get them: withheld when out of bounds (written before the
 * bounds existed), so no published record, stream event or API answer is too deep to encode.
 * Decoding looks at the top level only and `shownJson` walks with an explicit stack, so a value
 * nested thousands of levels deep cannot overflow the stack here.
 */
export const ShownDetails = Schema.Record(Schema.String, Schema.Unknown).pipe(
  Schema.decodeTo(
    Schema.Record(Schema.String, Schema.Unknown),
    SchemaTransformation.transform({ decode: shownJson, encode: (details) => details })
  )
)

/**
 * The nullable forms, with `null` as the first member: measured, `NullOr` first tries (and fails)
 * the codec on a null, about ten times the cost, and the verifier decodes every scope every second.
 */
export const NullableTimestamp = Schema.Union([Schema.Null, Timestamp])
export const NullableDetails = Schema.Union([Schema.Null, ShownDetails])

/**
 * A row or a statement's input that does not match its schema is a bug (see the header): a
 * defect naming the table; the message carries the issue with the field's path.
 */
export const schemaDefect = (table: string) => (error: Schema.SchemaError) =>
  Effect.die(new Error(`${table}: a row read or a value written does not match its schema: ${error.message}`))

/** An `INSERT … RETURNING` that returned no row. */
export const noRowDefect = (table: string) => () => Effect.die(new Error(`${table}: an insert returned no row`))
