/**
 * What the fuzz suite reads from the route table: each route's method, path template and
 * parameters, the field names its OpenAPI docs declare, and valid values for those fields sampled
 * from the docs' schemas. Nothing here names a route: a route added later is fuzzed from the day
 * it is registered, with valid-looking input as far as its docs describe it.
 */
import { Arbitrary, Effect, Schema } from "effect"
import type { RegisteredRoute } from "../../src/core/http/route.ts"

export interface RouteShape {
  readonly method: RegisteredRoute["method"]
  readonly path: string
  readonly access: string
  /** Under `/api/`: JSON first; elsewhere HTML forms first. */
  readonly api: boolean
  readonly params: ReadonlyArray<string>
  /** What each parameter names: the segment before it and its name, e.g. `users/:id` (see {@link harvestParams}). */
  readonly paramKeys: ReadonlyArray<string>
  readonly bodyFields: ReadonlyArray<string>
  readonly queryFields: ReadonlyArray<string>
  /** Fields of the console's HTML forms that post here (see {@link harvestForms}). */
  readonly formFields: ReadonlyArray<string>
}

export const routeName = (r: { readonly method: string; readonly path: string }) => `${r.method} ${r.path}`

const fieldsOf = (schema: Schema.Top | undefined): ReadonlyArray<readonly [string, Schema.Top]> => {
  if (schema === undefined || !("fields" in schema)) return []
  const fields: unknown = schema.fields
  if (typeof fields !== "object" || fields === null) return []
  return Object.entries(fields).filter((entry): entry is [string, Schema.Top] => Schema.isSchema(entry[1]))
}

export const shapeOf = (route: RegisteredRoute): RouteShape => ({
  method: route.method,
  path: route.path,
  access: route.access,
  api: route.path.startsWith("/api/"),
  params: [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? ""),
  paramKeys: [...route.path.matchAll(/([^/]*)\/:([A-Za-z0-9_]+)/g)].map((m) => `${m[1] ?? ""}/:${m[2] ?? ""}`),
  bodyFields: fieldsOf(route.docs?.body).map(([name]) => name),
  queryFields: fieldsOf(route.docs?.query).map(([name]) => name),
  formFields: []
})

/**
 * Valid values of each documented field (body, query, path), by field name, as a client sends them
 * (encoded: a number in a query string is a string). Sampled with Effect's schema arbitraries and
 * the run's seed; a field whose schema cannot be sampled (a custom filter) has none.
 */
export const sampleFieldValues = async (
  routes: ReadonlyArray<RegisteredRoute>,
  seed: number
): Promise<ReadonlyMap<string, ReadonlyArray<unknown>>> => {
  const samples = new Map<string, Array<unknown>>()
  for (const route of routes) {
    for (const part of [route.docs?.body, route.docs?.query, route.docs?.params]) {
      for (const [name, field] of fieldsOf(part)) {
        // Documented schemas decode plain input: no services needed to encode them.
        const struct = Schema.Struct({ [name]: field }) as unknown as Schema.Codec<unknown>
        const values = await Effect.runPromise(
          Arbitrary.sampleEffect(Arbitrary.schema(struct), { seed, count: 8 }).pipe(
            Effect.map((sampled) =>
              sampled.flatMap((value) => {
                const encoded: unknown = Schema.encodeUnknownOption(struct)(value).pipe((o) =>
                  o._tag === "Some" ? o.value : undefined
                )
                const v =
                  typeof encoded === "object" && encoded !== null && name in encoded
                    ? (encoded as Record<string, unknown>)[name]
                    : undefined
                return v === undefined ? [] : [v]
              })
            ),
            Effect.orElseSucceed((): ReadonlyArray<unknown> => []),
            Effect.catchDefect(() => Effect.succeed<ReadonlyArray<unknown>>([]))
          )
        )
        const known = samples.get(name) ?? []
        for (const v of values) if (!known.some((k) => JSON.stringify(k) === JSON.stringify(v))) known.push(v)
        samples.set(name, known)
      }
    }
  }
  return samples
}

