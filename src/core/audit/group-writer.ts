/**
 * Group commit for standalone audit entries. Callers append to a plain array and suspend; a few
 * writer loops each take up to a group's worth, insert it with one statement, and resume every
 * caller of the group at once. No per-entry queue or promise objects: at tens of thousands of
 * entries a second the bookkeeping, not PostgreSQL, would otherwise be the limit.
 *
 * With nothing in flight a writer takes what waits at once (a lone entry is not delayed); while a
 * group commits, another writer starts only when `parallelFrom` entries wait. Otherwise free
 * writers would take tiny groups and the fixed cost of each commit would cap throughput.
 */
import { Effect } from "effect"
import type { AuditEntryInput } from "./entry.ts"

export interface Waiting {
  readonly entry: AuditEntryInput
  readonly enqueuedAt: number
  readonly resume: (effect: Effect.Effect<void, GroupWriteFailed>) => void
}

export interface GroupWriteFailed {
  readonly _tag: "GroupWriteFailed"
}

export interface GroupWriter {
  /** Appends an entry; the returned effect completes when its group has been written. */
  readonly submit: (entry: AuditEntryInput) => Effect.Effect<void, GroupWriteFailed>
  /** One writer loop: waits for entries, writes groups for ever. */
  readonly loop: (heartbeat: Effect.Effect<void>) => Effect.Effect<never, unknown>
  /** Writes whatever is still waiting (at shutdown). */
  readonly drain: Effect.Effect<void>
}

export const makeGroupWriter = (
  maxGroup: number,
  write: (group: ReadonlyArray<Waiting>) => Effect.Effect<boolean>,
  parallelFrom: number
): GroupWriter => {
  const waiting: Array<Waiting> = []
  const idleWriters: Array<() => void> = []
  let inFlight = 0
  const failed = Effect.fail<GroupWriteFailed>({ _tag: "GroupWriteFailed" })

  const ready = () => waiting.length > 0 && (inFlight === 0 || waiting.length >= parallelFrom)
  const wake = () => {
    if (ready()) idleWriters.shift()?.()
  }
  // The group is taken when the writer runs, not when it is woken: by then more have arrived.
  const take = Effect.sync(() => {
    const group = waiting.splice(0, maxGroup)
    if (group.length > 0) inFlight++
    return group
  })
  const nextGroup = Effect.callback<ReadonlyArray<Waiting>>((resume) => {
    if (ready()) return resume(take)
    idleWriters.push(() => resume(take))
  })

  const writeAndResume = (group: ReadonlyArray<Waiting>) =>
    Effect.map(write(group), (ok) => {
      inFlight--
      for (const w of group) w.resume(ok ? Effect.void : failed)
      wake()
    })

  return {
    submit: (entry) =>
      Effect.callback<void, GroupWriteFailed>((resume) => {
        waiting.push({ entry, enqueuedAt: performance.now(), resume })
        wake()
      }),
    loop: (heartbeat) =>
      nextGroup.pipe(
        Effect.flatMap((group) => (group.length === 0 ? Effect.void : writeAndResume(group))),
        Effect.andThen(heartbeat),
        Effect.forever
      ),
    drain: Effect.suspend(() => (waiting.length === 0 ? Effect.void : writeAndResume(waiting.splice(0))))
  }
}
