/**
 * The README's configuration table and `variables` in src/core/config.ts must agree: every
 * variable has a row (`| \`NAME\` | default | meaning |`) with the same default, and the table
 * lists nothing else. An undefined default is written `unset`, an empty one `empty`.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { variables } from "../../src/core/config.ts"

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")

/** The text of the `## Configuration` section, up to the next `## ` heading. */
const configurationSection = (text: string): string => {
  const start = text.search(/^## Configuration\s*$/m)
  if (start === -1) throw new Error("README.md has no '## Configuration' section")
  const rest = text.slice(start + "## Configuration".length)
  const end = rest.search(/^## /m)
  return end === -1 ? rest : rest.slice(0, end)
}

/** Variable name → default cell, for every row that starts with a code-quoted name. */
const tableRows = (section: string): Map<string, string> => {
  const rows = new Map<string, string>()
  for (const line of section.split("\n")) {
    const match = /^\|\s*`([^`]+)`\s*\|([^|]*)\|/.exec(line)
    if (match === null) continue
    const name = match[1]!
    if (rows.has(name)) throw new Error(`README.md lists ${name} twice`)
    rows.set(name, match[2]!.trim())
  }
  return rows
}

/** How the README writes a default. */
const expectedCell = (value: string | undefined): string =>
  value === undefined ? "unset" : value === "" ? "empty" : `\`${value}\``

const rows = tableRows(configurationSection(readme))

describe("README configuration table", () => {
  it.each(variables.map((v) => [v.name, v] as const))("lists %s with its default", (name, spec) => {
    expect(rows.has(name), `README.md has no row starting with | \`${name}\``).toBe(true)
    expect(rows.get(name), `default of ${name}`).toBe(expectedCell(spec.default))
  })

  it("lists no variable that the configuration does not read", () => {
    const known = new Set(variables.map((v) => v.name))
    expect([...rows.keys()].filter((name) => !known.has(name))).toEqual([])
  })
})