const matcherOf = (shape: RouteShape) => new RegExp(`^${shape.path.replace(/:[A-Za-z0-9_]+/g, "([^/?#]+)")}$`)

const attribute = (tag: string, name: string): string | undefined =>
  new RegExp(`\\b${name}="([^"]*)"`)
    .exec(tag)?.[1]
    ?.replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&")

/**
 * The fields of the HTML forms in `pages` (the console as the harness's users see it), by the
 * route each form posts to: a console route has no OpenAPI docs, but its form says what it takes.
 * Values a form carries (hidden fields, options, checkboxes) are added to `values`.
 */
export const harvestForms = (
  shapes: ReadonlyArray<RouteShape>,
  pages: ReadonlyArray<string>,
  values: Map<string, Array<unknown>>
): ReadonlyArray<RouteShape> => {
  const fields = new Map<number, Set<string>>()
  const matchers = shapes.map(matcherOf)
  const add = (name: string, value: string) => {
    const known = values.get(name) ?? []
    if (!known.includes(value)) known.push(value)
    values.set(name, known)
  }
  for (const page of pages) {
    for (const [, open = "", inner = ""] of page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
      const action = (attribute(open, "action") ?? "").split("?")[0] ?? ""
      const method = (attribute(open, "method") ?? "get").toUpperCase()
      const index = shapes.findIndex((s, i) => s.method === method && matchers[i]?.test(action))
      if (index < 0) continue
      const names = fields.get(index) ?? new Set<string>()
      for (const [, kind = "", tag = ""] of inner.matchAll(/<(input|textarea|select)\b([^>]*)>/g)) {
        const name = attribute(tag, "name")
        if (name === undefined || name === "_csrf") continue
        names.add(name)
        const type = attribute(tag, "type") ?? (kind === "input" ? "text" : kind)
        if (type === "hidden" && name !== "_csrf") add(name, attribute(tag, "value") ?? "")
        if (type === "checkbox" || type === "radio") add(name, attribute(tag, "value") ?? "on")
      }
      for (const [, tag = "", options = ""] of inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
        const name = attribute(tag, "name")
        if (name === undefined) continue
        for (const [option = ""] of options.matchAll(/<option\b[^>]*>/g)) {
          const value = attribute(option, "value")
          if (value !== undefined) add(name, value)
        }
      }
      fields.set(index, names)
    }
  }
  return shapes.map((s, i) => ({ ...s, formFields: [...(fields.get(i) ?? [])].sort() }))
}

/** Values of path parameters that exist, by what they name (`users/:id`, `breaker/:scope`). */
export type ParamPools = ReadonlyMap<string, ReadonlyArray<string>>

/**
 * The identifiers the console links to and posts to (users, keys, scopes, pending reset
 * requests), by what the parameter names. The same key serves every route whose parameter
 * follows the same segment: `/api/v1/breaker/:scope/trip` gets the scopes of the console's
 * `/breaker/:scope/trip` forms, `/api/v1/api-keys/:id/revoke` the ids of `/admin/api-keys/:id/revoke`.
 */
export const harvestParams = (shapes: ReadonlyArray<RouteShape>, pages: ReadonlyArray<string>): ParamPools => {
  const pools = new Map<string, Array<string>>()
  const matchers = shapes.map(matcherOf)
  for (const page of pages) {
    for (const [, url = ""] of page.matchAll(/\b(?:href|action|hx-get|hx-post|hx-put|hx-delete)="([^"]*)"/g)) {
      const path = url.replaceAll("&amp;", "&").split(/[?#]/)[0] ?? ""
      shapes.forEach((shape, i) => {
        const match = matchers[i]?.exec(path)
        if (match === null || match === undefined) return
        shape.paramKeys.forEach((key, p) => {
          const value = match[p + 1]
          if (value === undefined) return
          const pool = pools.get(key) ?? []
          if (!pool.includes(value)) pool.push(value)
          pools.set(key, pool)
        })
      })
    }
  }
  return pools
}
