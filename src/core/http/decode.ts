/**
 * Request decoding for handlers: every problem is reported at once (not only the first), as a
 * 400 whose `issues` name each field. Use these instead of the raw `schemaBody*` helpers.
 */
import { Effect, Schema } from "effect"
import { HttpRouter, HttpServerRequest } from "effect/http"
import { badRequestFrom } from "./errors.ts"

const all = { errors: "all" } as const

const toBadRequest = Effect.mapError((error: unknown) => (Schema.isSchemaError(error) ? badRequestFrom(error) : error))

/** A JSON body. */
export const decodeJson = <A, RD>(schema: Schema.ConstraintDecoder<A, RD>) =>
  HttpServerRequest.schemaBodyJson(schema, all).pipe(toBadRequest)

/** An HTML form body (`application/x-www-form-urlencoded`). */
export const decodeForm = <A, I extends Readonly<Record<string, string | ReadonlyArray<string> | undefined>>, RD>(
  schema: Schema.ConstraintCodec<A, I, RD, unknown>
) => HttpServerRequest.schemaBodyUrlParams(schema, all).pipe(toBadRequest)

/** The query string. */
export const decodeQuery = <A, I extends Readonly<Record<string, string | ReadonlyArray<string> | undefined>>, RD>(
  schema: Schema.ConstraintCodec<A, I, RD, unknown>
) => HttpServerRequest.schemaSearchParams(schema, all).pipe(toBadRequest)

/** The path parameters. */
export const decodePath = <A, I extends Readonly<Record<string, string | undefined>>, RD>(
  schema: Schema.ConstraintCodec<A, I, RD, unknown>
) => HttpRouter.schemaPathParams(schema, all).pipe(toBadRequest)
