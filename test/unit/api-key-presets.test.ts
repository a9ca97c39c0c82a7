/** The API key presets (src/plugins/api-keys/presets.ts): built from what is installed and grantable. */
import { describe, expect, it } from "vitest"
import type { DeclaredPermission } from "../../src/core/auth/permissions.ts"
import { presetsFor } from "../../src/plugins/api-keys/presets.ts"

const declared = (...names: ReadonlyArray<string>): ReadonlyArray<DeclaredPermission> =>
  names.map((name) => ({ name, description: name, roles: [], module: "m" }))

const all = declared("VIEW_DASHBOARD", "VIEW_AUDIT", "VIEW_CIRCUIT_BREAKER", "TRIP_CIRCUIT_BREAKER", "MANAGE_USERS")

describe("API key presets", () => {
  it("offers each preset with the permissions it is built from", () => {
    const presets = presetsFor(all, new Set(all.map((p) => p.name)))
    expect(presets.map((p) => [p.label, p.permissions])).toEqual([
      ["Execution service: read breaker", ["VIEW_CIRCUIT_BREAKER"]],
      ["Trading desk automation: trip breaker", ["VIEW_CIRCUIT_BREAKER", "TRIP_CIRCUIT_BREAKER"]],
      ["Monitoring: read everything", ["VIEW_DASHBOARD", "VIEW_AUDIT", "VIEW_CIRCUIT_BREAKER"]]
    ])
  })

  it("offers no breaker preset when the breaker is not installed", () => {
    const noBreaker = declared("VIEW_DASHBOARD", "VIEW_AUDIT", "MANAGE_USERS")
    expect(presetsFor(noBreaker, new Set(noBreaker.map((p) => p.name))).map((p) => p.id)).toEqual([
      "monitoring-read-all"
    ])
  })

  it("offers only presets whose every permission the user may grant", () => {
    const presets = presetsFor(all, new Set(["VIEW_DASHBOARD", "VIEW_CIRCUIT_BREAKER"]))
    expect(presets.map((p) => p.id)).toEqual(["execution-read-breaker"])
  })
})
