/**
 * Roles. A user has exactly one; the permissions each role holds are declared by the modules that
 * define them (`Permissions`), admin holding every one. Documented in
 * docs/CONCEPTS/platform-administration.md.
 */
import { Schema } from "effect"

export const roles = ["viewer", "operator", "admin"] as const
export const Role = Schema.Literals(roles)
export type Role = typeof Role.Type

export const isRole = (value: unknown): value is Role =>
  typeof value === "string" && (roles as ReadonlyArray<string>).includes(value)
