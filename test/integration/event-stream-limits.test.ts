/**
 * The bound on open event streams, the runtime setting `events.max_streams` (set to 2 here through
 * the settings API): the third is refused 503 with `Retry-After`, the gauge
 * `breakwater_sse_connections` on `/metrics` counts the open ones, a closed stream frees its place;
 * a change applies to the next stream opened without a restart, lowering it below the open streams
 * ends none of them, and a value out of range is refused 400 naming the setting; and every open
 * stream ends as soon as the application begins to shut down, so the drain does not wait for it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores } from "../support/database.ts"
import { type EventStreamClient, openEventStream } from "../support/event-stream.ts"
import { waitFor } from "../support/processes.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"

const KEY = "events.max_streams"

let app: Awaited<ReturnType<typeof startAppPromise>>
let stopped = false
let admin: TestSession

interface ErrorBody {
  readonly error: {
    readonly code: string
    readonly message: string
    readonly issues?: ReadonlyArray<{ readonly path: string; readonly message: string }>
  }
}

/** Changes the bound through the settings API (as an administrator, with a recent sign-in). */
const setBound = (value: unknown) =>
  admin.fetch(`/api/v1/settings/${KEY}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ value, reason: "event stream limit test" })
  })

const boundIs = async (value: number) => {
  const res = await setBound(value)
  expect(res.status, await res.clone().text()).toBe(200)
}

/** The value in effect, as the settings listing shows it. */
const listedBound = async (): Promise<unknown> => {
  const { settings } = (await (await admin.fetch("/api/v1/settings")).json()) as {
    settings: ReadonlyArray<{ key: string; value: unknown }>
  }
  return settings.find((s) => s.key === KEY)?.value
}

beforeAll(async () => {
  const stores = await createTestStores()
  app = await startAppPromise(testEnv(stores))
  admin = await loginAsAdmin(app.baseUrl)
  await boundIs(2)
})
afterAll(async () => {
  if (!stopped) await app.stop()
})

const open = () => openEventStream(app.baseUrl, "", { cookie: admin.cookie })

const refusal = () => fetch(`${app.baseUrl}/api/v1/events/stream`, { headers: { cookie: admin.cookie } })

/** The status of one more stream's answer, its body read (a refusal is small). */
const nextStatus = async () => {
  const res = await refusal()
  await res.text()
  return res.status
}

const gauge = async (): Promise<number | undefined> => {
  const text = await (await fetch(`${app.baseUrl}/metrics`)).text()
  const line = text.split("\n").find((l) => l.startsWith("breakwater_sse_connections "))
  return line === undefined ? undefined : Number(line.split(" ")[1])
}

const gaugeReaches = (n: number) =>
  waitFor(`the gauge to reach ${n}`, async () => ((await gauge()) === n ? true : undefined), {
    timeoutMs: 5_000,
    intervalMs: 50
  })

describe("events.max_streams", () => {
  it("refuses the stream over the bound with 503 and Retry-After, and counts the open ones", async () => {
    const streams: Array<EventStreamClient> = []
    try {
      streams.push(await open(), await open())
      // Counted once the body streams: the opening frame has arrived.
      for (const s of streams) await s.next()
      expect(await gauge()).toBe(2)

      const refused = await refusal()
      expect(refused.status).toBe(503)
      const retryAfter = Number(refused.headers.get("retry-after"))
      expect(retryAfter).toBeGreaterThanOrEqual(5)
      expect(retryAfter).toBeLessThanOrEqual(15)
      const body = (await refused.json()) as ErrorBody
      expect(body.error.code).toBe("too_many_streams")
      expect(body.error.message).toContain(KEY)

      await streams.pop()?.close()
      await gaugeReaches(1)
      const again = await open()
      streams.push(again)
      expect((await again.next()).event).toBe("ready")
    } finally {
      for (const s of streams) await s.close()
    }
    await gaugeReaches(0)
  })

  it("refuses a bound that is not an integer from 1 to 100000: 400 naming the setting, the bound unchanged", async () => {
    for (const value of [0, -1, "x", 1_000_000_000, 2.5]) {
      const res = await setBound(value)
      expect(res.status, `value ${JSON.stringify(value)}`).toBe(400)
      const { error } = (await res.json()) as ErrorBody
      expect(error.code).toBe("invalid_setting_value")
      expect(error.message).toContain(KEY)
      expect(error.issues?.map((i) => i.path)).toEqual(["value"])
    }
    expect(await listedBound()).toBe(2)
  })

  it("a change applies to the next stream opened, without a restart; lowering it ends no open stream", async () => {
    const streams: Array<EventStreamClient> = []
    try {
      streams.push(await open(), await open())
      for (const s of streams) await s.next()
      expect(await gauge()).toBe(2)

      // Lowered below the streams open: both stay open and live (each receives the change itself).
      await boundIs(1)
      for (const s of streams) {
        const change = await s.waitFor("the settings change", (f) => f.event === "change")
        expect(change.data).toMatchObject({ topic: "settings", data: { key: KEY, value: 1 } })
      }
      expect(await gauge()).toBe(2)
      const refused = await refusal()
      expect(refused.status).toBe(503)
      expect(((await refused.json()) as ErrorBody).error.message).toContain(`${KEY} allows 1`)

      // One closed: still as many open as the new bound allows, so still refused.
      await streams.pop()?.close()
      await gaugeReaches(1)
      expect(await nextStatus()).toBe(503)

      // Raised: the next streams are admitted at once, up to the new bound.
      await boundIs(3)
      streams.push(await open(), await open())
      for (const s of streams.slice(1)) expect((await s.next()).event).toBe("ready")
      await gaugeReaches(3)
      expect(await nextStatus()).toBe(503)
    } finally {
      for (const s of streams) await s.close()
    }
    await gaugeReaches(0)
    await boundIs(2)
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
