/**
 * The OpenAPI 3.1 description, generated from the route table: every `/api/*` route and the
 * probes, with the permission each needs and the schemas its module declared. Generated, so it
 * cannot drift from what is served; a test checks every API route has its schemas.
 */
import { Schema } from "effect"
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
