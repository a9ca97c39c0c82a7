/**
 * Permissions: what a route or a navigation entry needs. Roles grant sets of them (identity and
 * access, ARCHITECTURE.md §5); every route declares one, or says it is public.
 */
export const permissions = [
  "VIEW_DASHBOARD",
  "VIEW_CIRCUIT_BREAKER",
  "TRIP_CIRCUIT_BREAKER",
  "RESET_CIRCUIT_BREAKER",
  "VIEW_HEALTH",
  "MANAGE_HEALTH",
  "VIEW_ALERTS",
  "MANAGE_ALERTS",
  "VIEW_ALERT_RECIPIENTS",
  "VIEW_DELIVERIES",
  "MANAGE_DELIVERIES",
  "VIEW_AUDIT",
  "MANAGE_API_KEYS",
  "MANAGE_SYSTEM_CONFIG",
  "MANAGE_USERS"
] as const

export type Permission = (typeof permissions)[number]

export const isPermission = (value: unknown): value is Permission =>
  typeof value === "string" && (permissions as ReadonlyArray<string>).includes(value)
