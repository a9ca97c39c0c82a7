/**
 * The sliding-window arithmetic of the per-key API rate limit, with explicit times: the limit, the
 * wait it answers, the window sliding, refusals not counting, `0` = off, and the hand-over of counts
 * to the shared counters (drain, settle, restore) that lets replicas share one budget.
 */
import { describe, expect, it } from "vitest"
import { makeSlidingWindow, WINDOW_MS } from "../../src/core/auth/sliding-window.ts"

/** A time `seconds` into minute `minute` (minute 1000 since the epoch: a window boundary). */
const at = (minute: number, seconds = 0) => (1000 + minute) * WINDOW_MS + seconds * 1000

/** Takes `n` requests of `key` at `now`; the answers of those refused. */
const takeMany = (limiter: ReturnType<typeof makeSlidingWindow>, key: string, n: number, now: number) => {
  const refused: Array<number> = []
  for (let i = 0; i < n; i++) {
    const wait = limiter.take(key, now)
    if (wait !== undefined) refused.push(wait)
  }
  return refused
}

describe("sliding window", () => {
  it("allows the limit within a minute, then refuses with the seconds until the next request fits", () => {
    const limiter = makeSlidingWindow(10)
    expect(takeMany(limiter, "k", 10, at(0, 30))).toEqual([])
    // This minute alone is at the limit: wait until its count, become last minute's, has faded to
    // 9 of 10: 10 × (1 − f) ≤ 9 at f = 0.1, i.e. 6 s into the next minute, 36 s from now.
    expect(limiter.take("k", at(0, 30))).toBe(36)
    expect(limiter.take("k", at(0, 59.5))).toBe(7)
  })

  it("slides: last minute's requests count by the part of it still inside the window", () => {
    const limiter = makeSlidingWindow(10)
    expect(takeMany(limiter, "k", 10, at(0, 50))).toEqual([])
    // 5.9 s into the next minute the window still holds 10 × 0.902 = 9.02 of last minute's.
    expect(limiter.take("k", at(1, 5.9))).toBe(1)
    // At 6 s, 9 remain: one more fits, and then none.
    expect(limiter.take("k", at(1, 6))).toBeUndefined()
    // 9 + 1 = 10: the next needs last minute's share below 8, i.e. 12 s in, 6 s from now.
    expect(limiter.take("k", at(1, 6))).toBe(6)
    // Halfway through, last minute's 10 count as 5: 5 + 1 + 4 = 10.
    expect(takeMany(limiter, "k", 5, at(1, 30))).toHaveLength(1)
    // Two minutes on, the first minute has left the window entirely.
    expect(takeMany(limiter, "k", 10, at(3, 0))).toEqual([])
  })

  it("does not count refused requests: a client that backs off recovers", () => {
    const limiter = makeSlidingWindow(5)
    takeMany(limiter, "k", 5, at(0, 0))
    // A flood of refusals changes nothing...
    expect(takeMany(limiter, "k", 1000, at(0, 10))).toHaveLength(1000)
    // ...so the wait it was told holds: 5 × (1 − f) ≤ 4 at f = 0.2, 12 s into the next minute.
    const wait = limiter.take("k", at(0, 59)) ?? 0
    expect(wait).toBe(13)
    expect(limiter.take("k", at(0, 59 + wait))).toBeUndefined()
  })

  it("keeps keys apart", () => {
    const limiter = makeSlidingWindow(3)
    expect(takeMany(limiter, "a", 4, at(0))).toHaveLength(1)
    expect(takeMany(limiter, "b", 3, at(0))).toEqual([])
  })

  it("answers a wait of at least one second, never zero", () => {
    const limiter = makeSlidingWindow(1)
    expect(limiter.take("k", at(0, 0))).toBeUndefined()
    // A limit of 1: the request fits again once last minute's one has faded to nothing.
    expect(limiter.take("k", at(1, 59.9))).toBe(1)
    expect(limiter.take("k", at(2, 0))).toBeUndefined()
  })

  it("with a limit of 0 allows everything and keeps nothing", () => {
    const limiter = makeSlidingWindow(0)
    expect(takeMany(limiter, "k", 100_000, at(0))).toEqual([])
    expect(limiter.size()).toBe(0)
    expect(limiter.drain(at(0))).toEqual([])
  })

  it("stays in its window when the clock steps back", () => {
    const limiter = makeSlidingWindow(2)
    takeMany(limiter, "k", 2, at(1, 0))
    // Measured from the entry's minute: 2 × (1 − f) ≤ 1 at f = 0.5 of the minute after it, 100 s away.
    expect(limiter.take("k", at(0, 50))).toBe(100)
  })
})

