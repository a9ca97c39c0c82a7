/**
 * The fuzz cases: for one route, who sends it, its path parameters, query string, body, content
 * type and headers, drawn by fast-check from valid-looking values (the route's documented fields,
 * identifiers that exist) and hostile ones (NUL, lone surrogates, overlong numbers, far dates,
 * thousands of nesting levels, bodies over the limits). Big values stay small in the case (a
 * {@link LongText} or {@link Nested} marker) and are expanded only when the request is built, so a
 * failing case prints short and shrinks fast.
 */
import { randomBytes } from "node:crypto"
import fc from "fast-check"
import { isStateChanging } from "../../src/core/auth/csrf.ts"
import { permissions } from "../../src/core/auth/permissions.ts"
import { roles } from "../../src/core/auth/roles.ts"
import { SESSION_COOKIE } from "../../src/core/auth/sessions.ts"
import type { ParamPools, RouteShape } from "./routes.ts"
import type { Credentials, PrincipalName } from "./state.ts"
import { principalNames } from "./state.ts"

// ---------------------------------------------------------------------------------------------
// Markers.

/** `unit` repeated `times` times (already percent-encoded when it stands in a URL or form). */
export class LongText {
  readonly unit: string
  readonly times: number
  constructor(unit: string, times: number) {
    this.unit = unit
    this.times = times
  }
  toJSON() {
    return `<${JSON.stringify(this.unit)} × ${this.times}>`
  }
}

/** JSON nested `depth` levels deep. */
export class Nested {
  readonly depth: number
  readonly shape: "array" | "object"
  constructor(depth: number, shape: "array" | "object") {
    this.depth = depth
    this.shape = shape
  }
  toJSON() {
    return `<${this.shape} nested ${this.depth} deep>`
  }
}

/** JSON text sent as is: numbers JavaScript would round (9223372036854775808, 1e999). */
export class RawJson {
  readonly text: string
  constructor(text: string) {
    this.text = text
  }
  toJSON() {
    return `<raw ${this.text}>`
  }
}

/** The identifier at `index` (modulo) among those that exist when the case runs. */
export class Known {
  readonly index: number
  constructor(index: number) {
    this.index = index
  }
  toJSON() {
    return `<known #${this.index}>`
  }
}

export type JsonGen =
  | null
  | boolean
  | number
  | string
  | LongText
  | Nested
  | RawJson
  | ReadonlyArray<JsonGen>
  | { readonly [key: string]: JsonGen }

/** Text for a URL or a form: already percent-encoded (or deliberately not). */
export type UrlText = string | LongText

export type FuzzBody =
  | { readonly kind: "none" }
  | { readonly kind: "json"; readonly value: JsonGen }
  | { readonly kind: "form"; readonly pairs: ReadonlyArray<readonly [UrlText, UrlText]> }
  /** `latin1`: the characters are the bytes, so `\u00ff` sends a byte that is not UTF-8. */
  | {
      readonly kind: "text"
      readonly text: string
      readonly encoding: "utf8" | "latin1"
      /** What it pretends to be, for the content type that matches it. */
      readonly as: "json" | "form" | "plain"
    }
  | { readonly kind: "multipart"; readonly text: string }
  /** Over a body limit: `bytes` of a JSON string or a form field. */
  | { readonly kind: "oversize"; readonly bytes: number; readonly shape: "json" | "form" }

export interface FuzzCase {
  readonly route: number
  readonly principal: PrincipalName
  readonly params: ReadonlyArray<UrlText | Known>
  /** Appended to the path: usually nothing; sometimes `/`, `/..` and the like. */
  readonly suffix: string
  readonly query: ReadonlyArray<readonly [UrlText, UrlText]>
  readonly body: FuzzBody
  /** `undefined`: no Content-Type header. */
  readonly contentType: string | undefined
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** How a session sends its CSRF token on a state change. */
  readonly csrf: "header" | "field" | "none" | "wrong"
  /** For `anonymous`: credentials that are not credentials (a forged cookie, a malformed key). */
  readonly fakeCredential: readonly [string, string] | undefined
}

// ---------------------------------------------------------------------------------------------
// Values.

/** Percent-encodes like `encodeURIComponent`, but a lone surrogate becomes its 3 (invalid) UTF-8 bytes. */
export const encodeText = (text: string): string => {
  let out = ""
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const next = text.charCodeAt(i + 1)
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2))
      i++
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join("")
    } else out += encodeURIComponent(text[i] ?? "")
  }
  return out
}

