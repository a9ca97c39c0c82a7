/** CSRF decisions and the `next` redirect filter, as pure functions. */
import { describe, expect, it } from "vitest"
import { crossSiteReason, isStateChanging, tokensMatch } from "../../src/core/auth/csrf.ts"
import { safeNextPath } from "../../src/core/http/safe-redirect.ts"

describe("state-changing methods", () => {
  it("are POST, PUT, PATCH and DELETE", () => {
    for (const m of ["POST", "PUT", "PATCH", "DELETE", "post"]) expect(isStateChanging(m), m).toBe(true)
    for (const m of ["GET", "HEAD", "OPTIONS"]) expect(isStateChanging(m), m).toBe(false)
  })
})

describe("cross-site check", () => {
  const host = "console.example:8080"

  it("passes requests without Origin or Sec-Fetch-Site (API clients, curl)", () => {
    expect(crossSiteReason({ host })).toBeUndefined()
  })

  it("passes a same-origin request", () => {
    expect(crossSiteReason({ host, origin: "http://console.example:8080", "sec-fetch-site": "same-origin" })).toBe(
      undefined
    )
    expect(crossSiteReason({ host: "console.example", origin: "https://console.example" })).toBeUndefined()
    // Default ports compare equal whichever way they are written.
    expect(crossSiteReason({ host: "console.example:443", origin: "https://console.example" })).toBeUndefined()
    expect(crossSiteReason({ host: "CONSOLE.example", origin: "https://console.example" })).toBeUndefined()
  })

  it("refuses Sec-Fetch-Site: cross-site, whatever the Origin says", () => {
    expect(crossSiteReason({ host, "sec-fetch-site": "cross-site" })).toContain("cross-site")
    expect(
      crossSiteReason({ host, origin: "http://console.example:8080", "sec-fetch-site": "cross-site" })
    ).toBeDefined()
  })

  it("refuses an Origin that is not this host", () => {
    expect(crossSiteReason({ host, origin: "http://evil.example" })).toContain("evil.example")
    expect(crossSiteReason({ host, origin: "http://console.example:9090" })).toBeDefined()
    expect(crossSiteReason({ host, origin: "http://console.example.evil.example:8080" })).toBeDefined()
  })

  it("refuses an opaque or malformed Origin, or one with no Host to compare with", () => {
    expect(crossSiteReason({ host, origin: "null" })).toContain("opaque")
    expect(crossSiteReason({ host, origin: "not a url" })).toContain("malformed")
    expect(crossSiteReason({ origin: "http://console.example:8080" })).toBeDefined()
  })
})

describe("token comparison", () => {
  it("accepts only the exact token", () => {
    expect(tokensMatch("abc", "abc")).toBe(true)
    expect(tokensMatch("abd", "abc")).toBe(false)
    expect(tokensMatch("ab", "abc")).toBe(false)
    expect(tokensMatch("", "abc")).toBe(false)
    expect(tokensMatch(undefined, "abc")).toBe(false)
  })
})

describe("next after sign-in", () => {
  it("keeps same-site paths", () => {
    expect(safeNextPath("/about")).toBe("/about")
    expect(safeNextPath("/admin/users?notice=enabled")).toBe("/admin/users?notice=enabled")
  })

  it("refuses anything that could leave the site", () => {
    for (const bad of ["//evil.example", "/\\evil.example", "https://evil.example", "evil", "", "/a\nb", "/\u0000"])
      expect(safeNextPath(bad), JSON.stringify(bad)).toBeUndefined()
    expect(safeNextPath(undefined)).toBeUndefined()
    expect(safeNextPath(`/${"a".repeat(3000)}`)).toBeUndefined()
  })
})
