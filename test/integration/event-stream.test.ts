/**
 * `GET /api/v1/events/stream` through the whole application (real PostgreSQL and Redis): which
 * topics a caller sees (a viewer never sees one that needs VIEW_AUDIT; asking for it is a 403
 * naming it, audited; an unknown topic a 400), resumption after `Last-Event-ID` (exactly the
 * missed events, an explicit `reset` for an id older than the buffer), and the end of a stream
 * whose session signed out. Events are published through the application's own bus.
 */
import { Context, Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { EventBus, type PublishOptions } from "../../src/core/contracts/event-bus.ts"
import { type EventStreamClient, type Frame, openEventStream } from "../support/event-stream.ts"
import { loginAsAdmin, loginAsNewUser, type TestSession } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const BUFFER = 5
const testApp = useTestApp({ EVENT_REPLAY_BUFFER: String(BUFFER) })

let admin: TestSession
let viewer: TestSession & { readonly user: { readonly id: string } }

beforeAll(async () => {
  const bus = Context.get(testApp.app.context, EventBus)
  await Effect.runPromise(
    bus.declare("stream-test", [
      { name: "alpha", permission: "VIEW_DASHBOARD", description: "what every signed-in role may read" },
      { name: "beta", permission: "VIEW_DASHBOARD", description: "another topic anyone may read" },
      { name: "secret", permission: "VIEW_AUDIT", description: "what only auditors may read" }
    ])
  )
  admin = await loginAsAdmin(testApp.app.baseUrl)
  viewer = await loginAsNewUser(testApp.app, { email: "viewer@stream.local", role: "viewer" })
})

const publish = (topic: string, type: string, data: unknown, options?: PublishOptions) =>
  Effect.runPromise(Context.get(testApp.app.context, EventBus).publish(topic, type, data, options))

const open = (session: TestSession, query = "", headers: Record<string, string> = {}) =>
  openEventStream(testApp.app.baseUrl, query, { cookie: session.cookie, ...headers })

/** The next `n` event frames (the opening frame already read). */
const take = async (stream: EventStreamClient, n: number): Promise<ReadonlyArray<Frame>> => {
  const frames: Array<Frame> = []
  for (let i = 0; i < n; i++) frames.push(await stream.next())
  return frames
}

describe("topics and permissions", () => {
  it("streams a viewer every topic it may read and leaves out one that needs VIEW_AUDIT", async () => {
    const stream = await open(viewer)
    try {
      const ready = await stream.next()
      expect(ready.event).toBe("ready")
      expect(ready.retry).toBe(3000)
      const topics = (ready.data as { topics: ReadonlyArray<string> }).topics
      expect(topics).toContain("alpha")
      expect(topics).not.toContain("secret")
      await publish("secret", "found", { n: 1 })
      const shown = await publish("alpha", "created", { n: 2 })
      const frame = await stream.next()
      expect(frame).toEqual({
        id: shown.id,
        event: "created",
        retry: undefined,
        data: { topic: "alpha", type: "created", data: { n: 2 }, at: shown.at }
      })
    } finally {
      await stream.close()
    }
  })

  it("refuses a topic the caller may not read: 403 naming it and its permission, audited", async () => {
    const res = await viewer.fetch("/api/v1/events/stream?topics=alpha,secret", {
      headers: { "x-request-id": "topic-refused-1" }
    })
    expect(res.status).toBe(403)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe("forbidden")
    expect(body.error.message).toBe("the topic secret needs the permission VIEW_AUDIT")
    const rows = await testApp.query<{ actor_id: string; resource_type: string; resource_id: string; outcome: string }>(
      "SELECT actor_id, resource_type, resource_id, outcome FROM audit_log WHERE action = 'authz_denied' AND request_id = $1",
      ["topic-refused-1"]
    )
    expect(rows).toEqual([
      { actor_id: viewer.user.id, resource_type: "event_topic", resource_id: "secret", outcome: "denied" }
    ])
  })

  it("lets an administrator ask for that topic", async () => {
    const stream = await open(admin, "?topics=secret")
    try {
      expect((await stream.next()).data).toEqual({ topics: ["secret"] })
      await publish("secret", "found", { n: 3 })
      expect((await stream.next()).data).toMatchObject({ topic: "secret", data: { n: 3 } })
    } finally {
      await stream.close()
    }
  })

  it("answers 400 naming an unknown topic", async () => {
    const res = await viewer.fetch("/api/v1/events/stream?topics=alpha,nope")
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { message: string; issues: ReadonlyArray<{ path: string }> } }
    expect(body.error.message).toBe("unknown topic: nope")
    expect(body.error.issues[0]?.path).toBe("topics")
  })

  it("answers 401 without credentials", async () => {
    expect((await fetch(`${testApp.app.baseUrl}/api/v1/events/stream`)).status).toBe(401)
  })
})

