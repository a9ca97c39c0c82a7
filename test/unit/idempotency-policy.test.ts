/**
 * The rules of idempotency keys: where they apply, key syntax, whose key it is, what makes two
 * requests the same, and which answers are kept (and how).
 */
import { HttpServerResponse } from "effect/http"
import { describe, expect, it } from "vitest"
import { anonymous, type Principal } from "../../src/core/auth/access.ts"
import { keptAnswerOf } from "../../src/core/http/idempotency.ts"
import {
  appliesTo,
  callerScope,
  carriesSecret,
  fingerprintOf,
  isKeptStatus,
  parseKey
} from "../../src/core/idempotency/policy.ts"

const bytes = (text: string) => new TextEncoder().encode(text)

describe("appliesTo", () => {
  it("is every POST under /api/v1 and nothing else", () => {
    expect(appliesTo("POST", "/api/v1/breaker/:scope/trip")).toBe(true)
    expect(appliesTo("PUT", "/api/v1/breaker/settings")).toBe(false)
    expect(appliesTo("GET", "/api/v1/breaker")).toBe(false)
    expect(appliesTo("POST", "/login")).toBe(false)
    expect(appliesTo("POST", "/api/v2/things")).toBe(false)
  })
})

describe("parseKey", () => {
  it("takes 1 to 255 visible ASCII characters, bare or as a quoted string", () => {
    expect(parseKey("8e03978e-40d5-43e8-bc93-6894a57f9324")).toEqual({
      _tag: "Key",
      key: "8e03978e-40d5-43e8-bc93-6894a57f9324"
    })
    expect(parseKey('"abc"')).toEqual({ _tag: "Key", key: "abc" })
    expect(parseKey("a")).toEqual({ _tag: "Key", key: "a" })
    expect(parseKey("~".repeat(255))._tag).toBe("Key")
    // A lone quote is a (strange) bare key, not an unterminated string.
    expect(parseKey('"')).toEqual({ _tag: "Key", key: '"' })
  })

  it("refuses empty, long, spaced, control, non-ASCII and escaped keys, saying why", () => {
    for (const [raw, problem] of [
      ["", "must not be empty"],
      ['""', "must not be empty"],
      ["x".repeat(256), "at most 255"],
      ["a b", "visible ASCII"],
      ["a\tb", "visible ASCII"],
      ["é", "visible ASCII"],
      ['"a"b"', 'must not contain "'],
      ['"a\\b"', 'must not contain "']
    ] as const) {
      const parsed = parseKey(raw)
      expect(parsed._tag, JSON.stringify(raw)).toBe("Invalid")
      if (parsed._tag === "Invalid") expect(parsed.problem).toContain(problem)
    }
  })
})

describe("callerScope", () => {
  it("keeps API keys and users apart and ignores anonymous callers", () => {
    const user: Principal = { kind: "user", id: "u1", name: "u", permissions: new Set() }
    const key: Principal = { ...user, kind: "api_key", id: "k1", person: "u1" }
    expect(callerScope(user)).toBe("user:u1")
    expect(callerScope(key)).toBe("api_key:k1")
    expect(callerScope(anonymous)).toBeUndefined()
  })
})

describe("fingerprintOf", () => {
  it("differs for another method, path, query or body, and is stable otherwise", () => {
    const base = fingerprintOf("POST", "/api/v1/a", bytes('{"x":1}'))
    expect(base).toMatch(/^[0-9a-f]{64}$/)
    expect(fingerprintOf("POST", "/api/v1/a", bytes('{"x":1}'))).toBe(base)
    expect(fingerprintOf("PUT", "/api/v1/a", bytes('{"x":1}'))).not.toBe(base)
    expect(fingerprintOf("POST", "/api/v1/b", bytes('{"x":1}'))).not.toBe(base)
    expect(fingerprintOf("POST", "/api/v1/a?y=2", bytes('{"x":1}'))).not.toBe(base)
    // The raw body: the same JSON spelled differently is another request.
    expect(fingerprintOf("POST", "/api/v1/a", bytes('{ "x": 1 }'))).not.toBe(base)
  })
})

describe("which answers are kept", () => {
  it("keeps outcomes, not refusals before acting or failures", () => {
    for (const status of [200, 201, 202, 204, 303, 404, 409, 422]) expect(isKeptStatus(status), `${status}`).toBe(true)
    for (const status of [400, 401, 403, 408, 413, 429, 500, 502, 503])
      expect(isKeptStatus(status), `${status}`).toBe(false)
  })

  it("knows a secret by Cache-Control: no-store", () => {
    expect(carriesSecret("no-store")).toBe(true)
    expect(carriesSecret("private, No-Store")).toBe(true)
    expect(carriesSecret("no-cache")).toBe(false)
    expect(carriesSecret("no-store-ish")).toBe(false)
    expect(carriesSecret(undefined)).toBe(false)
  })

  it("keeps status, body and the replayed headers only", () => {
    const kept = keptAnswerOf(
      HttpServerResponse.jsonUnsafe(
        { a: 1 },
        { status: 201, headers: { location: "/api/v1/x", "x-other": "dropped", "retry-after": "5" } }
      )
    )
    expect(kept).toMatchObject({
      status: 201,
      headers: { "content-type": "application/json", location: "/api/v1/x", "retry-after": "5" },
      withheld: false
    })
    expect(Object.keys(kept?.headers ?? {})).toHaveLength(3)
    expect(new TextDecoder().decode(kept?.body ?? new Uint8Array(0))).toBe('{"a":1}')
    expect(keptAnswerOf(HttpServerResponse.empty({ status: 204 }))).toEqual({
      status: 204,
      headers: {},
      body: new Uint8Array(0),
      withheld: false
    })
  })

  it("withholds the body of a no-store answer and keeps no streamed or failed answer", () => {
    const secret = keptAnswerOf(
      HttpServerResponse.jsonUnsafe({ apiKey: "bw_secret" }, { status: 201, headers: { "cache-control": "no-store" } })
    )
    expect(secret).toMatchObject({ status: 201, body: null, withheld: true })
    expect(keptAnswerOf(HttpServerResponse.text("boom", { status: 500 }))).toBeUndefined()
    expect(keptAnswerOf(HttpServerResponse.text("later", { status: 429 }))).toBeUndefined()
  })
})