/** A reason long enough to pass validation: most dangerous actions need one. */
export const VALID_REASON = "fuzz suite: a reason long enough to pass the twenty character rule"

/** Strings that break things, as a client would mean them (encoded when put in a URL or form). */
const HOSTILE_STRINGS: ReadonlyArray<string> = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "x\udbffy",
  "\ufffe",
  "\u202eevil",
  "😀",
  "\u0130\u0131ẞ",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "%00",
  "../../etc/passwd",
  "\r\nSet-Cookie: x=1",
  "9223372036854775808",
  "-9223372036854775809",
  "18446744073709551616",
  "1e309",
  "-0",
  "NaN",
  "Infinity",
  "0x1F",
  "+275760-09-13T00:00:00Z",
  "-000001-01-01T00:00:00Z",
  "275760-09-13T00:00:00.001Z",
  "-271821-04-20T00:00:00Z",
  "2024-02-30T25:61:61Z",
  "1970-01-01T00:00:00+99:99",
  "0",
  "true",
  "null",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "toString",
  "global",
  "GLOBAL",
  "on",
  "30d",
  "0d",
  "-1d",
  "99999999999999999999y",
  "1y1d",
  "auth.*",
  "%_\\",
  "//evil.example",
  "/\\evil.example",
  "https://evil.example/",
  "/%C4%80",
  "javascript:alert(1)",
  VALID_REASON
]

/** Already-encoded URL text that no encoder would produce. */
const RAW_URL_TEXT: ReadonlyArray<string> = [
  "%00",
  "a%00b",
  "%ED%A0%80",
  "%ED%BF%BF",
  "%C0%AF",
  "%C0%80",
  "%FF",
  "%FE%FF",
  "%",
  "%2",
  "%zz",
  "%u0041",
  "%2F",
  "%2e%2e",
  "%252e",
  "%C4%80",
  "%F0%9F%98%80",
  "%F4%90%80%80",
  "+",
  "a+b",
  "%0D%0A",
  "\u00e9",
  "\u00ff\u00fe"
]

const LONG_UNITS: ReadonlyArray<string> = ["a", "é", "😀", "\u0000", "\ud800", "9"]
const LONG_TIMES: ReadonlyArray<number> = [64, 65, 255, 256, 2001, 10_000, 70_000]

const longText = fc
  .tuple(fc.constantFrom(...LONG_UNITS), fc.constantFrom(...LONG_TIMES))
  .map(([unit, times]) => new LongText(unit, times))

/** Thousands of levels: parsers and serialisers that recurse run out of stack. */
const nested = fc
  .tuple(
    fc.constantFrom(32, 33, 200, 1_000, 5_000, 20_000, 100_000),
    fc.constantFrom("array" as const, "object" as const)
  )
  .map(([depth, shape]) => new Nested(depth, shape))

const rawNumbers = fc
  .constantFrom(
    "9223372036854775808",
    "-9223372036854775809",
    "1e999",
    "-1e999",
    "1e-400",
    "1.0",
    "-0",
    "0.30000000000000004",
    "123456789012345678901234567890"
  )
  .map((text) => new RawJson(text))

const hostileScalar: fc.Arbitrary<JsonGen> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 2, arbitrary: longText },
  { weight: 2, arbitrary: rawNumbers },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, -1, 1, 2, 1.5, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE)
  },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) }
)

/** A plain value (a schema sample, fast-check JSON) as a generated one. */
const jsonOfSample = (value: unknown): JsonGen =>
  value === null || typeof value === "boolean" || typeof value === "number" || typeof value === "string"
    ? value
    : Array.isArray(value)
      ? value.map(jsonOfSample)
      : typeof value === "object"
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonOfSample(v)]))
        : null

/** Objects a free-form field accepts but the code behind it may not: deep, with odd keys, with odd values. */
const hostileObject: fc.Arbitrary<JsonGen> = fc.oneof(
  { weight: 3, arbitrary: nested.map((n) => new Nested(n.depth, "object")) },
  { weight: 1, arbitrary: fc.record({ a: nested }) },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.constantFrom(...HOSTILE_STRINGS), hostileScalar, { minKeys: 1, maxKeys: 3 })
  },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 3 }) }
)

