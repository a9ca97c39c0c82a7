/**
 * The bound on open event streams (`SSE_MAX_CONNECTIONS=2` here): the third is refused 503 with
 * `Retry-After`, the gauge `breakwater_sse_connections` on `/metrics` counts the open ones, a
 * closed stream frees its place; and every open stream ends as soon as the application begins to
 * shut down, so the drain does not wait for it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores } from "../support/database.ts"
import { type EventStreamClient, openEventStream } from "../support/event-stream.ts"
import { waitFor } from "../support/processes.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"

let app: Awaited<ReturnType<typeof startAppPromise>>
let stopped = false
let admin: TestSession

beforeAll(async () => {
  const stores = await createTestStores()
  app = await startAppPromise(testEnv(stores, { SSE_MAX_CONNECTIONS: "2" }))
  admin = await loginAsAdmin(app.baseUrl)
})
afterAll(async () => {
  if (!stopped) await app.stop()
})

const open = () => openEventStream(app.baseUrl, "", { cookie: admin.cookie })

const gauge = async (): Promise<number | undefined> => {
  const text = await (await fetch(`${app.baseUrl}/metrics`)).text()
  const line = text.split("\n").find((l) => l.startsWith("breakwater_sse_connections "))
  return line === undefined ? undefined : Number(line.split(" ")[1])
}

describe("SSE_MAX_CONNECTIONS", () => {
  it("refuses the stream over the bound with 503 and Retry-After, and counts the open ones", async () => {
    const streams: Array<EventStreamClient> = []
    try {
      streams.push(await open(), await open())
      // Counted once the body streams: the opening frame has arrived.
      for (const s of streams) await s.next()
      expect(await gauge()).toBe(2)

      const refused = await fetch(`${app.baseUrl}/api/v1/events/stream`, { headers: { cookie: admin.cookie } })
      expect(refused.status).toBe(503)
      const retryAfter = Number(refused.headers.get("retry-after"))
      expect(retryAfter).toBeGreaterThanOrEqual(5)
      expect(retryAfter).toBeLessThanOrEqual(15)
      const body = (await refused.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe("too_many_streams")
      expect(body.error.message).toContain("SSE_MAX_CONNECTIONS")

      await streams.pop()?.close()
      await waitFor("the gauge to drop to 1", async () => ((await gauge()) === 1 ? true : undefined), {
        timeoutMs: 5_000,
        intervalMs: 50
      })
      const again = await open()
      streams.push(again)
      expect((await again.next()).event).toBe("ready")
    } finally {
      for (const s of streams) await s.close()
    }
    await waitFor("the gauge to drop to 0", async () => ((await gauge()) === 0 ? true : undefined), {
      timeoutMs: 5_000,
      intervalMs: 50
    })
  })

  it("ends every open stream as soon as the application begins to shut down", async () => {
    const stream = await open()
    await stream.next()
    const started = performance.now()
    const stopping = app.stop()
    stopped = true
    await stream.ended(5_000)
    const streamEnded = performance.now() - started
    await stopping
    // The grace period is 10 s: an open stream must not make the stop wait for it.
    expect(streamEnded).toBeLessThan(1_000)
    expect(performance.now() - started).toBeLessThan(5_000)
  })
})
