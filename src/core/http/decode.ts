/**
 * Request decoding for handlers: every problem is reported at once (not only the first), as a
 * 400 whose `issues` name each field. Use these instead of the raw `schemaBody*` helpers: before
 * any schema runs they refuse what no route can take — a JSON document nested deeper than
 * {@link MAX_DOCUMENT_DEPTH}, and text PostgreSQL cannot store (U+0000, lone surrogates) in any
 * field, key, query or path parameter — so such input is a 400 naming the field everywhere, never
 * a database error. Body sizes are bounded before this, by the server (413).
 */
import { Effect, Schema } from "effect"
import { HttpRouter, HttpServerRequest, UrlParams } from "effect/http"
import { BadRequest, badRequestFrom } from "../errors/generic.ts"
import { jsonDepth, unstorableStrings } from "../json-bounds.ts"

const all = { errors: "all" } as const

/** A whole JSON body nests at most this deep (free-form fields inside it have tighter bounds). */
export const MAX_DOCUMENT_DEPTH = 32

const toBadRequest = Effect.mapError((error: unknown) => (Schema.isSchemaError(error) ? badRequestFrom(error) : error))

/** Refuses input with text the database cannot store; names each such field. */
const storable = <A>(input: A): Effect.Effect<A, BadRequest> => {
  const issues = unstorableStrings(input)
  if (issues.length === 0) return Effect.succeed(input)
  const summary = issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ")
  return Effect.fail(new BadRequest({ message: `invalid request: ${summary}`, issues }))
}

const tooDeep = new BadRequest({
  message: `invalid request: the JSON body nests deeper than ${MAX_DOCUMENT_DEPTH} levels`,
  issues: [{ path: "", message: `must nest at most ${MAX_DOCUMENT_DEPTH} levels deep` }]
})

const decodeJsonBody = <A, RD>(schema: Schema.ConstraintDecoder<A, RD>, optional: boolean) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => request.json).pipe(
    // An empty body parses as null.
    Effect.map((body: unknown) => (optional && body === null ? {} : body)),
    Effect.flatMap((body) =>
      jsonDepth(body, MAX_DOCUMENT_DEPTH) > MAX_DOCUMENT_DEPTH ? Effect.fail(tooDeep) : storable(body)
    ),
    Effect.flatMap((body) => decode(body, all)),
    toBadRequest
  )
}

/** A JSON body. */
export const decodeJson = <A, RD>(schema: Schema.ConstraintDecoder<A, RD>) => decodeJsonBody(schema, false)

/** A JSON body that may be left out (an empty body reads as `{}`), for routes whose fields are all optional. */
export const decodeOptionalJson = <A, RD>(schema: Schema.ConstraintDecoder<A, RD>) => decodeJsonBody(schema, true)

/** Decodes `input` with `schema` once its text is known to be storable; every problem a 400. */
const storableThen = <A, RD, E, R>(input: Effect.Effect<unknown, E, R>, schema: Schema.ConstraintDecoder<A, RD>) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return input.pipe(
    Effect.flatMap(storable),
    Effect.flatMap((fields) => decode(fields, all)),
    toBadRequest
  )
}

/** An HTML form body (`application/x-www-form-urlencoded`). */
export const decodeForm = <A, I extends Readonly<Record<string, string | ReadonlyArray<string> | undefined>>, RD>(
  schema: Schema.ConstraintCodec<A, I, RD, unknown>
) =>
  storableThen(
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      Effect.map(request.urlParamsBody, UrlParams.toRecord)
    ),
    schema
  )

/** The query string. */
export const decodeQuery = <A, I extends Readonly<Record<string, string | ReadonlyArray<string> | undefined>>, RD>(
  schema: Schema.ConstraintCodec<A, I, RD, unknown>
) =>
  storableThen(
    Effect.map(HttpServerRequest.ParsedSearchParams, (params) => params),
    schema
  )

/** The path parameters. */
export const decodePath = <A, I extends Readonly<Record<string, string | undefined>>, RD>(
  schema: Schema.ConstraintCodec<A, I, RD, unknown>
) => storableThen(HttpRouter.params, schema)