/** Any JSON value that should not be where it is. */
const hostileJson: fc.Arbitrary<JsonGen> = fc.oneof(
  { weight: 8, arbitrary: hostileScalar },
  { weight: 2, arbitrary: nested },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(jsonOfSample) },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...HOSTILE_STRINGS), hostileScalar, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.record({ a: nested }) }
)

const hostileUrlText: fc.Arbitrary<UrlText> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map(encodeText) },
  { weight: 3, arbitrary: fc.constantFrom(...RAW_URL_TEXT) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }).map(encodeText) },
  {
    weight: 1,
    arbitrary: fc
      // Mostly under Node's 16 KiB limit on a request's head, so the application sees them.
      .tuple(fc.constantFrom("a", "%00", "%ED%A0%80", "9"), fc.constantFrom(64, 65, 256, 1_000, 1_500, 20_000))
      .map(([unit, times]) => new LongText(unit, times))
  }
)

// ---------------------------------------------------------------------------------------------
// Plausible values by field name.

export interface Vocabulary {
  /** Valid values sampled from the documented schemas, by field name. */
  readonly samples: ReadonlyMap<string, ReadonlyArray<unknown>>
  /** Emails and the password of the harness users, so sign-ins and re-authentication can succeed. */
  readonly emails: ReadonlyArray<string>
  readonly password: string
}

/**
 * Values that mean something to the application, by field name, beyond what the docs' schemas
 * give: fields of HTML forms (which have no OpenAPI docs) and fields whose schemas cannot be
 * sampled. Only to reach deeper code; any other field still gets the documented samples and the
 * hostile values.
 */
const meaningful = (vocabulary: Vocabulary): Readonly<Record<string, ReadonlyArray<JsonGen>>> => ({
  reason: [VALID_REASON, `  ${VALID_REASON}  `],
  acknowledge: [true, "on"],
  email: vocabulary.emails,
  password: [vocabulary.password, "wrong password for the fuzz suite"],
  role: roles,
  scopes: [["VIEW_CIRCUIT_BREAKER"], [...permissions], "VIEW_DASHBOARD", "NOT_A_PERMISSION"],
  expiresIn: ["30d", "12h", "1y", "2y", "0d"],
  name: ["fuzz key"],
  scope: ["global", "fuzz-scope", "venue.one"],
  next: [
    "/breaker",
    "/\u0100",
    "/😀",
    "/\u0000",
    "/%C4%80",
    "/\r\nx",
    "//evil.example",
    "/\\evil",
    "https://evil.example/",
    "/login?next=/login"
  ],
  notice: ["tripped", "reset", "role_changed", "nonsense"],
  version: [1, 2, 3],
  limit: ["1", "500", "501", "0"],
  cursor: ["1", "9223372036854775807", "9223372036854775808"],
  before: ["1", "abc", "9223372036854775808"],
  from: ["2020-01-01T00:00:00Z", "+275760-09-13T00:00:00Z"],
  to: ["2100-01-01T00:00:00Z", "-000001-01-01T00:00:00Z"]
})

/** Field names worth sending to a route without docs: every documented name, and the meaningful ones. */
export const fieldNamesOf = (routes: ReadonlyArray<RouteShape>, vocabulary: Vocabulary): ReadonlyArray<string> =>
  [
    ...new Set([
      ...routes.flatMap((r) => [...r.bodyFields, ...r.queryFields, ...r.params]),
      ...Object.keys(meaningful(vocabulary))
    ])
  ].sort()

/** Form and query text of a plausible value: arrays become repeated fields. */
const urlTextsOf = (value: JsonGen): ReadonlyArray<string> =>
  Array.isArray(value)
    ? value.flatMap((v: JsonGen) => urlTextsOf(v))
    : typeof value === "string"
      ? [encodeText(value)]
      : typeof value === "number" || typeof value === "boolean"
        ? [String(value)]
        : [encodeText(JSON.stringify(value) ?? "")]

/**
 * `tame`: plausible values only (documented samples, what the console's forms carry, the
 * meaningful values above, edge cases among them), so a case gets past validation to the code
 * behind it; `hostile`: plausible values mixed with hostile ones. Each part of a case (query, body, headers) picks its
 * mode on its own: one hostile part among valid ones is the case that finds the bugs behind the
 * validation, and all-hostile cases still come often.
 */
export type Mode = "tame" | "hostile"

