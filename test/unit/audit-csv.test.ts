import { describe, expect, it } from "vitest"
import { csvCell, csvLine } from "../../src/plugins/audit-log/csv.ts"

describe("audit CSV", () => {
  it("quotes cells with commas, quotes and line breaks (RFC 4180)", () => {
    expect(csvCell("plain")).toBe("plain")
    expect(csvCell('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"')
    expect(csvCell(null)).toBe("")
    expect(csvLine(["a", null, "b,c"])).toBe('a,,"b,c"\r\n')
  })

  it("defuses cells a spreadsheet would run as formulas", () => {
    for (const evil of ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx"])
      expect(csvCell(evil).replace(/^"/, "")).toMatch(/^'/)
    expect(csvCell("a=b")).toBe("a=b")
  })
})
