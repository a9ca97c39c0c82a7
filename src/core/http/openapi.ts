/**
 * The OpenAPI 3.1 description, generated from the route table: every `/api/*` route and the
 * probes, with the permission each needs and the schemas its module declared. Generated, so it
 * cannot drift from what is served; a test checks every API route has its schemas.
 */
import { Schema } from "effect"
import { DEFAULT_WAIT_MILLIS, MAX_KEY_LENGTH, appliesTo as takesIdempotencyKey } from "../idempotency/policy.ts"
import { version } from "../version.ts"
import type { RegisteredRoute } from "./route.ts"

type Json = Record<string, unknown>

const ErrorBody: Json = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "requestId"],
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        requestId: { type: "string" },
        issues: {
          type: "array",
          items: {
            type: "object",
            required: ["path", "message"],
            properties: { path: { type: "string" }, message: { type: "string" } }
          }
        },
        details: {}
      }
    }
  }
}

const jsonSchema = (schema: Schema.Top): Json => {
  const doc = Schema.toJsonSchemaDocument(schema)
  const definitions = doc.definitions as Json
  // Inline definitions under $defs so each schema stands alone.
  return Object.keys(definitions).length === 0 ? (doc.schema as Json) : { ...(doc.schema as Json), $defs: definitions }
}

const errorResponse = (description: string, headers?: Json): Json => ({
  description,
  ...(headers === undefined ? {} : { headers }),
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } }
})

const RETRY_AFTER: Json = {
  "Retry-After": { description: "Seconds to wait before trying again.", schema: { type: "integer", minimum: 1 } }
}

const RATE_LIMITED =
  "The API key made more requests in the last minute than `API_RATE_LIMIT_PER_MINUTE` allows (`too_many_requests`); see `Retry-After`."

/** Every POST of the JSON API takes one (`core/http/idempotency.ts`). */
const IDEMPOTENCY_KEY: Json = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: `Makes a retry safe: the first request with this key acts and its answer is kept (\`http.idempotency_ttl_hours\`, 24 h by default); the same request again with the key gets that answer replayed, with \`Idempotent-Replayed: true\`. Keys belong to the caller (API key or user). 1 to ${MAX_KEY_LENGTH} visible ASCII characters, bare or quoted; a UUID is a good key. Answers 5xx, 400, 401, 403, 408, 413 and 429 are not kept: a retry executes again.`,
  schema: { type: "string", minLength: 1, maxLength: MAX_KEY_LENGTH + 2, pattern: "^[!-~]+$" }
}

const REPLAYED: Json = {
  "Idempotent-Replayed": {
    description: "`true` when this answer is the kept answer to an earlier request with the same `Idempotency-Key`.",
    schema: { type: "string", enum: ["true"] }
  }
}

/** The answers every keyed POST may give besides its own; a route's own 400 and 409 keep their descriptions. */
const idempotencyResponses = (responses: Json, own: Readonly<Record<number, string>>): void => {
  const success = responses["200"]
  if (typeof success === "object" && success !== null) responses["200"] = { ...success, headers: REPLAYED }
  const badKey = "The `Idempotency-Key` header is malformed (`bad_request`, the issue's path is `Idempotency-Key`)."
  const invalid = (responses["400"] as Json | undefined)?.description
  responses["400"] = errorResponse(typeof invalid === "string" ? `${invalid} Or: ${badKey}` : badKey)
  const inProgress = `The first request with this \`Idempotency-Key\` is still running after a wait of ${DEFAULT_WAIT_MILLIS / 1000} s (\`idempotency_key_in_progress\`; see \`Retry-After\`), or it was executed but its answer carried a secret and was not kept (\`idempotency_key_answer_withheld\`).`
  responses["409"] = errorResponse(own[409] === undefined ? inProgress : `${own[409]} Or: ${inProgress}`, RETRY_AFTER)
  responses["422"] = errorResponse(
    "This `Idempotency-Key` was used for another request: another method, path, query or body (`idempotency_key_reused`)."
  )
}

