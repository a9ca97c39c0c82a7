/**
 * What a fuzz case is: for one route, who sends it, its path parameters, query string, body,
 * content type and headers, as plain data that fast-check draws, prints and shrinks. It exists so
 * the generators, the request builder and the report agree on one shape. Big values stay small in
 * the case (a {@link LongText} or {@link Nested} marker) and are expanded only when the request is
 * built, so a failing case prints short and shrinks fast.
 */
import type { PrincipalName } from "./state.ts"

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