export const makeValues = (vocabulary: Vocabulary) => {
  const dictionary = meaningful(vocabulary)
  const plausible = (name: string): ReadonlyArray<JsonGen> => [
    ...(vocabulary.samples.get(name) ?? []).map(jsonOfSample),
    ...(Object.hasOwn(dictionary, name) ? (dictionary[name] ?? []) : [])
  ]
  const generic: ReadonlyArray<JsonGen> = [VALID_REASON, "fuzz", 1, true]

  /** A JSON value for a field: plausible only (`tame`), or mostly plausible and sometimes hostile. */
  const jsonFor = (name: string, mode: Mode): fc.Arbitrary<JsonGen> => {
    const values = plausible(name)
    const tame = fc.constantFrom(...(values.length > 0 ? values : generic))
    if (mode === "tame") return tame
    // A field that takes objects (free-form details) gets deep and odd objects more often.
    const structured = values.some((v) => typeof v === "object" && v !== null)
    return fc.oneof(
      { weight: 3, arbitrary: tame },
      { weight: 1, arbitrary: hostileJson },
      { weight: structured ? 2 : 0, arbitrary: hostileObject }
    )
  }

  /** Form or query pairs for a field, the same way. */
  const pairsFor = (name: string, mode: Mode): fc.Arbitrary<ReadonlyArray<readonly [UrlText, UrlText]>> => {
    const texts = plausible(name).map(urlTextsOf)
    const key = encodeText(name)
    const tame = fc
      .constantFrom(...(texts.length > 0 ? texts : [[encodeText(VALID_REASON)]]))
      .map((vs) => vs.map((v): readonly [UrlText, UrlText] => [key, v]))
    return mode === "tame"
      ? tame
      : fc.oneof(
          { weight: 3, arbitrary: tame },
          { weight: 1, arbitrary: hostileUrlText.map((v) => [[key, v] as const]) }
        )
  }
  return { jsonFor, pairsFor, plausible }
}

// ---------------------------------------------------------------------------------------------
// Requests.

const ORIGIN_SAME = "<same origin>"

const CONTENT_TYPES: ReadonlyArray<string | undefined> = [
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "application/json;;;",
  'application/json; charset="',
  "application/vnd.api+json",
  "application/x-www-form-urlencoded",
  "application/x-www-form-urlencoded; charset=iso-8859-1",
  "Application/X-WWW-Form-Urlencoded",
  "text/plain",
  "text/html",
  "multipart/form-data",
  "multipart/form-data; boundary=",
  "multipart/form-data; boundary=fuzz",
  "application/octet-stream",
  "*/*",
  ";",
  "x".repeat(2000)
]

const matchingType = (body: FuzzBody): string | undefined => {
  switch (body.kind) {
    case "none":
      return undefined
    case "json":
      return "application/json"
    case "form":
      return "application/x-www-form-urlencoded"
    case "text":
      return body.as === "json"
        ? "application/json"
        : body.as === "form"
          ? "application/x-www-form-urlencoded"
          : "text/plain"
    case "multipart":
      return "multipart/form-data; boundary=fuzz"
    case "oversize":
      return body.shape === "json" ? "application/json" : "application/x-www-form-urlencoded"
  }
}

const INVALID_JSON: ReadonlyArray<string> = [
  "{",
  '{"a":',
  '{"a":1,}',
  "[1,2",
  "nul",
  "'single'",
  '{"a":NaN}',
  '{"a":Infinity}',
  "\ufeff{}",
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"a":1}{"b":2}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"\\u0000":1}',
  '"\\x00"',
  "1e999999",
  "-",
  " ",
  "\u0000",
  '{"a": 01}',
  '{"reason":"short","acknowledge":"true"}',
  '{"reason":"\\ud800\\ud800\\ud800\\ud800\\ud800\\ud800\\ud800\\ud800\\ud800\\ud800\\ud800","acknowledge":true}',
  '{"a":"\\uZZZZ"}'
]

const MULTIPART: ReadonlyArray<string> = [
  '--fuzz\r\nContent-Disposition: form-data; name="reason"\r\n\r\nvalue\r\n--fuzz--\r\n',
  '--fuzz\r\nContent-Disposition: form-data; name="reason"\r\n\r\nno end boundary',
  '--fuzz\r\nContent-Disposition: form-data; name="file"; filename="../../x.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--fuzz--\r\n',
  "--other\r\n\r\n--other--",
  "garbage that is not multipart at all",
  ""
]

