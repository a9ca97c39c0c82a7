/**
 * The bus's memory of recent events, and the ids that point into it. An id is
 * `<epoch>-<position>`: the position counts every event this process delivered (its own and
 * those relayed from other replicas) from 1 within an epoch; the epoch is random, new at every
 * start and after every gap in the relay. So an id resumes exactly on the process that gave it,
 * while its epoch lasts and its position is still buffered; any other id (another replica's, one
 * from before a restart or a gap, one evicted, a malformed one) asks the client to reset. Pure:
 * no clock, no effects; the epoch source is passed in.
 */
import type { BusEvent } from "../contracts/event-bus.ts"

const ID = /^([0-9a-f]{1,32})-(0|[1-9][0-9]{0,15})$/

export interface EventPosition {
  readonly epoch: string
  readonly position: number
}

export const formatEventId = (epoch: string, position: number): string => `${epoch}-${position}`

/** The epoch and position of an id this module formats; `undefined` for anything else. */
export const parseEventId = (id: string): EventPosition | undefined => {
  const match = ID.exec(id)
  if (match === null) return undefined
  const position = Number(match[2])
  return Number.isSafeInteger(position) ? { epoch: match[1]!, position } : undefined
}

export interface ReplayBuffer {
  /** The id the next event gets. */
  readonly nextId: () => string
  /** Keeps an event whose id is {@link ReplayBuffer.nextId}; beyond the capacity the oldest is forgotten. */
  readonly append: (event: BusEvent) => void
  /** The id of the newest event, or `<epoch>-0` when this epoch has none yet. */
  readonly cursor: () => string
  /** The events after `id`, oldest first, or `"reset"` when it does not point into this buffer. */
  readonly after: (id: string) => ReadonlyArray<BusEvent> | "reset"
  /** Starts a new epoch, forgetting every event: no id given before resumes any more. */
  readonly restart: () => void
  readonly size: () => number
}

export const makeReplayBuffer = (capacity: number, newEpoch: () => string): ReplayBuffer => {
  if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`replay capacity ${capacity}`)
  let epoch = newEpoch()
  // Slot `position % capacity` holds the event at `position`, for the last `size` positions.
  let ring: Array<BusEvent | undefined> = []
  let head = 0
  let size = 0
  return {
    nextId: () => formatEventId(epoch, head + 1),
    append: (event) => {
      if (event.id !== formatEventId(epoch, head + 1)) throw new Error(`event ${event.id} is not the next one`)
      head += 1
      ring[head % capacity] = event
      size = Math.min(size + 1, capacity)
    },
    cursor: () => formatEventId(epoch, head),
    after: (id) => {
      const parsed = parseEventId(id)
      // Position p resumes when every event after it is still here: head - size <= p <= head.
      if (parsed === undefined || parsed.epoch !== epoch || parsed.position > head || parsed.position < head - size)
        return "reset"
      const out: Array<BusEvent> = []
      for (let p = parsed.position + 1; p <= head; p++) out.push(ring[p % capacity]!)
      return out
    },
    restart: () => {
      epoch = newEpoch()
      ring = []
      head = 0
      size = 0
    },
    size: () => size
  }
}
