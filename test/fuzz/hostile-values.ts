/**
 * The hostile values a fuzz case carries: strings that break things (NUL, lone surrogates,
 * overlong numbers, far dates, injection attempts), percent-encodings no encoder would produce,
 * long texts, thousands of nesting levels, numbers JavaScript would round. It exists so every part
 * of a case (parameters, query, body) draws its bad input from one list.
 */
import fc from "fast-check"
import { type JsonGen, LongText, Nested, RawJson, type UrlText } from "./fuzz-case.ts"

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
export const HOSTILE_STRINGS: ReadonlyArray<string> = [
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
export const nested = fc
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
export const jsonOfSample = (value: unknown): JsonGen =>
  value === null || typeof value === "boolean" || typeof value === "number" || typeof value === "string"
    ? value
    : Array.isArray(value)
      ? value.map(jsonOfSample)
      : typeof value === "object"
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonOfSample(v)]))
        : null

/** Objects a free-form field accepts but the code behind it may not: deep, with odd keys, with odd values. */
export const hostileObject: fc.Arbitrary<JsonGen> = fc.oneof(
  { weight: 3, arbitrary: nested.map((n) => new Nested(n.depth, "object")) },
  { weight: 1, arbitrary: fc.record({ a: nested }) },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.constantFrom(...HOSTILE_STRINGS), hostileScalar, { minKeys: 1, maxKeys: 3 })
  },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 3 }) }
)

/** Any JSON value that should not be where it is. */
export const hostileJson: fc.Arbitrary<JsonGen> = fc.oneof(
  { weight: 8, arbitrary: hostileScalar },
  { weight: 2, arbitrary: nested },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(jsonOfSample) },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...HOSTILE_STRINGS), hostileScalar, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.record({ a: nested }) }
)

export const hostileUrlText: fc.Arbitrary<UrlText> = fc.oneof(
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