const bodyFor = (route: RouteShape, values: ReturnType<typeof makeValues>, fieldNames: ReadonlyArray<string>) => {
  // The documented body, else the console form that posts here, else every name the application uses.
  const own = route.bodyFields.length > 0 ? route.bodyFields : route.formFields
  const documented = own.length > 0
  const names = documented ? own : fieldNames
  const present = (name: string) =>
    fc.oneof(
      { weight: documented ? 6 : 1, arbitrary: fc.constant(name) },
      { weight: documented ? 1 : 4, arbitrary: fc.constant(undefined) }
    )
  const extra = (mode: Mode) =>
    mode === "tame"
      ? fc.constant([])
      : fc.array(fc.tuple(fc.constantFrom(...HOSTILE_STRINGS), hostileJson), { maxLength: 2 })

  const structuredJson = (mode: Mode): fc.Arbitrary<FuzzBody> =>
    fc
      .tuple(
        fc.tuple(
          ...names.map((n) =>
            present(n).chain((p) =>
              p === undefined ? fc.constant(undefined) : values.jsonFor(p, mode).map((v) => [p, v] as const)
            )
          )
        ),
        extra(mode)
      )
      .map(([fields, more]) => {
        const object: Record<string, JsonGen> = {}
        for (const f of fields) if (f !== undefined) object[f[0]] = f[1]
        for (const [k, v] of more) object[k] = v
        return { kind: "json", value: object }
      })

  const structuredForm = (mode: Mode): fc.Arbitrary<FuzzBody> =>
    fc
      .tuple(
        fc.tuple(
          ...names.map((n) => present(n).chain((p) => (p === undefined ? fc.constant([]) : values.pairsFor(p, mode))))
        ),
        mode === "tame" ? fc.constant([]) : fc.array(fc.tuple(hostileUrlText, hostileUrlText), { maxLength: 2 })
      )
      .map(([fields, more]) => ({ kind: "form", pairs: [...fields.flat(), ...more] }))

  const anyBody: fc.Arbitrary<FuzzBody> = fc.oneof(
    { weight: 2, arbitrary: fc.constant({ kind: "none" } as const) },
    { weight: route.api ? 6 : 2, arbitrary: structuredJson("tame") },
    { weight: route.api ? 10 : 2, arbitrary: structuredJson("hostile") },
    { weight: route.api ? 2 : 6, arbitrary: structuredForm("tame") },
    { weight: route.api ? 2 : 6, arbitrary: structuredForm("hostile") },
    { weight: 2, arbitrary: hostileJson.map((value): FuzzBody => ({ kind: "json", value })) },
    { weight: 2, arbitrary: nested.map((value): FuzzBody => ({ kind: "json", value })) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...INVALID_JSON)
        .map((text): FuzzBody => ({ kind: "text", text, encoding: "utf8", as: "json" }))
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: "binary", maxLength: 64 })
        .map((text): FuzzBody => ({ kind: "text", text, encoding: "utf8", as: "plain" }))
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('{"reason":"\u00ff\u00fe\u00c3"}', "\u00ff\u00fe\u0000{", "reason=\u00e9\u00ff&acknowledge=on")
        .map((text): FuzzBody => ({ kind: "text", text, encoding: "latin1", as: text.includes("=") ? "form" : "json" }))
    },
    { weight: 1, arbitrary: fc.constantFrom(...MULTIPART).map((text): FuzzBody => ({ kind: "multipart", text })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(65_537, 1_048_577, 1_300_000), fc.constantFrom("json" as const, "form" as const))
        .map(([bytes, shape]): FuzzBody => ({ kind: "oversize", bytes, shape }))
    }
  )
  const none = fc.constant<FuzzBody>({ kind: "none" })
  const changing = isStateChanging(route.method)
  return {
    // A read rarely has a body; when it does, any kind.
    wild: changing ? anyBody : fc.oneof({ weight: 12, arbitrary: none }, { weight: 1, arbitrary: anyBody }),
    // What the route's own clients send: JSON to the API, a form to the console.
    tame: !changing ? none : route.api ? structuredJson("tame") : structuredForm("tame")
  }
}

const optionalHeader = (name: string, values: ReadonlyArray<string>, absentWeight: number) =>
  fc.oneof(
    { weight: absentWeight, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(...values).map((v) => [name, v] as const) }
  )

