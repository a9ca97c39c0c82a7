/**
 * The event bus's pure parts: ids and the replay buffer (what resumes, what resets), the topic
 * registry's refusals, the stream's topic selection and its framing.
 */
import { describe, expect, it } from "vitest"
import type { BusEvent, TopicSpec } from "../../src/core/contracts/event-bus.ts"
import { eventFrame, KEEP_ALIVE_FRAME, openingFrame } from "../../src/core/events/frames.ts"
import { formatEventId, makeReplayBuffer, parseEventId } from "../../src/core/events/replay-buffer.ts"
import { selectTopics, topicNames } from "../../src/core/events/selection.ts"
import { makeTopicRegistry } from "../../src/core/events/topics.ts"

const epochs = (...names: Array<string>) => {
  let i = 0
  return () => names[i++] ?? `e${i}`
}

/** Appends `n` events on topic `t`, as the bus does: the id first, then the event. */
const fill = (buffer: ReturnType<typeof makeReplayBuffer>, n: number, topic = "t") => {
  const out: Array<BusEvent> = []
  for (let i = 0; i < n; i++) {
    const event = { id: buffer.nextId(), topic, type: "x", data: { i }, at: i }
    buffer.append(event)
    out.push(event)
  }
  return out
}

const ids = (found: ReadonlyArray<BusEvent> | "reset") => (found === "reset" ? "reset" : found.map((e) => e.id))

describe("event ids", () => {
  it("are <epoch>-<position> and parse back; anything else does not parse", () => {
    expect(formatEventId("a1", 7)).toBe("a1-7")
    expect(parseEventId("a1-7")).toEqual({ epoch: "a1", position: 7 })
    expect(parseEventId("a1-0")).toEqual({ epoch: "a1", position: 0 })
    for (const bad of [
      "",
      "a1",
      "a1-",
      "-7",
      "a1-07",
      "a1--7",
      "A1-7",
      "a1-7 ",
      "g1-7",
      "a1-99999999999999999",
      "a1-1e3"
    ])
      expect(parseEventId(bad), bad).toBeUndefined()
  })
})

describe("replay buffer", () => {
  it("numbers events from 1 within an epoch; the cursor is the newest id, or <epoch>-0", () => {
    const buffer = makeReplayBuffer(10, epochs("aa"))
    expect(buffer.cursor()).toBe("aa-0")
    expect(fill(buffer, 3).map((e) => e.id)).toEqual(["aa-1", "aa-2", "aa-3"])
    expect(buffer.cursor()).toBe("aa-3")
  })

  it("answers exactly the events after an id, oldest first (none after the newest)", () => {
    const buffer = makeReplayBuffer(10, epochs("aa"))
    fill(buffer, 5)
    expect(ids(buffer.after("aa-2"))).toEqual(["aa-3", "aa-4", "aa-5"])
    expect(ids(buffer.after("aa-5"))).toEqual([])
    expect(ids(buffer.after("aa-0"))).toEqual(["aa-1", "aa-2", "aa-3", "aa-4", "aa-5"])
  })

  it("resumes from just before the oldest kept event, and resets from anything older", () => {
    const buffer = makeReplayBuffer(3, epochs("aa"))
    fill(buffer, 5) // keeps aa-3 … aa-5
    expect(buffer.size()).toBe(3)
    expect(ids(buffer.after("aa-2"))).toEqual(["aa-3", "aa-4", "aa-5"])
    expect(buffer.after("aa-1")).toBe("reset")
    expect(buffer.after("aa-0")).toBe("reset")
  })

  it("resets an id of another epoch (another replica, a restart), from the future, or malformed", () => {
    const buffer = makeReplayBuffer(10, epochs("aa"))
    fill(buffer, 2)
    expect(buffer.after("bb-1")).toBe("reset")
    expect(buffer.after("aa-3")).toBe("reset")
    expect(buffer.after("nonsense")).toBe("reset")
  })

  it("forgets every id of the old epoch on restart", () => {
    const buffer = makeReplayBuffer(10, epochs("aa", "bb"))
    fill(buffer, 3)
    buffer.restart()
    expect(buffer.cursor()).toBe("bb-0")
    expect(buffer.after("aa-3")).toBe("reset")
    expect(fill(buffer, 1).map((e) => e.id)).toEqual(["bb-1"])
    expect(ids(buffer.after("bb-0"))).toEqual(["bb-1"])
  })

  it("keeps exactly its capacity over many wraps", () => {
    const buffer = makeReplayBuffer(4, epochs("aa"))
    fill(buffer, 1001)
    expect(ids(buffer.after("aa-997"))).toEqual(["aa-998", "aa-999", "aa-1000", "aa-1001"])
    expect(buffer.after("aa-996")).toBe("reset")
  })

  it("refuses an event that does not carry the next id", () => {
    const buffer = makeReplayBuffer(4, epochs("aa"))
    expect(() => buffer.append({ id: "aa-2", topic: "t", type: "x", data: null, at: 0 })).toThrow(/not the next/)
  })
})

