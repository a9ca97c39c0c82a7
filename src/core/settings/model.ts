/**
 * What the settings service hands out: a stored version (history, changes) and a declared
 * setting with its value in effect (the listing). Values are the JSON the setting's schema
 * encodes; times are ISO 8601 UTC.
 */
import { Schema } from "effect"
import { ActorJson } from "../audit/entry.ts"

/** Who changed a setting: the audit actor, as stored. */
export const SettingActor = ActorJson

/** One stored version of a setting. */
export const SettingVersion = Schema.Struct({
  key: Schema.String,
  version: Schema.Int,
  value: Schema.Unknown,
  changedAt: Schema.String,
  changedBy: SettingActor,
  reason: Schema.NullOr(Schema.String)
})
export type SettingVersion = typeof SettingVersion.Type

/** A declared setting as the listing shows it. */
export const SettingView = Schema.Struct({
  module: Schema.String,
  key: Schema.String,
  description: Schema.String,
  unit: Schema.NullOr(Schema.String),
  /** Who may change it. */
  permission: Schema.String,
  default: Schema.Unknown,
  /** The value in effect: the latest version's, or the default. */
  value: Schema.Unknown,
  /** The latest stored version; 0 when it was never changed. */
  version: Schema.Int,
  changedAt: Schema.NullOr(Schema.String),
  changedBy: Schema.NullOr(SettingActor),
  reason: Schema.NullOr(Schema.String),
  /** True when the latest stored value no longer decodes: the default is in effect. */
  fallback: Schema.Boolean,
  /** A JSON Schema of the value, from the setting's schema. */
  schema: Schema.Record(Schema.String, Schema.Unknown)
})
export type SettingView = typeof SettingView.Type
