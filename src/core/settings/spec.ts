/**
 * A setting as a module declares it: key, schema, default, description and who may change it.
 * Values live in versioned rows and are read through the `Settings` service.
 */
import type { Schema } from "effect"
import type { Permission } from "../auth/permissions.ts"

export interface SettingSpec<A = unknown> {
  /** `<module>.<name>` in lower snake case, at most 128 characters, e.g. `breaker.quiet_period_seconds`. */
  readonly key: string
  /**
   * Decodes a stored or submitted JSON value; encodes the value back to the JSON that is stored.
   * Checked at start: the default must survive encode → JSON text → decode. Needs no services
   * (values are decoded synchronously, on every `get`).
   */
  readonly schema: Schema.Codec<A, unknown>
  readonly default: A
  /** One or two sentences for the settings page and the API listing. */
  readonly description: string
  /**
   * Who may change it: a permission some installed module declares (checked at start). Reading
   * needs only `VIEW_DASHBOARD`; a change from a session also needs a recent password.
   */
  readonly permission: Permission
  /** Shown after the value, e.g. `seconds`. */
  readonly unit?: string
}

/** Declares a setting (an identity that keeps the value type). */
export const defineSetting = <A>(spec: SettingSpec<A>): SettingSpec<A> => spec
