/**
 * A setting's value in an HTML form, as pure functions of its JSON Schema (the listing's
 * `schema`): which control edits it (a choice, a number, a line of text, a JSON document), how the
 * text a form sends becomes the JSON the setting's schema decodes, and how a value is written
 * for people. The setting's own schema still decides what is valid; this only reads the text.
 */
import { Result } from "effect"

type JsonSchema = Readonly<Record<string, unknown>>

export type SettingControl =
  | { readonly kind: "choice"; readonly options: ReadonlyArray<{ readonly value: string; readonly label: string }> }
  | {
      readonly kind: "number"
      readonly integer: boolean
      readonly minimum: number | undefined
      readonly maximum: number | undefined
    }
  | { readonly kind: "text"; readonly maxLength: number | undefined }
  | { readonly kind: "json" }

/** The longest value text a form may send. */
export const MAX_VALUE_TEXT = 20_000

const numberAt = (schema: JsonSchema, name: string): number | undefined => {
  const value = schema[name]
  return typeof value === "number" && Number.isFinite(value) ? value : undefined
}

/** `enum` of the schema, when every member is a JSON scalar. */
const scalarEnum = (schema: JsonSchema): ReadonlyArray<string | number | boolean> | undefined => {
  const members = schema.enum
  if (!Array.isArray(members) || members.length === 0) return undefined
  const scalars = members.filter(
    (m): m is string | number | boolean => typeof m === "string" || typeof m === "number" || typeof m === "boolean"
  )
  return scalars.length === members.length ? scalars : undefined
}

/** A string setting takes the text as it is; every other setting reads the text as JSON. */
const takesText = (schema: JsonSchema): boolean => schema.type === "string"

/** The text a value is written as in a form field: a string setting's value as is, any other as JSON. */
export const formText = (schema: JsonSchema, json: unknown): string =>
  takesText(schema) && typeof json === "string"
    ? json
    : typeof json === "object" && json !== null
      ? JSON.stringify(json, null, 2)
      : (JSON.stringify(json) ?? "")

export const controlOf = (schema: JsonSchema): SettingControl => {
  const choices = scalarEnum(schema)
  if (choices !== undefined)
    return {
      kind: "choice",
      options: choices.map((c) => ({ value: formText(schema, c), label: String(c) }))
    }
  if (schema.type === "boolean")
    return {
      kind: "choice",
      options: [
        { value: "true", label: "true" },
        { value: "false", label: "false" }
      ]
    }
  if (schema.type === "integer" || schema.type === "number")
    return {
      kind: "number",
      integer: schema.type === "integer",
      minimum: numberAt(schema, "minimum"),
      maximum: numberAt(schema, "maximum")
    }
  if (schema.type === "string") return { kind: "text", maxLength: numberAt(schema, "maxLength") }
  return { kind: "json" }
}

/** What values fit, in words, when the schema says it simply ("a whole number from 0 to 365"). */
export const allowedValues = (schema: JsonSchema): string | undefined => {
  const control = controlOf(schema)
  switch (control.kind) {
    case "choice":
      return `one of ${control.options.map((o) => o.label).join(", ")}`
    case "number": {
      const what = control.integer ? "a whole number" : "a number"
      const { minimum, maximum } = control
      if (minimum !== undefined && maximum !== undefined) return `${what} from ${minimum} to ${maximum}`
      if (minimum !== undefined) return `${what}, at least ${minimum}`
      if (maximum !== undefined) return `${what}, at most ${maximum}`
      return what
    }
    case "text":
      return control.maxLength === undefined ? "text" : `text of at most ${control.maxLength} characters`
    case "json":
      return "a JSON document"
  }
}

/** The JSON a form's text stands for; a refusal says what the text should look like. */
export const parseSubmitted = (schema: JsonSchema, text: string): Result.Result<unknown, string> => {
  if (takesText(schema)) return Result.succeed(text)
  const trimmed = text.trim()
  if (trimmed === "") return Result.fail("must not be empty")
  try {
    return Result.succeed(JSON.parse(trimmed))
  } catch {
    const control = controlOf(schema)
    return Result.fail(
      control.kind === "number"
        ? `must be ${control.integer ? "a whole number" : "a number"}, such as ${control.minimum ?? 0}`
        : control.kind === "choice"
          ? `must be ${allowedValues(schema)}`
          : 'must be JSON, such as 300, true, "text" or {"name": 1}'
    )
  }
}

/** A value as people read it: text as it is (quoted only when empty), anything else as JSON. */
export const displayValue = (json: unknown): string =>
  typeof json === "string"
    ? json === ""
      ? '""'
      : json
    : typeof json === "object" && json !== null
      ? JSON.stringify(json, null, 2)
      : (JSON.stringify(json) ?? "null")

/** Whether two stored values are the same JSON. */
export const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)
