import { describe, expect, it } from "vitest"
import { youngGenerationCapped, youngGenerationWarning } from "../../src/core/runtime/young-generation.ts"

describe("the young-generation cap check", () => {
  it("finds the flag on the command line or in NODE_OPTIONS", () => {
    expect(youngGenerationCapped(["--max-semi-space-size=8"], undefined)).toBe(true)
    expect(youngGenerationCapped([], "--enable-source-maps --max-semi-space-size=16")).toBe(true)
    expect(youngGenerationCapped(["--max-semi-space-size", "8"], "")).toBe(true)
  })

  it("warns, naming the flag and how to start, when it is missing", () => {
    expect(youngGenerationCapped(["--enable-source-maps"], "--max-old-space-size=4096")).toBe(false)
    const warning = youngGenerationWarning([], undefined)
    expect(warning).toContain("--max-semi-space-size")
    expect(warning).toContain("npm start")
    expect(youngGenerationWarning(["--max-semi-space-size=8"], undefined)).toBeUndefined()
  })
})
