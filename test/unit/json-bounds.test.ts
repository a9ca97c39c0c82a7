/**
 * JSON bounds and stack-safe walks: the canonical form the audit chain hashes must not change
 * (entries sealed before stay verifiable), and nothing here may throw on values nested deeper
 * than any recursive walk survives.
 */
import { describe, expect, it } from "vitest"
import {
  canonicalJson,
  jsonBoundsProblem,
  jsonDepth,
  shownJson,
  unstorableStrings,
  unstorableTextProblem
} from "../../src/core/json-bounds.ts"

/** The recursive form the chain used before; kept here as the reference. */
const recursiveCanonical = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(recursiveCanonical).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${recursiveCanonical(v)}`).join(",")}}`
}

/** A deterministic pseudo-random JSON-ish value (with undefined members, as entries may carry). */
const randomValue = (seed: number, depth: number): unknown => {
  let state = seed
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
  const make = (d: number): unknown => {
    const r = next()
    if (d <= 0 || r < 0.3) {
      const pick = Math.floor(next() * 7)
      return [null, true, 42.5, -0, 'text \u00e9\n"q"', undefined, ""][pick]
    }
    if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => make(d - 1))
    const object: Record<string, unknown> = {}
    for (let i = 0; i < Math.floor(next() * 4); i++) object[`k${Math.floor(next() * 10)}\u00fc`] = make(d - 1)
    return object
  }
  return make(depth)
}

const nested = (levels: number): unknown => {
  let value: unknown = 1
  for (let i = 0; i < levels; i++) value = { a: value, b: [i] }
  return value
}

describe("canonicalJson", () => {
  it("gives exactly the text of the recursive form for many values", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const value = randomValue(seed, 5)
      expect(canonicalJson(value), `seed ${seed}`).toBe(recursiveCanonical(value))
    }
    const entry = { id: "1", details: { z: 1, a: [1, { y: null, b: undefined }] }, reason: null }
    expect(canonicalJson(entry)).toBe('{"details":{"a":[1,{"y":null}],"z":1},"id":"1","reason":null}')
  })

  it("writes values nested 100,000 levels deep (the recursive form overflows the stack)", () => {
    const deep = nested(100_000)
    expect(() => recursiveCanonical(deep)).toThrow(RangeError)
    const text = canonicalJson(deep)
    expect(text.startsWith('{"a":{"a":')).toBe(true)
    expect(text.length).toBeGreaterThan(1_000_000)
  })
})

describe("bounds", () => {
  it("measures depth up to the limit and stops early", () => {
    expect(jsonDepth(1, 16)).toBe(0)
    expect(jsonDepth({}, 16)).toBe(1)
    expect(jsonDepth({ a: [{}] }, 16)).toBe(3)
    expect(jsonDepth(nested(1_000_000), 16)).toBe(17)
  })

  it("names depth and size problems", () => {
    expect(jsonBoundsProblem({ a: 1 })).toBeUndefined()
    expect(jsonBoundsProblem(nested(16))).toMatch(/at most 16 levels/)
    expect(jsonBoundsProblem({ a: "x".repeat(20_000) })).toMatch(/at most 16384 bytes/)
  })

  it("shows a withheld marker for stored values out of bounds, the value itself otherwise", () => {
    expect(shownJson({ a: 1 })).toEqual({ a: 1 })
    const shown = shownJson(nested(3_000) as Record<string, unknown>)
    expect(Object.keys(shown)).toEqual(["withheld"])
    expect(() => JSON.stringify(shown)).not.toThrow()
  })

  it("finds text PostgreSQL cannot store, in values and keys, with the path", () => {
    expect(unstorableTextProblem("fine é 😀")).toBeUndefined()
    expect(unstorableTextProblem("a\u0000b")).toMatch(/U\+0000/)
    expect(unstorableTextProblem("a\ud800b")).toMatch(/lone surrogate/)
    expect(unstorableStrings({ reason: "ok", details: { list: ["x", "y\u0000"] } })).toEqual([
      { path: "details.list.1", message: "must not contain the NUL character (U+0000)" }
    ])
    expect(unstorableStrings({ "k\udc00": 1 })).toEqual([
      { path: "", message: "a key must be valid Unicode (it contains a lone surrogate)" }
    ])
    expect(unstorableStrings(nested(50_000))).toEqual([])
  })
})
