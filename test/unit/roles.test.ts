/**
 * The role → permission table as the installed modules declare it: exactly what the concepts page
 * says, and the registry's refusals (a duplicate or malformed permission stops the start).
 */
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { type Permission, Permissions } from "../../src/core/auth/permissions.ts"
import { isRole, type Role, roles } from "../../src/core/auth/roles.ts"
import { modules } from "../../src/modules.ts"

const viewer: ReadonlyArray<Permission> = ["VIEW_DASHBOARD", "VIEW_CIRCUIT_BREAKER"]
const operatorExtra: ReadonlyArray<Permission> = ["TRIP_CIRCUIT_BREAKER", "RESET_CIRCUIT_BREAKER", "VIEW_AUDIT"]
const adminOnly: ReadonlyArray<Permission> = [
  "MANAGE_USERS",
  "MANAGE_API_KEYS",
  "MANAGE_SYSTEM_CONFIG",
  "PROFILE_SYSTEM"
]

/** The registry after every installed module declared its permissions, as at start. */
const installed = Effect.gen(function* () {
  const registry = yield* Permissions
  for (const m of modules) yield* registry.declare(m.name, m.permissions)
  return registry
}).pipe(Effect.provide(Permissions.layer))

const ofRole = (role: Role) => Effect.runSync(Effect.map(installed, (r) => [...r.ofRole(role)].sort()))

describe("roles", () => {
  it("viewer sees, and changes nothing", () => {
    expect(ofRole("viewer")).toEqual([...viewer].sort())
  })

  it("operator is viewer plus the operational changes and the audit log", () => {
    expect(ofRole("operator")).toEqual([...viewer, ...operatorExtra].sort())
  })

  it("admin holds every permission of the installed modules, and no other", () => {
    expect(ofRole("admin")).toEqual([...viewer, ...operatorExtra, ...adminOnly].sort())
    expect(Effect.runSync(Effect.map(installed, (r) => r.isPermission("VIEW_HEALTH")))).toBe(false)
  })

  it("no role but admin manages users, API keys or the system configuration", () => {
    for (const role of roles.filter((r) => r !== "admin"))
      for (const p of adminOnly) expect(ofRole(role).includes(p), `${role} ${p}`).toBe(false)
  })

  it("every role that may see the Admin entry may open /admin (which needs VIEW_AUDIT)", () => {
    for (const role of roles) {
      const held = ofRole(role)
      const seesEntry = ["MANAGE_API_KEYS", "MANAGE_SYSTEM_CONFIG", "VIEW_AUDIT"].some((p) => held.includes(p))
      expect(seesEntry ? held.includes("VIEW_AUDIT") : true, role).toBe(true)
    }
  })

  it("refuses a permission declared twice, naming both modules, and a malformed name", () => {
    const twice = Effect.runSyncExit(
      Effect.gen(function* () {
        const registry = yield* installed
        yield* registry.declare("alerts", [{ name: "TRIP_CIRCUIT_BREAKER", description: "x", roles: [] }])
      })
    )
    expect(Exit.isFailure(twice) && String(twice.cause)).toContain("declared by both circuit-breaker and alerts")
    const malformed = Effect.runSyncExit(
      Effect.flatMap(installed, (r) => r.declare("alerts", [{ name: "manage alerts", description: "x", roles: [] }]))
    )
    expect(Exit.isFailure(malformed) && String(malformed.cause)).toContain("upper snake case")
  })

  it("recognises role names", () => {
    expect(roles.every(isRole)).toBe(true)
    expect(isRole("root")).toBe(false)
    expect(isRole(undefined)).toBe(false)
  })
})
