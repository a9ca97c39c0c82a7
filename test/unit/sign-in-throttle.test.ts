/**
 * The pure parts of sign-in throttling: which address a failure counts against, which limits a
 * failure reaches, and the keyed hash an unknown identifier is audited under.
 */
import { createHmac } from "node:crypto"
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { identifierHash } from "../../src/core/auth/identifier-hash.ts"
import {
  ACCOUNT_ADDRESS_LIMIT,
  ADDRESS_LIMIT,
  type Admitted,
  ATTACK_THRESHOLD,
  limitsReached,
  UNDER_ATTACK_LIMIT
} from "../../src/core/auth/sign-in-throttle.ts"
import { throttleAddress } from "../../src/core/auth/throttle-address.ts"

describe("throttleAddress", () => {
  it("keeps an IPv4 address as it is", () => {
    expect(throttleAddress("203.0.113.7")).toBe("203.0.113.7")
    expect(throttleAddress("127.0.0.1")).toBe("127.0.0.1")
  })

  it("counts an IPv4-mapped IPv6 address as the IPv4 address, in either spelling", () => {
    expect(throttleAddress("::ffff:203.0.113.7")).toBe("203.0.113.7")
    expect(throttleAddress("::FFFF:203.0.113.7")).toBe("203.0.113.7")
    expect(throttleAddress("::ffff:cb00:7107")).toBe("203.0.113.7")
    expect(throttleAddress("0:0:0:0:0:ffff:7f00:1")).toBe("127.0.0.1")
  })

  it("counts an IPv6 address per /64, however it is written", () => {
    const net = "2001:db8:1:2::/64"
    expect(throttleAddress("2001:db8:1:2:a:b:c:d")).toBe(net)
    expect(throttleAddress("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff")).toBe(net)
    expect(throttleAddress("2001:db8:1:2::1")).toBe(net)
    expect(throttleAddress("2001:db8:1:2::1%eth0")).toBe(net)
    expect(throttleAddress("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64")
    expect(throttleAddress("2001:db8::1")).toBe("2001:db8:0:0::/64")
    expect(throttleAddress("::1")).toBe("0:0:0:0::/64")
    // IPv4-compatible (deprecated) and NAT64 addresses are ordinary IPv6 here.
    expect(throttleAddress("64:ff9b::203.0.113.7")).toBe("64:ff9b:0:0::/64")
  })

  it("puts anything that is not an IP address in one bucket", () => {
    expect(throttleAddress(undefined)).toBe("unknown")
    expect(throttleAddress("unknown")).toBe("unknown")
    expect(throttleAddress("")).toBe("unknown")
    expect(throttleAddress("example.com")).toBe("unknown")
    expect(throttleAddress("1.2.3.4, 5.6.7.8")).toBe("unknown")
  })
})

describe("limitsReached", () => {
  const gate = (over: Partial<Admitted>): Admitted => ({
    _tag: "Admitted",
    addressFailures: 1,
    accountFailures: 1,
    accountWideFailures: 1,
    limit: ACCOUNT_ADDRESS_LIMIT,
    ...over
  })

  it("reports each limit once, on the failure that reaches it", () => {
    expect(limitsReached(gate({}), true)).toEqual({ lockout: false, throttle: false, attack: false })
    expect(limitsReached(gate({ accountFailures: ACCOUNT_ADDRESS_LIMIT }), true).lockout).toBe(true)
    expect(limitsReached(gate({ accountFailures: ACCOUNT_ADDRESS_LIMIT + 1 }), true).lockout).toBe(false)
    expect(limitsReached(gate({ addressFailures: ADDRESS_LIMIT }), false).throttle).toBe(true)
    expect(limitsReached(gate({ accountWideFailures: ATTACK_THRESHOLD }), true).attack).toBe(true)
    expect(limitsReached(gate({ accountWideFailures: ATTACK_THRESHOLD + 1 }), true).attack).toBe(false)
    // Under attack the lower limit is the one reached.
    expect(limitsReached(gate({ accountFailures: UNDER_ATTACK_LIMIT, limit: UNDER_ATTACK_LIMIT }), true).lockout).toBe(
      true
    )
  })

  it("reports no account limit without an account", () => {
    const g = gate({ accountFailures: ACCOUNT_ADDRESS_LIMIT, accountWideFailures: ATTACK_THRESHOLD })
    expect(limitsReached(g, false)).toMatchObject({ lockout: false, attack: false })
  })
})

describe("identifierHash", () => {
  const key = Redacted.make<Uint8Array>(Buffer.alloc(32, 7))

  it("is HMAC-SHA-256 of the trimmed, lower-cased identifier, 16 hex characters", () => {
    const expected = createHmac("sha256", Buffer.alloc(32, 7))
      .update("hunter2 is my password")
      .digest("hex")
      .slice(0, 16)
    expect(identifierHash(key, "  Hunter2 IS my password ")).toBe(expected)
    expect(identifierHash(key, "hunter2 is my password")).toBe(expected)
  })

  it("depends on the key", () => {
    const other = Redacted.make<Uint8Array>(Buffer.alloc(32, 8))
    expect(identifierHash(other, "x@example.com")).not.toBe(identifierHash(key, "x@example.com"))
  })
})
