/**
 * Roles and the permissions each grants (RBAC). A user has exactly one role; the table below is
 * the whole policy, documented in docs/CONCEPTS/platform-administration.md.
 */
import { Schema } from "effect"
import { type Permission, permissions } from "./permissions.ts"

export const roles = ["viewer", "operator", "admin"] as const
export const Role = Schema.Literals(roles)
export type Role = typeof Role.Type

export const isRole = (value: unknown): value is Role =>
  typeof value === "string" && (roles as ReadonlyArray<string>).includes(value)

const viewer: ReadonlyArray<Permission> = [
  "VIEW_DASHBOARD",
  "VIEW_CIRCUIT_BREAKER",
  "VIEW_HEALTH",
  "VIEW_ALERTS",
  "VIEW_DELIVERIES"
]

const operator: ReadonlyArray<Permission> = [
  ...viewer,
  "TRIP_CIRCUIT_BREAKER",
  "RESET_CIRCUIT_BREAKER",
  "MANAGE_HEALTH",
  "MANAGE_ALERTS",
  "VIEW_ALERT_RECIPIENTS",
  "MANAGE_DELIVERIES",
  "VIEW_AUDIT"
]

/** Role → granted permissions. Admin holds every permission, including ones added later. */
export const rolePermissions: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set(viewer),
  operator: new Set(operator),
  admin: new Set(permissions)
}

export const permissionsOf = (role: Role): ReadonlySet<Permission> => rolePermissions[role]