const headersArb: fc.Arbitrary<ReadonlyArray<readonly [string, string]>> = fc
  .tuple(
    optionalHeader(
      "accept",
      [
        "text/html",
        "application/json",
        "*/*",
        "text/event-stream",
        "text/csv",
        "application/xml;q=0",
        ";;;",
        "x".repeat(4000)
      ],
      2
    ),
    optionalHeader(
      "x-request-id",
      [
        "fuzz-request",
        "a".repeat(64),
        "a".repeat(65),
        "x".repeat(8_000),
        "../../etc",
        "id with spaces",
        "\u00ff\u00fe",
        ""
      ],
      3
    ),
    optionalHeader(
      "origin",
      [
        ORIGIN_SAME,
        "http://evil.example",
        "null",
        "not a url",
        "http://127.0.0.1:1",
        "https://127.0.0.1",
        "http://[::1"
      ],
      8
    ),
    optionalHeader("sec-fetch-site", ["same-origin", "cross-site", "none", "same-site", "CROSS-SITE", "garbage"], 8),
    optionalHeader("hx-request", ["true", "false", "1"], 4),
    optionalHeader("content-encoding", ["gzip", "br", "identity", "x-garbage"], 20),
    optionalHeader("accept-encoding", ["gzip, br", "*;q=0", "identity;q=0"], 10),
    optionalHeader("user-agent", ["", "x".repeat(5_000), "\u00ff"], 10),
    optionalHeader("x-forwarded-for", ["1.2.3.4", "not an address", "::1, 10.0.0.1"], 10),
    optionalHeader("host", ["evil.example", "", "127.0.0.1:1", "x".repeat(300)], 30)
  )
  .map((headers) => headers.filter((h): h is readonly [string, string] => h !== undefined))

const fakeCredentialArb: fc.Arbitrary<readonly [string, string] | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ["cookie", `${SESSION_COOKIE}=${"A".repeat(43)}`] as const,
      ["cookie", `${SESSION_COOKIE}=${"A".repeat(42)}%00`] as const,
      ["cookie", `${SESSION_COOKIE}=${"x".repeat(5_000)}`] as const,
      ["cookie", `${SESSION_COOKIE}=a; ${SESSION_COOKIE}=b`] as const,
      ["cookie", ";;;=;=="] as const,
      ["authorization", "Bearer bw_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] as const,
      ["authorization", "Bearer bw_\u00ff"] as const,
      ["authorization", `Bearer ${"x".repeat(5_000)}`] as const,
      ["authorization", "Bearer"] as const,
      ["authorization", "Basic YWRtaW46YWRtaW4="] as const,
      ["authorization", "bearer   spaced   token"] as const
    )
  }
)

const PATH_SUFFIXES = ["/", "//", "/..", "/.", "/%2e%2e", ";x", "#frag", "%00", "/x"]

/** The parts of a case that are hostile or tame, one by one. */
interface Parts {
  readonly params: FuzzCase["params"]
  readonly suffix: string
  readonly query: FuzzCase["query"]
  readonly body: FuzzBody
  /** Below 75: the content type that matches the body; otherwise another one. */
  readonly typeChoice: number
  readonly headers: FuzzCase["headers"]
  readonly csrf: FuzzCase["csrf"]
  readonly fakeCredential: FuzzCase["fakeCredential"]
}
type Part = keyof Parts

