import { describe, expect, it } from "vitest"
import type { Principal } from "../../src/core/auth/access.ts"
import { makeOutageCredentials, OUTAGE_GRACE_MS } from "../../src/core/auth/outage-credentials.ts"

const ann: Principal = { kind: "user", id: "u1", name: "ann@test.local", role: "operator", permissions: new Set() }

describe("credentials remembered for a database outage", () => {
  it("recalls a credential verified within the grace period, and not after it", () => {
    const cache = makeOutageCredentials()
    cache.remember("cookie-1", ann, 1_000)
    expect(cache.recall("cookie-1", 1_000 + OUTAGE_GRACE_MS)).toBe(ann)
    expect(cache.recall("cookie-1", 1_001 + OUTAGE_GRACE_MS)).toBeUndefined()
    expect(cache.recall("cookie-2", 1_000)).toBeUndefined()
  })

  it("forgets a credential the database rejected", () => {
    const cache = makeOutageCredentials()
    cache.remember("bearer:bw_x", ann, 0)
    cache.forget("bearer:bw_x")
    expect(cache.recall("bearer:bw_x", 1)).toBeUndefined()
  })
})
