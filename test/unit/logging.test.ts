/** The JSON logger: the request id from RequestInfo, and one stdout write per turn of the event loop. */
import { Effect } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { loggingLayer } from "../../src/core/observability/logging.ts"
import { RequestInfo } from "../../src/core/request-info.ts"

afterEach(() => {
  vi.restoreAllMocks()
})

describe("JSON logger", () => {
  it("writes the lines of one turn in one write, each with the request id of its request", async () => {
    const writes: Array<string> = []
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk))
      return true
    })
    const info = { requestId: "req-42", clientAddress: "127.0.0.1", startedAt: 0, route: "/x", authenticated: false }
    await Effect.runPromise(
      Effect.all([Effect.logInfo("first"), Effect.logWarning("second")]).pipe(
        Effect.provideService(RequestInfo, info),
        Effect.provide(loggingLayer("json", "info"))
      )
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toHaveLength(1)
    const lines = (writes[0] ?? "")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toMatchObject([
      { level: "info", msg: "first", requestId: "req-42" },
      { level: "warn", msg: "second", requestId: "req-42" }
    ])
  })

  it("adds no request id outside a request", async () => {
    const writes: Array<string> = []
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk))
      return true
    })
    await Effect.runPromise(Effect.logInfo("alone").pipe(Effect.provide(loggingLayer("json", "info"))))
    await new Promise((resolve) => setImmediate(resolve))
    expect(JSON.parse(writes.join("").trim())).not.toHaveProperty("requestId")
  })
})
