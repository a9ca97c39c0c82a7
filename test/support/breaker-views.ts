/** A breaker view as the service reports it, for view and component tests: OPEN unless overridden. */
import type { BreakerView } from "../../src/core/contracts/circuit-breaker/model.ts"

/** The clock of those tests: views below are dated relative to it. */
export const NOW = Date.parse("2026-03-02T12:00:00Z")

export const view = (overrides: Partial<BreakerView> = {}): BreakerView => ({
  scope: "global",
  state: "OPEN",
  effective_state: "OPEN",
  trading_allowed: true,
  halted_by: null,
  version: 3,
  tripped_at: null,
  trip_reason: null,
  trip_details: null,
  tripped_by: null,
  trip_source: null,
  reset_at: null,
  reset_by: null,
  quiet_until: null,
  trip_count_today: 0,
  updated_at: "2026-03-02T11:00:00.000Z",
  as_of: "2026-03-02T11:59:59.000Z",
  warning: null,
  ...overrides
})
