import { describe, expect, it } from "vitest"
import {
  API_KEY_PATTERN,
  generateApiKey,
  hashSecret,
  parseApiKey,
  parseDuration,
  secretMatches
} from "../../src/core/auth/api-key-format.ts"

describe("API key format", () => {
  it("generates bw_<id>_<secret><checksum> keys that parse back to their id", () => {
    const key = generateApiKey()
    expect(key.plaintext).toMatch(API_KEY_PATTERN)
    expect(key.plaintext.startsWith(`bw_${key.id}_`)).toBe(true)
    const parsed = parseApiKey(key.plaintext)
    expect(parsed?.id).toBe(key.id)
    expect(parsed !== undefined && secretMatches(parsed.secret, key.secretHash)).toBe(true)
  })

  it("carries at least 128 bits of secret and never stores it", () => {
    const key = generateApiKey()
    const secret = parseApiKey(key.plaintext)?.secret ?? ""
    expect(secret.length * Math.log2(62)).toBeGreaterThanOrEqual(128)
    expect(key.secretHash).toBe(hashSecret(secret))
    expect(key.secretHash).not.toContain(secret)
  })

  it("gives every key a different id and secret", () => {
    const keys = Array.from({ length: 200 }, generateApiKey)
    expect(new Set(keys.map((k) => k.id)).size).toBe(200)
    expect(new Set(keys.map((k) => k.plaintext)).size).toBe(200)
  })

  it("rejects a key whose checksum does not match (a typo, or look-alike text)", () => {
    const key = generateApiKey().plaintext
    const flipped = key.slice(0, 20) + (key[20] === "a" ? "b" : "a") + key.slice(21)
    expect(parseApiKey(flipped)).toBeUndefined()
    expect(parseApiKey(`${key}x`)).toBeUndefined()
    expect(parseApiKey("bw_short_key")).toBeUndefined()
  })

  it("compares secrets against the stored hash only", () => {
    const key = generateApiKey()
    expect(secretMatches("wrong", key.secretHash)).toBe(false)
  })

  it("parses expiry durations", () => {
    expect(parseDuration("30d")).toBe(30 * 86_400)
    expect(parseDuration("12h")).toBe(43_200)
    expect(parseDuration("1y")).toBe(31_536_000)
    expect(parseDuration("soon")).toBeUndefined()
    expect(parseDuration("-1d")).toBeUndefined()
  })
})
