/**
 * Which processes optimise V8 for size: the embedded database (no DATABASE_URL) unless Node was
 * told `--no-optimize-for-size`. Only the decision is tested here (setting the flag would change
 * this test process' V8); the real processes' modes are asserted by embedded.test.ts and
 * process.test.ts through GET /api/v1/system.
 */
import { describe, expect, it } from "vitest"
import {
  memoryMode,
  optimizeForSizeWhenEmbedded,
  runsEmbedded,
  SPEED_FLAG
} from "../../src/core/runtime/memory-mode.ts"

describe("memory mode", () => {
  it("treats an unset or blank DATABASE_URL as the embedded database", () => {
    expect(runsEmbedded({})).toBe(true)
    expect(runsEmbedded({ DATABASE_URL: "  " })).toBe(true)
    expect(runsEmbedded({ DATABASE_URL: "postgres://127.0.0.1/db" })).toBe(false)
  })

  // Neither case sets a V8 flag, so they are safe in this process.
  it("leaves V8 alone with PostgreSQL, or when Node was told --no-optimize-for-size", () => {
    expect(optimizeForSizeWhenEmbedded({ DATABASE_URL: "postgres://127.0.0.1/db" }, [])).toBe("speed")
    expect(optimizeForSizeWhenEmbedded({}, [SPEED_FLAG])).toBe("speed")
    expect(optimizeForSizeWhenEmbedded({ NODE_OPTIONS: `--max-old-space-size=512 ${SPEED_FLAG}` }, [])).toBe("speed")
    expect(memoryMode()).toBe("speed")
  })
})
