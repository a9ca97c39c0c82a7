/**
 * Two replicas on one PostgreSQL and one Redis (reached through a TCP proxy the test can cut): an
 * event published on one reaches a stream on the other within 1 s, under that replica's own id;
 * `replicate: false` stays home. With Redis unreachable, publishing neither blocks nor fails and
 * still reaches the local streams; the failed relay is counted, and once Redis is back the other
 * replica notices the lost event and sends its clients into a `reset`.
 */
import { Context, Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { EventBus, type PublishOptions } from "../../src/core/contracts/event-bus.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores } from "../support/database.ts"
import { type EventStreamClient, openEventStream } from "../support/event-stream.ts"
import { waitFor } from "../support/processes.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts"

type App = Awaited<ReturnType<typeof startAppPromise>>

let proxy: TcpProxy
let a: App
let b: App
let admin: TestSession

beforeAll(async () => {
  const stores = await createTestStores()
  const redis = new URL(stores.redisUrl)
  proxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379))
  const env = testEnv(stores, { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, LOG_LEVEL: "error" })
  a = await startAppPromise(env)
  b = await startAppPromise(env)
  // Every replica runs the same modules, so declares the same topics.
  for (const app of [a, b])
    await Effect.runPromise(
      Context.get(app.context, EventBus).declare("replica-test", [
        { name: "fleet", permission: "VIEW_DASHBOARD", description: "events every replica shows" }
      ])
    )
  // A session lives in the shared database: one sign-in serves both replicas.
  admin = await loginAsAdmin(a.baseUrl)
}, 60_000)

afterAll(async () => {
  await a?.stop()
  await b?.stop()
  await proxy?.close()
})

const publish = (app: App, data: unknown, options?: PublishOptions) =>
  Effect.runPromise(Context.get(app.context, EventBus).publish("fleet", "moved", data, options))

const open = async (app: App, headers: Record<string, string> = {}) => {
  const stream = await openEventStream(app.baseUrl, "?topics=fleet", { cookie: admin.cookie, ...headers })
  const opening = await stream.next()
  return { stream, cursor: opening.id }
}

const payload = (data: unknown) => (data as { data: unknown }).data

/** Publishes on `from` until `stream` shows one of those events: the relay is up both ways. */
const relayUp = async (from: App, stream: EventStreamClient, timeoutMs = 15_000) => {
  const tag = `probe-${Math.random()}`
  const publishing = setInterval(() => void publish(from, tag), 200)
  try {
    return await stream.waitFor("a relayed probe", (f) => payload(f.data) === tag, timeoutMs)
  } finally {
    clearInterval(publishing)
  }
}

const metric = async (app: App, line: string): Promise<number> => {
  const text = await (await fetch(`${app.baseUrl}/metrics`)).text()
  const found = text.split("\n").find((l) => l.startsWith(`${line} `))
  return found === undefined ? 0 : Number(found.split(" ")[1])
}

describe("event relay between replicas", () => {
  it("delivers an event published on one replica to a stream on the other within 1 s", async () => {
    const { stream } = await open(b)
    try {
      await relayUp(a, stream)
      const started = performance.now()
      await publish(a, "local only", { replicate: false })
      const sent = await publish(a, { n: 1 })
      const frame = await stream.waitFor(
        "the relayed event",
        (f) => {
          if (payload(f.data) === "local only") throw new Error("an event published with replicate: false was relayed")
          // Probes still on their way are strings.
          return typeof payload(f.data) === "object"
        },
        1_000
      )
      expect(performance.now() - started).toBeLessThan(1_000)
      expect(frame.event).toBe("moved")
      expect(frame.data).toEqual({ topic: "fleet", type: "moved", data: { n: 1 }, at: sent.at })
      // Ids are per replica: the receiving one numbers the event itself.
      expect(frame.id).not.toBe(sent.id)
    } finally {
      await stream.close()
    }
  }, 30_000)

  it("while Redis is unreachable publishes at once and delivers locally; afterwards the other replica resets", async () => {
    const onA = await open(a)
    const onB = await open(b)
    try {
      const probe = await relayUp(a, onB.stream)
      await proxy.cut()

      const started = performance.now()
      const sent = await publish(a, { during: "outage" })
      expect(performance.now() - started).toBeLessThan(50)
      await onA.stream.waitFor("the local event", (f) => f.id === sent.id, 2_000)
      await waitFor(
        "the failed relay to be counted",
        async () =>
          (await metric(a, 'breakwater_event_relay_problems_total{problem="send_failed"}')) >= 1 ? true : undefined,
        { timeoutMs: 10_000, intervalMs: 100 }
      )

      // Once Redis answers again, replica B sees that an event of A's never arrived: its stream ends…
      await proxy.restore()
      const lastOnB = await relayUpOrEnd(onB.stream, probe.id)
      await onB.stream.ended(1_000)
      // …and the client's reconnect, with the last id it saw, is told to reset.
      const again = await openEventStream(b.baseUrl, "?topics=fleet", {
        cookie: admin.cookie,
        "last-event-id": lastOnB
      })
      try {
        expect((await again.next()).event).toBe("reset")
      } finally {
        await again.close()
      }
      expect(await metric(b, 'breakwater_event_relay_problems_total{problem="gap"}')).toBeGreaterThanOrEqual(1)
    } finally {
      await onA.stream.close()
      await onB.stream.close()
    }
  }, 60_000)
})

/**
 * Publishes on A every 200 ms until B's stream ends (B found the gap); the id of the last event
 * it showed before that.
 */
const relayUpOrEnd = async (stream: EventStreamClient, seen: string | undefined): Promise<string> => {
  let last = seen
  const publishing = setInterval(() => void publish(a, "after the outage"), 200)
  try {
    await stream.waitFor(
      "the stream to end",
      (f) => {
        last = f.id
        return false
      },
      20_000
    )
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith("the event stream ended"))) throw error
  } finally {
    clearInterval(publishing)
  }
  if (last === undefined) throw new Error("no event before the end")
  return last
}