const spec = (name: string, permission = "VIEW_DASHBOARD"): TopicSpec => ({
  name,
  permission,
  description: `the ${name} topic`
})
const known = new Set(["VIEW_DASHBOARD", "VIEW_AUDIT"])
const isKnown = (value: unknown) => typeof value === "string" && known.has(value)

describe("topic registry", () => {
  it("refuses a malformed name", () => {
    const registry = makeTopicRegistry(isKnown)
    for (const name of ["", "Breaker", "1abc", "a b", "a".repeat(33), "brëaker", "a.b"])
      expect(registry.declare("m", [spec(name)]), name).toMatch(/declares the topic/)
    expect(registry.declare("m", [spec("a".repeat(32)), spec("a_b-1")])).toBeUndefined()
  })

  it("refuses a duplicate, naming both modules, and adds nothing of a refused declaration", () => {
    const registry = makeTopicRegistry(isKnown)
    expect(registry.declare("circuit-breaker", [spec("breaker")])).toBeUndefined()
    expect(registry.declare("other", [spec("fresh"), spec("breaker")])).toBe(
      "topic breaker is declared by both circuit-breaker and other"
    )
    expect(registry.get("fresh")).toBeUndefined()
    expect(registry.declare("twice", [spec("x"), spec("x")])).toBe("module twice declares the topic x twice")
  })

  it("refuses a permission no module declares, and an empty description", () => {
    const registry = makeTopicRegistry(isKnown)
    expect(registry.declare("m", [spec("t", "VIEW_NOTHING")])).toMatch(
      /VIEW_NOTHING, which no installed module declares/
    )
    expect(registry.declare("m", [{ ...spec("t"), description: " " }])).toMatch(/without a description/)
  })

  it("lists topics by name with their module", () => {
    const registry = makeTopicRegistry(isKnown)
    registry.declare("b", [spec("zeta")])
    registry.declare("a", [spec("alpha", "VIEW_AUDIT")])
    expect(registry.all().map((t) => [t.name, t.module, t.permission])).toEqual([
      ["alpha", "a", "VIEW_AUDIT"],
      ["zeta", "b", "VIEW_DASHBOARD"]
    ])
  })
})

describe("topic selection", () => {
  const declared = [spec("breaker"), spec("audit", "VIEW_AUDIT"), spec("settings")]
  const viewer = (p: string) => p === "VIEW_DASHBOARD"

  it("parses a comma-separated list: trimmed, without empties or repeats", () => {
    expect(topicNames(undefined)).toEqual([])
    expect(topicNames(" , ,")).toEqual([])
    expect(topicNames(" breaker ,settings,,breaker")).toEqual(["breaker", "settings"])
  })

  it("serves every readable topic when none is named", () => {
    const chosen = selectTopics(undefined, declared, viewer)
    expect(chosen._tag === "Topics" && chosen.topics.map((t) => t.name)).toEqual(["breaker", "settings"])
  })

  it("serves the named topics the caller may read", () => {
    const chosen = selectTopics("settings,breaker", declared, viewer)
    expect(chosen._tag === "Topics" && chosen.topics.map((t) => t.name)).toEqual(["settings", "breaker"])
  })

  it("names unknown topics first, then topics the caller may not read", () => {
    expect(selectTopics("breaker,nope,audit,gone", declared, viewer)).toEqual({
      _tag: "Unknown",
      names: ["nope", "gone"]
    })
    const refused = selectTopics("breaker,audit", declared, viewer)
    expect(refused._tag === "Forbidden" && refused.topics.map((t) => t.name)).toEqual(["audit"])
  })
})

describe("stream frames", () => {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

  it("frames an event as id, type and one data line of {topic,type,data,at}, encoded once", () => {
    const event: BusEvent = { id: "aa-3", topic: "breaker", type: "transition", data: { text: "a\nb" }, at: 42 }
    const bytes = eventFrame(event)
    expect(decode(bytes)).toBe(
      'id: aa-3\nevent: transition\ndata: {"topic":"breaker","type":"transition","data":{"text":"a\\nb"},"at":42}\n\n'
    )
    expect(eventFrame(event)).toBe(bytes)
  })

  it("throws for data JSON cannot carry", () => {
    expect(() => eventFrame({ id: "aa-1", topic: "t", type: "x", data: { n: 1n }, at: 0 })).toThrow()
  })

  it("opens with the retry delay, ready or reset, the topics, and the cursor when given", () => {
    expect(decode(openingFrame("ready", ["a", "b"], "aa-0"))).toBe(
      'retry: 3000\nid: aa-0\nevent: ready\ndata: {"topics":["a","b"]}\n\n'
    )
    expect(decode(openingFrame("ready", [], undefined))).toBe('retry: 3000\nevent: ready\ndata: {"topics":[]}\n\n')
    expect(decode(openingFrame("reset", ["a"], "bb-9"))).toContain("id: bb-9\nevent: reset\n")
    expect(decode(KEEP_ALIVE_FRAME)).toBe(": keep-alive\n\n")
  })
})