describe("sliding window sharing", () => {
  it("hands over each key's new requests once, and forgets keys idle for two windows", () => {
    const limiter = makeSlidingWindow(100)
    takeMany(limiter, "a", 3, at(0, 10))
    takeMany(limiter, "b", 1, at(0, 20))
    expect(limiter.drain(at(0, 30))).toEqual([
      { key: "a", window: 1000, current: 3, previous: 0 },
      { key: "b", window: 1000, current: 1, previous: 0 }
    ])
    expect(limiter.drain(at(0, 31))).toEqual([
      { key: "a", window: 1000, current: 0, previous: 0 },
      { key: "b", window: 1000, current: 0, previous: 0 }
    ])
    // Requests just before the minute turned are handed over as last minute's.
    takeMany(limiter, "a", 2, at(0, 59.9))
    expect(limiter.drain(at(1, 0.5))).toEqual([
      { key: "a", window: 1001, current: 0, previous: 2 },
      { key: "b", window: 1001, current: 0, previous: 0 }
    ])
    expect(limiter.size()).toBe(2)
    expect(limiter.drain(at(2, 0.5))).toEqual([])
    expect(limiter.size()).toBe(0)
  })

  it("takes every replica's totals, keeping its own requests made meanwhile", () => {
    const limiter = makeSlidingWindow(10)
    takeMany(limiter, "k", 2, at(0, 10))
    const [drained] = limiter.drain(at(0, 11))
    // While the counts were on their way, one more request here.
    takeMany(limiter, "k", 1, at(0, 11.5))
    // The shared counters: our 2 plus another replica's 6 this minute, 4 last minute.
    if (drained !== undefined) limiter.settle(drained, 8, 4)
    // 4 × 0.8 + 8 + 1 = 12.2 > 10.
    expect(limiter.take("k", at(0, 12))).toBeDefined()
    // The request made meanwhile is still to be handed over.
    expect(limiter.drain(at(0, 12))).toEqual([{ key: "k", window: 1000, current: 1, previous: 0 }])
  })

  it("settles totals that arrive after the minute turned as last minute's", () => {
    const limiter = makeSlidingWindow(10)
    takeMany(limiter, "k", 1, at(0, 59.5))
    const [drained] = limiter.drain(at(0, 59.6))
    takeMany(limiter, "k", 1, at(1, 0.1))
    if (drained !== undefined) limiter.settle(drained, 9, 0)
    // Nearly all of last minute's 9 + this minute's 1: full.
    expect(limiter.take("k", at(1, 0.2))).toBeDefined()
  })

  it("puts counts back when they could not be shared, to hand them over next time", () => {
    const limiter = makeSlidingWindow(10)
    takeMany(limiter, "k", 3, at(0, 10))
    const drained = limiter.drain(at(0, 11))
    for (const d of drained) limiter.restore(d)
    takeMany(limiter, "k", 1, at(0, 12))
    expect(limiter.drain(at(0, 13))).toEqual([{ key: "k", window: 1000, current: 4, previous: 0 }])
    // Counts restored after the minute turned are last minute's.
    takeMany(limiter, "k", 2, at(0, 50))
    const late = limiter.drain(at(0, 51))
    takeMany(limiter, "k", 1, at(1, 1))
    for (const d of late) limiter.restore(d)
    expect(limiter.drain(at(1, 2))).toEqual([{ key: "k", window: 1001, current: 1, previous: 2 }])
  })
})
