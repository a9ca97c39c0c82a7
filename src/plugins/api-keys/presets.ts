/**
 * Presets of the API key form: the usual machine callers, each a set of permissions built from
 * the permissions the installed modules declared. A preset is offered only when every permission
 * it names is installed and the signed-in user may grant it (a key holds at most its owner's
 * permissions), so a build without the circuit breaker offers no breaker preset. The presets name
 * permissions by their strings, never by importing another module.
 */
import type { DeclaredPermission, Permission } from "../../core/auth/permissions.ts"

export interface Preset {
  /** Posted as the form's `preset` field. */
  readonly id: string
  readonly label: string
  /** Who uses a key like this, and what it does with it. */
  readonly description: string
  readonly permissions: ReadonlyArray<Permission>
}

interface PresetRecipe {
  readonly id: string
  readonly label: string
  readonly description: string
  /** The preset's permissions from the declared ones; `undefined` when one it needs is not installed. */
  readonly pick: (declared: ReadonlyArray<DeclaredPermission>) => ReadonlyArray<Permission> | undefined
}

/** Exactly these permissions, or nothing when one of them is not installed. */
const exactly =
  (...names: ReadonlyArray<Permission>) =>
  (declared: ReadonlyArray<DeclaredPermission>) =>
    names.every((n) => declared.some((p) => p.name === n)) ? names : undefined

const RECIPES: ReadonlyArray<PresetRecipe> = [
  {
    id: "execution-read-breaker",
    label: "Execution service: read breaker",
    description: "Reads the breaker before it trades, and treats anything but OPEN as halted.",
    pick: exactly("VIEW_CIRCUIT_BREAKER")
  },
  {
    id: "desk-trip-breaker",
    label: "Trading desk automation: trip breaker",
    description: "Reads the breaker and halts trading when its own checks fail; it cannot reset.",
    pick: exactly("VIEW_CIRCUIT_BREAKER", "TRIP_CIRCUIT_BREAKER")
  },
  {
    id: "monitoring-read-all",
    label: "Monitoring: read everything",
    description: "Every read-only permission of the installed modules (VIEW_…), for dashboards and checks.",
    pick: (declared) => {
      const views = declared.filter((p) => p.name.startsWith("VIEW_")).map((p) => p.name)
      return views.length === 0 ? undefined : views
    }
  }
]

/** The presets this user may use on this build, in a fixed order. */
export const presetsFor = (
  declared: ReadonlyArray<DeclaredPermission>,
  grantable: ReadonlySet<Permission>
): ReadonlyArray<Preset> =>
  RECIPES.flatMap((recipe) => {
    const permissions = recipe.pick(declared)
    if (permissions === undefined || !permissions.every((p) => grantable.has(p))) return []
    return [{ id: recipe.id, label: recipe.label, description: recipe.description, permissions }]
  })
