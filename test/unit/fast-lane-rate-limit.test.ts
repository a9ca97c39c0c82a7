/**
 * The fast lane and the per-key rate limit: within the limit it answers as before; over it, it
 * answers 429 itself with the normal path's JSON error, `Retry-After`, the request id and the
 * security headers; a request it hands to the normal path is not counted here (the normal path
 * counts it).
 */
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Principal } from "../../src/core/auth/access.ts"
import { makeSlidingWindow } from "../../src/core/auth/sliding-window.ts"
import { FastLaneServer, makeFastHandler } from "../../src/core/http/fast-lane.ts"

const reader = (id: string): Principal => ({
  kind: "api_key",
  id,
  name: id,
  permissions: new Set(["VIEW_CIRCUIT_BREAKER"])
})
const keys: Record<string, Principal> = { "key-a": reader("a"), "key-b": reader("b"), "key-c": reader("c") }

const MESSAGE = "over the limit"
const window = makeSlidingWindow(3)
const taken: Array<string> = []
const answered: Array<{ status: number; requestId: string }> = []
const lane = {
  handler: makeFastHandler({
    routes: [
      {
        path: "/api/v1/breaker/:scope",
        permission: "VIEW_CIRCUIT_BREAKER",
        read: ({ scope }) => (scope === "global" ? { status: 200, body: '{"state":"OPEN"}' } : undefined)
      }
    ],
    verifiedKey: (token) => keys[token],
    answered: (r) => void answered.push(r),
    failed: () => undefined,
    rateLimit: {
      take: (keyId, now) => {
        taken.push(keyId)
        return window.take(keyId, now)
      },
      message: MESSAGE
    }
  })
}
const server = new FastLaneServer(lane)
server.on("request", (_req, res) => res.end("normal path"))
let base = ""

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const get = (path: string, key: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } })

describe("fast lane rate limit", () => {
  it("answers within the limit, then 429 with the normal path's error body and Retry-After", async () => {
    for (let i = 0; i < 3; i++) expect((await get("/api/v1/breaker/global", "key-a")).status).toBe(200)
    const refused = await get("/api/v1/breaker/global", "key-a", { "x-request-id": "over-1" })
    expect(refused.status).toBe(429)
    expect(await refused.json()).toEqual({
      error: { code: "too_many_requests", message: MESSAGE, requestId: "over-1" }
    })
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    expect(refused.headers.get("x-request-id")).toBe("over-1")
    expect(refused.headers.get("content-type")).toBe("application/json")
    expect(refused.headers.get("cache-control")).toBe("no-store")
    expect(refused.headers.get("x-frame-options")).toBe("DENY")
    expect(refused.headers.get("x-content-type-options")).toBe("nosniff")
    expect(answered.at(-1)).toMatchObject({ status: 429, requestId: "over-1" })
    // Another key is not touched.
    expect((await get("/api/v1/breaker/global", "key-b")).status).toBe(200)
  })

  it("does not count a request it hands to the normal path", async () => {
    taken.length = 0
    expect(await (await get("/api/v1/breaker/venue", "key-c")).text()).toBe("normal path")
    expect(await (await get("/api/v1/breaker/global", "unknown")).text()).toBe("normal path")
    expect(taken).toEqual([])
    expect((await get("/api/v1/breaker/global", "key-c")).status).toBe(200)
    expect(taken).toEqual(["c"])
  })
})