describe("resumption", () => {
  it("resumes after Last-Event-ID with exactly the missed events of its topics, then live ones", async () => {
    const first = await open(admin, "?topics=alpha")
    const ready = await first.next()
    expect(ready.id).toMatch(/^[0-9a-f]+-\d+$/)
    await publish("alpha", "step", 1)
    await publish("alpha", "step", 2)
    const seen = await take(first, 2)
    await first.close()

    const missed = [await publish("alpha", "step", 3), await publish("beta", "other", "not asked for")]
    missed.push(await publish("alpha", "step", 4))
    const again = await open(admin, "?topics=alpha", { "last-event-id": seen[1]!.id! })
    try {
      const reopened = await again.next()
      // Resuming: the opening frame leaves the client's Last-Event-ID alone.
      expect([reopened.event, reopened.id]).toEqual(["ready", undefined])
      const replayed = await take(again, 2)
      expect(replayed.map((f) => [f.id, (f.data as { data: unknown }).data])).toEqual([
        [missed[0]!.id, 3],
        [missed[2]!.id, 4]
      ])
      const live = await publish("alpha", "step", 5)
      expect((await again.next()).id).toBe(live.id)
    } finally {
      await again.close()
    }
  })

  it("takes the id from the lastEventId query parameter when there is no header; the header wins", async () => {
    const before = await publish("alpha", "step", "before")
    const after = await publish("alpha", "step", "after")
    const byQuery = await open(admin, `?topics=alpha&lastEventId=${before.id}`)
    try {
      await byQuery.next()
      expect((await byQuery.next()).id).toBe(after.id)
    } finally {
      await byQuery.close()
    }
    const latest = await publish("alpha", "step", "latest")
    const both = await open(admin, `?topics=alpha&lastEventId=${before.id}`, { "last-event-id": after.id })
    try {
      await both.next()
      expect((await both.next()).id).toBe(latest.id)
    } finally {
      await both.close()
    }
  })

  it("loses nothing when a client reconnects before any event came: the opening frame's id resumes", async () => {
    const first = await open(admin, "?topics=beta")
    const cursor = (await first.next()).id
    await first.close()
    const meanwhile = await publish("beta", "quiet", "while away")
    const again = await open(admin, "?topics=beta", { "last-event-id": cursor! })
    try {
      expect((await again.next()).event).toBe("ready")
      expect((await again.next()).id).toBe(meanwhile.id)
    } finally {
      await again.close()
    }
  })

  it("sends an explicit reset for an id older than the buffer (or unknown), whose id then resumes", async () => {
    const old = await publish("alpha", "step", "old")
    for (let i = 0; i <= BUFFER; i++) await publish("beta", "filler", i)
    const stream = await open(admin, "?topics=alpha", { "last-event-id": old.id })
    const reset = await stream.next()
    expect(reset.event).toBe("reset")
    expect(reset.retry).toBe(3000)
    expect(reset.data).toEqual({ topics: ["alpha"] })
    expect(reset.id).toMatch(/^[0-9a-f]+-\d+$/)
    await stream.close()
    const next = await publish("alpha", "step", "after the reset")
    const resumed = await open(admin, "?topics=alpha", { "last-event-id": reset.id! })
    try {
      expect((await resumed.next()).event).toBe("ready")
      expect((await resumed.next()).id).toBe(next.id)
    } finally {
      await resumed.close()
    }
    const unknown = await open(admin, "?topics=alpha", { "last-event-id": "0123456789ab-1" })
    try {
      expect((await unknown.next()).event).toBe("reset")
    } finally {
      await unknown.close()
    }
  })
})

describe("a stream's life", () => {
  it("ends within 5 s of its session signing out", async () => {
    const user = await loginAsNewUser(testApp.app, { email: "signs-out@stream.local", role: "viewer" })
    const stream = await open(user, "?topics=alpha")
    await stream.next()
    const started = performance.now()
    await user.postForm("/logout")
    await stream.ended(8_000)
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it("is described in the OpenAPI document with its query, payloads and permission", async () => {
    const doc = (await (await fetch(`${testApp.app.baseUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, { get?: { "x-permission"?: string; parameters: ReadonlyArray<{ name: string }> } }>
    }
    const op = doc.paths["/api/v1/events/stream"]?.get
    expect(op?.["x-permission"]).toBe("VIEW_DASHBOARD")
    expect(op?.parameters.map((p) => p.name)).toEqual(["topics", "lastEventId"])
  })
})
