/**
 * The bodies of fuzz cases and their content types: the route's own JSON or form, the same with
 * hostile fields, invalid JSON, bytes that are not UTF-8, broken multipart, bodies over the limits,
 * and the content type that matches a body or one that does not. It exists so the body, where most
 * of a route's input is, has one place.
 */
import fc from "fast-check"
import { isStateChanging } from "../../src/core/auth/csrf.ts"
import type { FuzzBody, JsonGen } from "./fuzz-case.ts"
import { HOSTILE_STRINGS, hostileJson, hostileUrlText, nested } from "./hostile-values.ts"
import type { Mode, makeValues } from "./plausible-values.ts"
import type { RouteShape } from "./routes.ts"

export const CONTENT_TYPES: ReadonlyArray<string | undefined> = [
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

export const matchingType = (body: FuzzBody): string | undefined => {
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

export const bodyFor = (
  route: RouteShape,
  values: ReturnType<typeof makeValues>,
  fieldNames: ReadonlyArray<string>
) => {
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
