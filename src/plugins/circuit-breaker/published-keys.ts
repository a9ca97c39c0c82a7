/**
 * Where the breaker publishes in Redis: one key per scope holding its record as JSON, and the
 * channel every change is announced on. Execution services read these names; they never change.
 */
import { GLOBAL_SCOPE } from "../../core/contracts/circuit-breaker/model.ts"

/** Redis key of a scope's published record. */
export const stateKey = (scope: string) =>
  scope === GLOBAL_SCOPE ? "circuit_breaker:state" : `circuit_breaker:state:${scope}`
export const CHANGES_CHANNEL = "circuit_breaker:changes"