export const caseArbitrary = (routes: ReadonlyArray<RouteShape>, vocabulary: Vocabulary): fc.Arbitrary<FuzzCase> => {
  const values = makeValues(vocabulary)
  const fieldNames = fieldNamesOf(routes, vocabulary)
  const queryNames = [...new Set(routes.flatMap((r) => r.queryFields).concat(["next", "notice", "scope"]))].sort()

  const paramFor = (name: string): fc.Arbitrary<UrlText | Known> => {
    const sampled = values.plausible(name).filter((v): v is string => typeof v === "string")
    return fc.oneof(
      { weight: 6, arbitrary: fc.nat(1_000).map((i) => new Known(i)) },
      {
        weight: sampled.length > 0 ? 2 : 0,
        arbitrary: fc.constantFrom(...(sampled.length > 0 ? sampled : ["x"])).map(encodeText)
      },
      { weight: 1, arbitrary: fc.uuid() },
      { weight: 3, arbitrary: hostileUrlText }
    )
  }

  const perRoute = routes.map((route, index) => {
    const queryKey: fc.Arbitrary<string> = fc.oneof(
      {
        weight: route.queryFields.length > 0 ? 4 : 0,
        arbitrary: fc.constantFrom(...(route.queryFields.length > 0 ? route.queryFields : ["x"]))
      },
      { weight: 2, arbitrary: fc.constantFrom(...queryNames) },
      { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map(encodeText) }
    )
    const pairs = (mode: Mode) =>
      fc
        .array(
          queryKey.chain((key) => values.pairsFor(key, mode)),
          { minLength: 1, maxLength: 4 }
        )
        .map((p) => p.flat())
    const body = bodyFor(route, values, fieldNames)
    const wild: fc.Arbitrary<Parts & { readonly otherType: string | undefined }> = fc.record({
      params: fc.tuple(...route.params.map(paramFor)),
      suffix: fc.oneof(
        { weight: 30, arbitrary: fc.constant("") },
        { weight: 1, arbitrary: fc.constantFrom(...PATH_SUFFIXES) }
      ),
      query: fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        { weight: 2, arbitrary: pairs("tame") },
        { weight: 3, arbitrary: pairs("hostile") }
      ),
      body: body.wild,
      typeChoice: fc.nat(99),
      otherType: fc.constantFrom(...CONTENT_TYPES),
      headers: fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: headersArb }),
      csrf: fc.oneof(
        { weight: 16, arbitrary: fc.constant("header" as const) },
        { weight: 2, arbitrary: fc.constant("field" as const) },
        { weight: 1, arbitrary: fc.constant("none" as const) },
        { weight: 1, arbitrary: fc.constant("wrong" as const) }
      ),
      fakeCredential: fakeCredentialArb
    })
    // Identifiers that exist, no query or a valid one, the body the route's clients send.
    const tame: fc.Arbitrary<Parts> = fc.record({
      params: fc.tuple(...route.params.map(() => fc.nat(250).map((i) => new Known(i * 4 + 1)))),
      suffix: fc.constant(""),
      query: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: pairs("tame") }),
      body: body.tame,
      typeChoice: fc.constant(0),
      headers: fc.constant([]),
      csrf: fc.constant("header" as const),
      fakeCredential: fc.constant(undefined)
    })
    // The body is where most of a route's input is.
    const onePart = fc.oneof(
      ...(
        [
          "params",
          "query",
          "body",
          "body",
          "body",
          "suffix",
          "typeChoice",
          "headers",
          "csrf",
          "fakeCredential"
        ] as const
      ).map((part) => ({ weight: 1, arbitrary: fc.constant(part) }))
    )
    return fc
      .record({
        principal: fc.constantFrom(...principalNames),
        // wild: every part may be hostile; one: one hostile part among valid ones; tame: none.
        plan: fc.oneof(
          { weight: 2, arbitrary: fc.constant("wild" as const) },
          { weight: 4, arbitrary: onePart },
          { weight: 1, arbitrary: fc.constant("tame" as const) }
        ),
        wild,
        tame
      })
      .map(({ principal, plan, wild, tame }): FuzzCase => {
        const pick = <K extends Part>(part: K) => (plan === "wild" || plan === part ? wild[part] : tame[part])
        const typeChoice = pick("typeChoice")
        const body = pick("body")
        return {
          route: index,
          principal,
          params: pick("params"),
          suffix: pick("suffix"),
          query: pick("query"),
          body,
          contentType: typeChoice < 75 ? matchingType(body) : wild.otherType,
          headers: pick("headers"),
          csrf: pick("csrf"),
          fakeCredential: pick("fakeCredential")
        }
      })
  })
  return fc.oneof(...perRoute)
}

// ---------------------------------------------------------------------------------------------
// From a case to bytes on the wire.

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

/** A case as a report shows it: what was sent, long values cut. */
export const describeRequest = (built: BuiltRequest, principal: PrincipalName): string => {
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s)
  const headers = Object.entries(built.headers)
    .filter(([name]) => name !== "cookie" && name !== "x-csrf-token" && name !== "authorization")
    .map(([name, value]) => `    ${name}: ${cut(value, 120)}`)
  const body = built.body === undefined ? "(none)" : cut(built.body.toString("latin1"), 600)
  return [
    `  ${built.method} ${cut(built.path, 400)}`,
    `  as ${principal}`,
    ...(headers.length > 0 ? ["  headers:", ...headers] : []),
    `  body: ${body}`
  ].join("\n")
}
