/** Which address a request is attributed to, behind trusted reverse proxies and without them. */

import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadConfig } from "../../src/core/config.ts"
import { clientAddressOf, trustedProxies, trustedProxyProblem } from "../../src/core/http/client-address.ts"

const proxies = trustedProxies(["127.0.0.1", "10.0.0.0/8", "fd00::/8"])

describe("client address", () => {
  it("is the socket's peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientAddressOf("203.0.113.9", "198.51.100.1", undefined)).toBe("203.0.113.9")
    expect(clientAddressOf("::ffff:203.0.113.9", undefined, undefined)).toBe("203.0.113.9")
    expect(clientAddressOf(undefined, undefined, undefined)).toBe("unknown")
  })

  it("is the rightmost untrusted hop when the peer is a trusted proxy", () => {
    expect(clientAddressOf("127.0.0.1", "198.51.100.1", proxies)).toBe("198.51.100.1")
    // The client wrote the left entries itself: they prove nothing.
    expect(clientAddressOf("127.0.0.1", "1.2.3.4, 198.51.100.1, 10.1.2.3", proxies)).toBe("198.51.100.1")
    expect(clientAddressOf("fd00::1", "2001:db8::5", proxies)).toBe("2001:db8::5")
  })

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    expect(clientAddressOf("203.0.113.9", "1.2.3.4", proxies)).toBe("203.0.113.9")
  })

  it("falls back to the peer when only proxies or garbage are listed", () => {
    expect(clientAddressOf("127.0.0.1", "10.0.0.2", proxies)).toBe("127.0.0.1")
    expect(clientAddressOf("127.0.0.1", "not-an-address, 10.0.0.2", proxies)).toBe("127.0.0.1")
  })

  it("checks the setting's entries at start", async () => {
    expect(trustedProxyProblem("10.0.0.0/8")).toBeUndefined()
    expect(trustedProxyProblem("::1")).toBeUndefined()
    expect(trustedProxyProblem("10.0.0.0/33")).toMatch(/prefix/)
    expect(trustedProxyProblem("proxy.local")).toMatch(/not an IP/)
    const bad = await Effect.runPromise(Effect.flip(loadConfig({ TRUSTED_PROXIES: "127.0.0.1, nope" })))
    expect(bad.message).toMatch(/TRUSTED_PROXIES: nope is not an IP address/)
    const good = await Effect.runPromise(loadConfig({ TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8" }))
    expect(good.trustedProxies).toEqual(["127.0.0.1", "10.0.0.0/8"])
  })
})
