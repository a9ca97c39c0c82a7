/**
 * On the embedded database (no `DATABASE_URL`: the Quick start, a small installation) the server
 * tells V8 to optimise for size: under the console benchmark's load it kept the V8 heap at
 * 55–67 MiB instead of 115–203 MiB, resident memory after the load at 433–477 MiB instead of
 * 555–604 MiB, at the cost of some latency (console pages' p95 in the ≤ 100 ms bucket instead of
 * ≤ 50 ms). With PostgreSQL (production) V8 keeps its defaults: the breaker's latency figures are
 * measured there (ADR 0023).
 */
import { setFlagsFromString } from "node:v8"

export const SIZE_FLAG = "--optimize-for-size"
/** An operator who wants V8's defaults on the embedded database too passes this to Node. */
export const SPEED_FLAG = "--no-optimize-for-size"

/** Whether this environment runs on the embedded database. */
export const runsEmbedded = (env: Readonly<Record<string, string | undefined>>): boolean =>
  (env.DATABASE_URL ?? "").trim() === ""

/** What this process told V8: `size` on the embedded database, `speed` (V8's defaults) otherwise. */
export type MemoryMode = "size" | "speed"

let mode: MemoryMode = "speed"

/** The mode set at start (`speed` in a process that never called {@link optimizeForSizeWhenEmbedded}). */
export const memoryMode = (): MemoryMode => mode

/**
 * Sets the flag for the embedded database, unless Node was started with {@link SPEED_FLAG} (on its
 * command line or in `NODE_OPTIONS`). Call before the application loads.
 */
export const optimizeForSizeWhenEmbedded = (
  env: Readonly<Record<string, string | undefined>>,
  execArgv: ReadonlyArray<string> = process.execArgv
): MemoryMode => {
  const optedOut = [...execArgv, ...(env.NODE_OPTIONS ?? "").split(/\s+/)].includes(SPEED_FLAG)
  if (runsEmbedded(env) && !optedOut) {
    setFlagsFromString(SIZE_FLAG)
    mode = "size"
  }
  return mode
}
