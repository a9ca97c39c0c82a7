import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Principal } from "../../src/core/auth/access.ts"
import { compilePath, FastLaneServer, makeFastHandler } from "../../src/core/http/fast-lane.ts"

const reader: Principal = {
  kind: "api_key",
  id: "k1",
  name: "desk",
  permissions: new Set(["VIEW_CIRCUIT_BREAKER"])
}
const writerOnly: Principal = { ...reader, id: "k2", permissions: new Set(["TRIP_CIRCUIT_BREAKER"]) }
const keys: Record<string, Principal> = { "good-key": reader, "other-key": writerOnly }

const answered: Array<{ route: string; status: number; requestId: string }> = []
const failures: Array<{ route: string; requestId: string; error: unknown }> = []
const lane = {
  handler: makeFastHandler({
    routes: [
      {
        path: "/api/v1/breaker/:scope",
        permission: "VIEW_CIRCUIT_BREAKER",
        read: ({ scope }) => {
          // A reader with a bug: the lane must answer 500, not let the throw reach Node's emitter.
          if (scope === "boom") throw new RangeError("Maximum call stack size exceeded")
          return scope === "global" ? { status: 200, body: '{"state":"OPEN"}' } : undefined
        }
      }
    ],
    verifiedKey: (token) => keys[token],
    answered: (r) => void answered.push(r),
    failed: (r) => void failures.push(r)
  })
}
// The normal listener stands in for the Effect pipeline.
const server = new FastLaneServer(lane)
server.on("request", (_req, res) => res.end("normal path"))
let base = ""

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers })

describe("HTTP fast lane", () => {
  it("answers a verified key holding the permission from memory, with a request id and no caching", async () => {
    const res = await get("/api/v1/breaker/global?x=1", { authorization: "Bearer good-key", "x-request-id": "abc-123" })
    expect(await res.text()).toBe('{"state":"OPEN"}')
    expect(res.headers.get("content-type")).toBe("application/json")
    expect(res.headers.get("cache-control")).toBe("no-store")
    expect(res.headers.get("x-request-id")).toBe("abc-123")
    expect(answered.at(-1)).toMatchObject({ route: "/api/v1/breaker/:scope", status: 200, requestId: "abc-123" })
  })

  it("leaves everything it is not sure of to the normal path", async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ["/api/v1/breaker/global", {}],
      ["/api/v1/breaker/global", { authorization: "Bearer unknown-key" }],
      ["/api/v1/breaker/global", { authorization: "Bearer other-key" }],
      ["/api/v1/breaker/venue", { authorization: "Bearer good-key" }],
      ["/api/v1/breaker/global/history", { authorization: "Bearer good-key" }],
      ["/api/v1/breaker/%E0%A4%A", { authorization: "Bearer good-key" }],
      ["/api/v1/breaker/global", { authorization: "Basic good-key" }]
    ]
    for (const [path, headers] of cases) expect(await (await get(path, headers)).text(), path).toBe("normal path")
    const post = await fetch(`${base}/api/v1/breaker/global`, {
      method: "POST",
      headers: { authorization: "Bearer good-key" }
    })
    expect(await post.text()).toBe("normal path")
  })

  it("answers a throwing reader 500 with the request id, logs it, and keeps serving", async () => {
    const res = await get("/api/v1/breaker/boom", { authorization: "Bearer good-key", "x-request-id": "boom-1" })
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({
      error: { code: "internal", message: "Something went wrong on our side.", requestId: "boom-1" }
    })
    expect(res.headers.get("x-request-id")).toBe("boom-1")
    expect(failures.at(-1)).toMatchObject({ route: "/api/v1/breaker/:scope", requestId: "boom-1" })
    expect(String(failures.at(-1)?.error)).toMatch(/Maximum call stack/)
    expect(await (await get("/api/v1/breaker/global", { authorization: "Bearer good-key" })).text()).toBe(
      '{"state":"OPEN"}'
    )
  })

  it("sends the security headers on every answer", async () => {
    const res = await get("/api/v1/breaker/global", { authorization: "Bearer good-key" })
    expect(res.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/)
    expect(res.headers.get("x-frame-options")).toBe("DENY")
    expect(res.headers.get("x-content-type-options")).toBe("nosniff")
    expect(res.headers.get("referrer-policy")).toBe("same-origin")
  })

  it("matches path templates segment by segment", () => {
    const match = compilePath("/api/v1/breaker/:scope")
    expect(match("/api/v1/breaker/venue-1")).toEqual({ scope: "venue-1" })
    expect(match("/api/v1/breaker/")).toBeUndefined()
    expect(match("/api/v1/breakers/x")).toBeUndefined()
  })
})
