/**
 * From a fuzz case to bytes on the wire: path parameters resolved to identifiers that exist now,
 * markers expanded, the caller's credentials and CSRF token added as the case says. It exists so a
 * case stays short data while the request it stands for can be megabytes.
 */
import { randomBytes } from "node:crypto"
import { isStateChanging } from "../../src/core/auth/csrf.ts"
import { SESSION_COOKIE } from "../../src/core/auth/sessions.ts"
import { type FuzzCase, type JsonGen, Known, LongText, Nested, RawJson, type UrlText } from "./fuzz-case.ts"
import { ORIGIN_SAME } from "./headers.ts"
import { encodeText } from "./hostile-values.ts"
import type { ParamPools, RouteShape } from "./routes.ts"
import type { Credentials } from "./state.ts"

const expandUrl = (text: UrlText): string => (text instanceof LongText ? text.unit.repeat(text.times) : text)

export const jsonText = (value: JsonGen): string => {
  if (value instanceof LongText) return JSON.stringify(value.unit.repeat(value.times))
  if (value instanceof Nested)
    return value.shape === "array"
      ? `${"[".repeat(value.depth)}1${"]".repeat(value.depth)}`
      : `${'{"a":'.repeat(value.depth)}1${"}".repeat(value.depth)}`
  if (value instanceof RawJson) return value.text
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map((v: JsonGen) => jsonText(v)).join(",")}]`
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`)
    .join(",")}}`
}

export interface RequestContext {
  readonly route: RouteShape
  readonly credentials: Credentials
  /** Identifiers that exist now, for {@link Known}: by what a parameter names, and all of them. */
  readonly pools: ParamPools
  readonly known: ReadonlyArray<string>
  readonly origin: string
}

export interface BuiltRequest {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: Buffer | undefined
}

export const buildRequest = (c: FuzzCase, ctx: RequestContext): BuiltRequest => {
  let param = 0
  const path = ctx.route.path.replace(/:([A-Za-z0-9_]+)/g, () => {
    const key = ctx.route.paramKeys[param] ?? ""
    const value = c.params[param++]
    if (value instanceof Known) {
      const pool = ctx.pools.get(key) ?? []
      const known = pool.length > 0 && value.index % 4 !== 0 ? pool : ctx.known.map(encodeText)
      return known[value.index % Math.max(1, known.length)] ?? "global"
    }
    return value === undefined ? "" : expandUrl(value)
  })
  const query = c.query.map(([k, v]) => `${expandUrl(k)}=${expandUrl(v)}`).join("&")
  const headers: Record<string, string> = {}
  for (const [name, value] of c.headers) headers[name] = value === ORIGIN_SAME ? ctx.origin : value
  const credentials = ctx.credentials
  const session = credentials.kind === "session" ? credentials : undefined
  const changing = isStateChanging(ctx.route.method)
  if (credentials.kind === "key") headers.authorization = `Bearer ${credentials.bearer}`
  if (session !== undefined) {
    headers.cookie = `${SESSION_COOKIE}=${session.cookie}`
    if (changing && c.csrf === "header") headers["x-csrf-token"] = session.csrfToken
    if (changing && c.csrf === "wrong") headers["x-csrf-token"] = randomBytes(32).toString("base64url")
  }
  if (credentials.kind === "none" && c.fakeCredential !== undefined) headers[c.fakeCredential[0]] = c.fakeCredential[1]
  if (c.contentType !== undefined) headers["content-type"] = c.contentType

  let body: Buffer | undefined
  const b = c.body
  switch (b.kind) {
    case "none":
      body = undefined
      break
    case "json":
      body = Buffer.from(jsonText(b.value), "utf8")
      break
    case "form": {
      const pairs = b.pairs.map(([k, v]) => `${expandUrl(k)}=${expandUrl(v)}`)
      if (session !== undefined && changing && c.csrf === "field") pairs.push(`_csrf=${session.csrfToken}`)
      body = Buffer.from(pairs.join("&"), "latin1")
      break
    }
    case "text":
      body = Buffer.from(b.text, b.encoding)
      break
    case "multipart":
      body = Buffer.from(b.text, "utf8")
      break
    case "oversize":
      body =
        b.shape === "json"
          ? Buffer.from(`{"reason":"${"a".repeat(b.bytes)}","acknowledge":true}`, "utf8")
          : Buffer.from(`reason=${"a".repeat(b.bytes)}&acknowledge=on`, "latin1")
      break
  }
  if (body !== undefined) headers["content-length"] = String(body.length)
  return {
    method: ctx.route.method,
    path: `${path}${c.suffix}${query === "" ? "" : `?${query}`}`,
    headers,
    body
  }
}
