/**
 * Waiting in real time inside an Effect test, whatever clock the test runs on (a TestClock does
 * not move by itself): for fibers and databases that work on their own time.
 */
import { Effect } from "effect"

/** Sleeps in real time. */
export const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

/** Waits, in real time, until `check` holds; dies naming `what` after `timeoutMs`. */
export const eventually = (what: string, check: Effect.Effect<boolean>, timeoutMs = 10_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (!(yield* check)) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* realSleep(10)
    }
  })
