/**
 * The settings service's typed refusals. Each carries its HTTP answer (a stable `code` clients
 * branch on), so the routes and the console pass them through unchanged.
 */
import { Schema } from "effect"
import { Issue } from "../errors/generic.ts"
import { answer, httpAnswer } from "../errors/http-answer.ts"

/** A module's declaration is malformed or clashes with another module's: the start stops. */
export class SettingDeclarationError extends Schema.TaggedError<SettingDeclarationError>()("SettingDeclarationError", {
  message: Schema.String
}) {}

/** 404 `setting_not_found`: no module declared this key. */
export class SettingNotFound extends Schema.TaggedError<SettingNotFound>()("SettingNotFound", {
  message: Schema.String,
  key: Schema.String
}) {
  get [httpAnswer]() {
    return answer(404, "setting_not_found", "No such setting")
  }
}

/** 404 `setting_version_not_found`: a restore named a version the key never had. */
export class SettingVersionNotFound extends Schema.TaggedError<SettingVersionNotFound>()("SettingVersionNotFound", {
  message: Schema.String,
  key: Schema.String,
  version: Schema.Number
}) {
  get [httpAnswer]() {
    return answer(404, "setting_version_not_found", "No such setting version")
  }
}

/** 400 `invalid_setting_value`: the value does not decode with the setting's schema; `issues` name the fields. */
export class InvalidSettingValue extends Schema.TaggedError<InvalidSettingValue>()("InvalidSettingValue", {
  message: Schema.String,
  key: Schema.String,
  issues: Schema.Array(Issue)
}) {
  get [httpAnswer]() {
    return answer(400, "invalid_setting_value", "Invalid setting value")
  }
}

/** 409 `setting_version_conflict`: the compare-and-set lost (someone changed the setting first). */
export class SettingVersionConflict extends Schema.TaggedError<SettingVersionConflict>()("SettingVersionConflict", {
  message: Schema.String,
  details: Schema.Struct({ key: Schema.String, expectedVersion: Schema.Number, currentVersion: Schema.Number })
}) {
  get [httpAnswer]() {
    return answer(409, "setting_version_conflict", "Another change won")
  }
}
