/**
 * The plausible values a fuzz case carries, by field name: the documented schemas' samples, what
 * the console's forms send, the harness users' emails and password, mixed with hostile values when
 * a part of a case is hostile. It exists so a case can get past validation to the code behind it.
 */
import fc from "fast-check"
import { roles } from "../../src/core/auth/roles.ts"
import type { JsonGen, UrlText } from "./fuzz-case.ts"
import { encodeText, hostileJson, hostileObject, hostileUrlText, jsonOfSample, VALID_REASON } from "./hostile-values.ts"
import type { RouteShape } from "./routes.ts"

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
  scopes: [
    ["VIEW_CIRCUIT_BREAKER"],
    [
      "VIEW_DASHBOARD",
      "VIEW_CIRCUIT_BREAKER",
      "TRIP_CIRCUIT_BREAKER",
      "RESET_CIRCUIT_BREAKER",
      "VIEW_AUDIT",
      "MANAGE_USERS",
      "MANAGE_API_KEYS",
      "MANAGE_SYSTEM_CONFIG"
    ],
    "VIEW_DASHBOARD",
    "NOT_A_PERMISSION"
  ],
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
