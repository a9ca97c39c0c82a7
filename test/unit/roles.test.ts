/** The role → permission table: exactly what the issue and the concepts page say. */
import { describe, expect, it } from "vitest"
import { type Permission, permissions } from "../../src/core/auth/permissions.ts"
import { isRole, permissionsOf, roles } from "../../src/core/auth/roles.ts"

const viewer: ReadonlyArray<Permission> = [
  "VIEW_DASHBOARD",
  "VIEW_CIRCUIT_BREAKER",
  "VIEW_HEALTH",
  "VIEW_ALERTS",
  "VIEW_DELIVERIES"
]
const operatorExtra: ReadonlyArray<Permission> = [
  "TRIP_CIRCUIT_BREAKER",
  "RESET_CIRCUIT_BREAKER",
  "MANAGE_HEALTH",
  "MANAGE_ALERTS",
  "VIEW_ALERT_RECIPIENTS",
  "MANAGE_DELIVERIES",
  "VIEW_AUDIT"
]

describe("roles", () => {
  it("viewer sees, and changes nothing", () => {
    expect([...permissionsOf("viewer")].sort()).toEqual([...viewer].sort())
  })

  it("operator is viewer plus the operational changes and the audit log", () => {
    expect([...permissionsOf("operator")].sort()).toEqual([...viewer, ...operatorExtra].sort())
  })

  it("admin holds every permission", () => {
    expect([...permissionsOf("admin")].sort()).toEqual([...permissions].sort())
  })

  it("no role but admin manages users, API keys or the system configuration", () => {
    for (const role of roles.filter((r) => r !== "admin"))
      for (const p of ["MANAGE_USERS", "MANAGE_API_KEYS", "MANAGE_SYSTEM_CONFIG"] as const)
        expect(permissionsOf(role).has(p), `${role} ${p}`).toBe(false)
  })

  it("every role that may see the Admin entry may open /admin (which needs VIEW_AUDIT)", () => {
    for (const role of roles) {
      const seesEntry = (["MANAGE_API_KEYS", "MANAGE_SYSTEM_CONFIG", "VIEW_AUDIT"] as const).some((p) =>
        permissionsOf(role).has(p)
      )
      expect(seesEntry ? permissionsOf(role).has("VIEW_AUDIT") : true, role).toBe(true)
    }
  })

  it("recognises role names", () => {
    expect(roles.every(isRole)).toBe(true)
    expect(isRole("root")).toBe(false)
    expect(isRole(undefined)).toBe(false)
  })
})
