/**
 * The rules of a setting declaration and of a stored value, as pure functions: checked once at
 * start (a bad declaration stops it, naming the module), and on every value that is stored or
 * read back. A value travels as the JSON its schema encodes, exactly as the database keeps it.
 */
import { Result, Schema } from "effect"
import type { Issue } from "../errors/generic.ts"
import { issuesOf } from "../errors/generic.ts"
import { unstorableStrings } from "../json-bounds.ts"
import type { SettingVersion } from "./model.ts"
import type { SettingSpec } from "./spec.ts"

/** `<module>.<name>`, lower snake case. */
export const KEY_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/
export const MAX_KEY_LENGTH = 128

/** A checked declaration: its default as stored JSON, its schema described as JSON Schema. */
export interface DeclaredSetting {
  readonly module: string
  readonly spec: SettingSpec<unknown>
  readonly defaultJson: unknown
  readonly jsonSchema: Readonly<Record<string, unknown>>
}

/** A value that does not fit a setting: a summary and the problem of each field. */
export interface ValueProblem {
  readonly message: string
  readonly issues: ReadonlyArray<Issue>
}

const problemOf = (error: Schema.SchemaError): ValueProblem => {
  const issues = issuesOf(error)
  return { message: issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; "), issues }
}

const plainProblem = (message: string): ValueProblem => ({ message, issues: [{ path: "", message }] })

/** Decodes stored or submitted JSON with the setting's schema, every problem at once. */
export const decodeValue = <A>(schema: Schema.Codec<A, unknown>, json: unknown): Result.Result<A, ValueProblem> =>
  Result.mapError(Schema.decodeUnknownResult(schema)(json, { errors: "all" }), problemOf)

/** Encodes a value with its schema and takes it through JSON text: what the database will hold. */
export const toStoredJson = <A>(schema: Schema.Codec<A, unknown>, value: A): Result.Result<unknown, ValueProblem> => {
  const encoded = Schema.encodeResult(schema)(value, { errors: "all" })
  if (Result.isFailure(encoded)) return Result.fail(problemOf(encoded.failure))
  let text: string | undefined
  try {
    text = JSON.stringify(encoded.success)
  } catch (error) {
    return Result.fail(
      plainProblem(`does not encode to JSON: ${error instanceof Error ? error.message : String(error)}`)
    )
  }
  if (text === undefined) return Result.fail(plainProblem("does not encode to JSON"))
  const json: unknown = JSON.parse(text)
  // Text PostgreSQL cannot store (U+0000, lone surrogates) is a refusal here, not a database error.
  const unstorable = unstorableStrings(json)
  if (unstorable.length > 0)
    return Result.fail({
      message: unstorable.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; "),
      issues: unstorable
    })
  return Result.succeed(json)
}

/** The JSON Schema of a setting's value (definitions inlined under `$defs`). */
const describeSchema = (schema: Schema.Top): Result.Result<Readonly<Record<string, unknown>>, string> => {
  try {
    const doc = Schema.toJsonSchemaDocument(schema)
    const definitions: Readonly<Record<string, unknown>> = doc.definitions
    const described: Readonly<Record<string, unknown>> = { ...doc.schema }
    return Result.succeed(Object.keys(definitions).length === 0 ? described : { ...described, $defs: definitions })
  } catch (error) {
    return Result.fail(error instanceof Error ? error.message : String(error))
  }
}

/** Checks one spec on its own: key, description, permission, and a default that survives storage. */
const checkSpec = (
  module: string,
  spec: SettingSpec<unknown>,
  isPermission: (value: unknown) => boolean
): Result.Result<DeclaredSetting, string> => {
  const key: unknown = spec.key
  const named = `setting ${String(key)} (module ${module})`
  if (typeof key !== "string" || !KEY_PATTERN.test(key) || key.length > MAX_KEY_LENGTH)
    return Result.fail(
      `${named}: the key must look like module.name in lower snake case, at most ${MAX_KEY_LENGTH} characters`
    )
  if (typeof spec.description !== "string" || spec.description.trim() === "")
    return Result.fail(`${named}: the description must not be empty`)
  const permission: unknown = spec.permission
  if (!isPermission(permission))
    return Result.fail(`${named}: ${String(permission)} is not a permission any installed module declares`)
  const stored = toStoredJson(spec.schema, spec.default)
  if (Result.isFailure(stored)) return Result.fail(`${named}: the default does not encode: ${stored.failure.message}`)
  const decoded = decodeValue(spec.schema, stored.success)
  if (Result.isFailure(decoded))
    return Result.fail(`${named}: the default does not decode through its schema: ${decoded.failure.message}`)
  const described = describeSchema(spec.schema)
  if (Result.isFailure(described))
    return Result.fail(`${named}: its schema cannot be described as JSON Schema: ${described.failure}`)
  return Result.succeed({ module, spec, defaultJson: stored.success, jsonSchema: described.success })
}

/**
 * Checks a module's declarations against each other and against those already made; the first
 * problem names the key and both modules of a duplicate. Permissions are declared before settings.
 */
export const checkDeclarations = (
  module: string,
  specs: ReadonlyArray<SettingSpec<unknown>>,
  existing: ReadonlyMap<string, { readonly module: string }>,
  isPermission: (value: unknown) => boolean
): Result.Result<ReadonlyArray<DeclaredSetting>, string> => {
  if (module.trim() === "") return Result.fail("a module declaring settings must have a name")
  const checked: Array<DeclaredSetting> = []
  for (const spec of specs) {
    const clash = existing.get(spec.key)?.module ?? checked.find((c) => c.spec.key === spec.key)?.module
    if (clash !== undefined) return Result.fail(`setting ${spec.key} is declared by both ${clash} and ${module}`)
    const one = checkSpec(module, spec, isPermission)
    if (Result.isFailure(one)) return Result.fail(one.failure)
    checked.push(one.success)
  }
  return Result.succeed(checked)
}

/** What is in effect for a declared setting, given its latest stored version. */
export interface Effective {
  readonly stored: SettingVersion | undefined
  /** The JSON of the value in effect. */
  readonly json: unknown
  /** The stored value no longer decodes: the default is in effect. */
  readonly fallback: boolean
  /** Why it fell back. */
  readonly problem?: string
}

/** The stored value when it still decodes with the declared schema, else the default. */
export const effectiveOf = (entry: DeclaredSetting, stored: SettingVersion | undefined): Effective => {
  if (stored === undefined) return { stored, json: entry.defaultJson, fallback: false }
  const decoded = decodeValue(entry.spec.schema, stored.value)
  return Result.isSuccess(decoded)
    ? { stored, json: stored.value, fallback: false }
    : { stored, json: entry.defaultJson, fallback: true, problem: decoded.failure.message }
}
