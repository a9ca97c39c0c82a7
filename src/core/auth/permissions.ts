/**
 * Permissions: what a route, a navigation entry, a setting or an event topic needs. Core defines
 * the few it uses itself; every module defines its own (`permissions` in its spec) and says which
 * roles get them. The registry is filled while the application starts, before any request, and
 * refuses a duplicate or malformed name; only permissions of installed modules exist.
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { Role } from "./roles.ts"

/** A permission's name, e.g. `TRIP_CIRCUIT_BREAKER`; valid when some installed module declared it. */
export type Permission = string

export interface PermissionSpec {
  /** Upper snake case: `VERB_OBJECT`. */
  readonly name: Permission
  /** What it allows, in one line (shown when an administrator picks an API key's scopes). */
  readonly description: string
  /** The roles that get it besides `admin`, who holds every permission. */
  readonly roles: ReadonlyArray<Exclude<Role, "admin">>
}

export interface DeclaredPermission extends PermissionSpec {
  readonly module: string
}

/** The permissions core itself checks. */
export const corePermissions: ReadonlyArray<PermissionSpec> = [
  {
    name: "VIEW_DASHBOARD",
    description: "See the dashboard, the details of /readyz and the live event stream.",
    roles: ["viewer", "operator"]
  },
  {
    // Core keeps the audit log; the audit-log module shows it, and other pages may link to it.
    name: "VIEW_AUDIT",
    description: "Read, filter and export the audit log.",
    roles: ["operator"]
  },
  {
    name: "MANAGE_SYSTEM_CONFIG",
    description: "Change settings and run retention.",
    roles: []
  }
]

export class PermissionDeclarationError extends Schema.TaggedError<PermissionDeclarationError>()(
  "PermissionDeclarationError",
  { message: Schema.String }
) {}

const NAME = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/

export interface PermissionsShape {
  /** Adds a module's permissions (at start); a duplicate or malformed one fails the start. */
  readonly declare: (
    module: string,
    specs: ReadonlyArray<PermissionSpec>
  ) => Effect.Effect<void, PermissionDeclarationError>
  readonly isPermission: (value: unknown) => value is Permission
  /** What a role holds now; the same set object until the next declaration. */
  readonly ofRole: (role: Role) => ReadonlySet<Permission>
  readonly all: () => ReadonlyArray<DeclaredPermission>
}

export class Permissions extends Context.Service<Permissions, PermissionsShape>()("breakwater/Permissions") {
  static readonly layer = Layer.effect(
    Permissions,
    Effect.gen(function* () {
      const declared = new Map<Permission, DeclaredPermission>()
      let byRole: Record<Role, ReadonlySet<Permission>> = { viewer: new Set(), operator: new Set(), admin: new Set() }
      const rebuild = () => {
        const all = [...declared.values()]
        byRole = {
          viewer: new Set(all.filter((p) => p.roles.includes("viewer")).map((p) => p.name)),
          operator: new Set(all.filter((p) => p.roles.includes("operator")).map((p) => p.name)),
          admin: new Set(all.map((p) => p.name))
        }
      }
      const declare = (module: string, specs: ReadonlyArray<PermissionSpec>) =>
        Effect.suspend(() => {
          for (const spec of specs) {
            if (!NAME.test(spec.name))
              return Effect.fail(
                new PermissionDeclarationError({
                  message: `module ${module} declares the permission "${spec.name}": a permission is VERB_OBJECT in upper snake case`
                })
              )
            const clash = declared.get(spec.name)
            if (clash !== undefined)
              return Effect.fail(
                new PermissionDeclarationError({
                  message: `the permission ${spec.name} is declared by both ${clash.module} and ${module}`
                })
              )
          }
          for (const spec of specs) declared.set(spec.name, { ...spec, module })
          rebuild()
          return Effect.void
        })
      yield* declare("core", corePermissions)
      return Permissions.of({
        declare,
        isPermission: (value): value is Permission => typeof value === "string" && declared.has(value),
        ofRole: (role) => byRole[role],
        all: () => [...declared.values()]
      })
    })
  )
}
