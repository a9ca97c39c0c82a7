/**
 * The size of V8's young generation decides how long the collections that interrupt request
 * handling last. Left to V8 it grows to 64 MB semi-spaces on a machine with much memory, and each
 * scavenge then copies megabytes of survivors: 5–15 ms pauses, longer than a whole trip. Capped at
 * 8 MB they stay near 2 ms (ADR 0013). The cap is a Node flag, so it must be on the command line
 * (`npm start` and the `breakwater` command pass it) or in NODE_OPTIONS.
 */
export const YOUNG_GENERATION_FLAG = "--max-semi-space-size"
export const YOUNG_GENERATION_MB = 8

/** Whether the process was started with a young-generation cap, on its command line or in NODE_OPTIONS. */
export const youngGenerationCapped = (execArgv: ReadonlyArray<string>, nodeOptions: string | undefined): boolean =>
  [...execArgv, ...(nodeOptions ?? "").split(/\s+/)].some(
    (arg) => arg.startsWith(`${YOUNG_GENERATION_FLAG}=`) || arg === YOUNG_GENERATION_FLAG
  )

/** The warning for a server started without the cap, or undefined when it has one. */
export const youngGenerationWarning = (
  execArgv: ReadonlyArray<string> = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS
): string | undefined =>
  youngGenerationCapped(execArgv, nodeOptions)
    ? undefined
    : `started without ${YOUNG_GENERATION_FLAG}: garbage collection may pause request handling for 5-15 ms at a time ` +
      `(a breaker trip normally takes 2-3 ms). Start it with \`npm start\`, \`npx breakwater\`, or ` +
      `\`node ${YOUNG_GENERATION_FLAG}=${YOUNG_GENERATION_MB} src/main.ts\` (docs/ADRs/0013-young-generation-size.md).`