const parameters = (route: RegisteredRoute): ReadonlyArray<Json> => {
  const out: Array<Json> = []
  for (const name of route.path.match(/:([A-Za-z0-9_]+)/g) ?? []) {
    const key = name.slice(1)
    const props = route.docs?.params === undefined ? undefined : (jsonSchema(route.docs.params).properties as Json)
    out.push({ name: key, in: "path", required: true, schema: props?.[key] ?? { type: "string" } })
  }
  if (route.docs?.query !== undefined) {
    const query = jsonSchema(route.docs.query)
    const required = new Set((query.required as ReadonlyArray<string> | undefined) ?? [])
    for (const [key, schema] of Object.entries((query.properties as Json | undefined) ?? {})) {
      out.push({ name: key, in: "query", required: required.has(key), schema })
    }
  }
  if (takesIdempotencyKey(route.method, route.path)) out.push(IDEMPOTENCY_KEY)
  return out
}

const operation = (route: RegisteredRoute): Json => {
  const responses: Json = {
    "200": {
      description: "OK",
      ...(route.docs?.response === undefined
        ? {}
        : { content: { "application/json": { schema: jsonSchema(route.docs.response) } } })
    }
  }
  for (const [status, description] of Object.entries(route.docs?.responses ?? {})) {
    responses[status] = errorResponse(description)
  }
  if (route.docs?.body !== undefined || route.docs?.query !== undefined || route.docs?.params !== undefined)
    responses["400"] = errorResponse("The request is invalid; `issues` names each field and its problem.")
  if (route.docs?.body !== undefined)
    responses["413"] = errorResponse(
      route.access === "public"
        ? "The body is larger than `HTTP_MAX_FORM_BYTES` (`payload_too_large`)."
        : "The body is larger than `HTTP_MAX_BODY_BYTES` (`payload_too_large`)."
    )
  if (route.access !== "public") {
    responses["401"] = errorResponse("No valid credentials.")
    // A route's own 403 (re-authentication, four eyes) keeps its description.
    const forbidden = `The caller lacks the permission ${route.access}.`
    const own403 = route.docs?.responses?.[403]
    responses["403"] = errorResponse(own403 === undefined ? forbidden : `${own403} Or: ${forbidden}`)
    // Every API key is rate limited; a route's own 429 (a limit of its domain) keeps its description.
    const own = route.docs?.responses?.[429]
    responses["429"] = errorResponse(own === undefined ? RATE_LIMITED : `${own} Or: ${RATE_LIMITED}`, RETRY_AFTER)
  }
  if (takesIdempotencyKey(route.method, route.path)) idempotencyResponses(responses, route.docs?.responses ?? {})
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    summary: route.summary,
    tags: route.docs?.tags ?? [route.module],
    ...(route.access === "public" ? { security: [] } : { "x-permission": route.access }),
    parameters: parameters(route),
    ...(route.docs?.body === undefined
      ? {}
      : {
          requestBody: {
            required: route.docs.bodyOptional !== true,
            content: { "application/json": { schema: jsonSchema(route.docs.body) } }
          }
        }),
    responses
  }
}

/** Which routes the description covers: the JSON API and the probes. */
export const isDescribed = (route: RegisteredRoute): boolean =>
  (route.path.startsWith("/api/") && route.path !== "/api/v1/openapi.json") ||
  ["/healthz", "/readyz", "/metrics"].includes(route.path)

export const openApiDocument = (routes: ReadonlyArray<RegisteredRoute>): Json => {
  const paths: Record<string, Json> = {}
  for (const route of routes.filter(isDescribed)) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Breakwater API",
      version,
      description:
        "The operations control plane's JSON API. Every operation names the permission it needs (`x-permission`)."
    },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: { Error: ErrorBody },
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key: `Authorization: Bearer bw_…`." },
        session: { type: "apiKey", in: "cookie", name: "__Host-breakwater_session" }
      }
    },
    security: [{ apiKey: [] }, { session: [] }]
  }
}
