/**
 * The arithmetic of a per-key request limit over a sliding minute, using the sliding-window-counter
 * approximation: a key's count is this minute's requests plus last minute's, weighted by the part of
 * last minute still inside the window. Two numbers per key instead of a timestamp per request, and
 * exact whenever requests are spread evenly.
 *
 * Pure and synchronous, with the time passed in: the HTTP fast lane calls {@link SlidingWindow.take}
 * at tens of thousands of requests a second and cannot run an Effect. Sharing the counts between
 * replicas is the caller's: {@link SlidingWindow.drain} hands over what this process counted since the
 * last call, {@link SlidingWindow.settle} takes back the totals of every replica, and
 * {@link SlidingWindow.restore} puts the counts back when they could not be shared.
 */

export const WINDOW_MS = 60_000

/** A key's counts; fields are mutated in place, so a request allocates nothing. */
interface Entry {
  /** The window the counts are for: `floor(time / WINDOW_MS)`. */
  window: number
  /** Requests in `window`: every replica's as last shared, plus this process' since. */
  current: number
  /** Requests in `window − 1`, likewise. */
  previous: number
  /** This process' requests in `window` not yet handed to {@link SlidingWindow.drain}. */
  pending: number
  /** This process' requests in `window − 1` not yet handed over (counted just before a window turned). */
  pendingPrevious: number
}

/** What one key counted since the last drain, for the shared counters of two windows. */
export interface Drained {
  readonly key: string
  readonly window: number
  /** This process' new requests in `window`. */
  readonly current: number
  /** This process' new requests in `window − 1`. */
  readonly previous: number
}

export interface SlidingWindow {
  /**
   * Counts a request of `key` at `now` (ms) and answers `undefined`; or, when it would exceed the
   * limit, counts nothing (a client that backs off recovers) and answers the whole seconds to wait
   * (at least 1) until one more request fits. A limit of 0 allows everything and counts nothing.
   */
  readonly take: (key: string, now: number) => number | undefined
  /**
   * Moves every key to the window of `now`, forgets keys with no request in this or the last window,
   * and hands over (and clears) what this process counted since the last drain.
   */
  readonly drain: (now: number) => ReadonlyArray<Drained>
  /** Takes the totals of every replica for a drained key's two windows (counts taken since are added). */
  readonly settle: (drained: Drained, current: number, previous: number) => void
  /** Puts drained counts back, to be handed over again by the next drain. */
  readonly restore: (drained: Drained) => void
  /** Keys with counts in memory. */
  readonly size: () => number
}

/** Moves an entry forward to `window`: last window's counts become the previous ones, older ones go. */
const roll = (entry: Entry, window: number) => {
  if (window === entry.window + 1) {
    // Requests of the window just ended that were never handed over: a second's worth at most.
    entry.pendingPrevious = entry.pending
    entry.previous = entry.current
  } else {
    entry.pendingPrevious = 0
    entry.previous = 0
  }
  entry.window = window
  entry.current = 0
  entry.pending = 0
}

/**
 * Whole seconds from `now` until the estimate has room for one more request, if nothing else
 * arrives: either last window's share fades enough within this window, or (this window alone being
 * at the limit) this window's count, become the previous one, fades enough within the next.
 */
const secondsToWait = (entry: Entry, limit: number, now: number) => {
  const start = entry.window * WINDOW_MS
  const room = limit - 1 - entry.current
  const at =
    room >= 0
      ? start + (entry.previous > 0 ? (1 - room / entry.previous) * WINDOW_MS : 0)
      : start + WINDOW_MS + (1 - (limit - 1) / entry.current) * WINDOW_MS
  return Math.max(1, Math.ceil((at - now) / 1000))
}

export const makeSlidingWindow = (limit: number): SlidingWindow => {
  const entries = new Map<string, Entry>()

  const take = (key: string, now: number): number | undefined => {
    if (limit <= 0) return undefined
    const window = Math.floor(now / WINDOW_MS)
    let entry = entries.get(key)
    if (entry === undefined) {
      entry = { window, current: 0, previous: 0, pending: 0, pendingPrevious: 0 }
      entries.set(key, entry)
    } else if (window > entry.window) roll(entry, window)
    // A clock stepping back stays in the entry's window (elapsed counts from its start, at least 0).
    const elapsed = Math.max(0, now - entry.window * WINDOW_MS)
    const estimate = entry.previous * (1 - elapsed / WINDOW_MS) + entry.current
    if (estimate + 1 > limit) return secondsToWait(entry, limit, now)
    entry.current++
    entry.pending++
    return undefined
  }

  const drain = (now: number): ReadonlyArray<Drained> => {
    const window = Math.floor(now / WINDOW_MS)
    const out: Array<Drained> = []
    for (const [key, entry] of entries) {
      if (window > entry.window) roll(entry, window)
      if (entry.current === 0 && entry.previous === 0 && entry.pending === 0 && entry.pendingPrevious === 0) {
        entries.delete(key)
        continue
      }
      out.push({ key, window: entry.window, current: entry.pending, previous: entry.pendingPrevious })
      entry.pending = 0
      entry.pendingPrevious = 0
    }
    return out
  }

  const settle = (drained: Drained, current: number, previous: number) => {
    const entry = entries.get(drained.key)
    if (entry === undefined) return
    if (entry.window === drained.window) {
      entry.current = current + entry.pending
      entry.previous = previous + entry.pendingPrevious
    } else if (entry.window === drained.window + 1) {
      // The window turned while the totals were on their way: `current` is now the previous one.
      entry.previous = current + entry.pendingPrevious
    }
  }

  const restore = (drained: Drained) => {
    const entry = entries.get(drained.key)
    if (entry === undefined) return
    if (entry.window === drained.window) {
      entry.pending += drained.current
      entry.pendingPrevious += drained.previous
    } else if (entry.window === drained.window + 1) entry.pendingPrevious += drained.current
  }

  return { take, drain, settle, restore, size: () => entries.size }
}
