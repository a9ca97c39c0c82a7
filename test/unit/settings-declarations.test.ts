/**
 * The rules of setting declarations and stored values (pure): key format, duplicates naming both
 * modules, a default that must survive storage, permissions, and the fallback to the default when
 * a stored value no longer decodes.
 */
import { Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { checkDeclarations, decodeValue, effectiveOf, toStoredJson } from "../../src/core/settings/declarations.ts"
import type { SettingVersion } from "../../src/core/settings/model.ts"
import { defineSetting, type SettingSpec } from "../../src/core/settings/spec.ts"

const known = new Set(["VIEW_DASHBOARD", "MANAGE_SYSTEM_CONFIG", "RESET_CIRCUIT_BREAKER"])
const isPermission = (value: unknown) => typeof value === "string" && known.has(value)

const quietPeriod = defineSetting({
  key: "breaker.quiet_period_seconds",
  schema: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 86_400 })),
  default: 300,
  description: "Seconds in QUIET_PERIOD after a reset.",
  permission: "RESET_CIRCUIT_BREAKER",
  unit: "seconds"
})

const approvals = defineSetting({
  key: "breaker.reset_approvals",
  schema: Schema.Literals([1, 2]),
  default: 1,
  description: "Approvals a reset needs.",
  permission: "MANAGE_SYSTEM_CONFIG"
})

/** A typed spec passes where any spec is expected (the service's `declare`). */
const specs: ReadonlyArray<SettingSpec<unknown>> = [quietPeriod, approvals]

const check = (
  module: string,
  list: ReadonlyArray<SettingSpec<unknown>>,
  existing = new Map<string, { module: string }>()
) => checkDeclarations(module, list, existing, isPermission)

const failure = (result: Result.Result<unknown, string>) => (Result.isFailure(result) ? result.failure : undefined)

describe("setting declarations", () => {
  it("accepts well-formed specs and keeps the default as stored JSON and the schema as JSON Schema", () => {
    const result = check("circuit-breaker", specs)
    expect(Result.isSuccess(result)).toBe(true)
    if (Result.isFailure(result)) return
    const [first] = result.success
    expect(first?.defaultJson).toBe(300)
    expect(first?.jsonSchema).toEqual({ type: "integer", minimum: 0, maximum: 86_400 })
    expect(first?.module).toBe("circuit-breaker")
  })

  it.each([
    ["quiet_period", "no module part"],
    ["Breaker.quiet", "upper case"],
    ["breaker.quiet.period", "three parts"],
    ["breaker-x.quiet", "a hyphen"],
    ["1breaker.quiet", "a leading digit"],
    [`breaker.${"x".repeat(130)}`, "too long"]
  ])("refuses the key %s (%s), naming it and the module", (key) => {
    const message = failure(check("m", [{ ...quietPeriod, key }]))
    expect(message).toContain(`setting ${key} (module m)`)
    expect(message).toContain("module.name in lower snake case")
  })

  it("refuses a key declared twice, naming both modules", () => {
    const existing = new Map([["breaker.reset_approvals", { module: "circuit-breaker" }]])
    expect(failure(check("rogue", [approvals], existing))).toBe(
      "setting breaker.reset_approvals is declared by both circuit-breaker and rogue"
    )
    expect(failure(check("twice", [approvals, approvals]))).toBe(
      "setting breaker.reset_approvals is declared by both twice and twice"
    )
  })

  it("refuses a default that does not decode through the schema", () => {
    const message = failure(check("m", [{ ...quietPeriod, default: 100_000 }]))
    expect(message).toContain("setting breaker.quiet_period_seconds (module m)")
    expect(message).toContain("the default does not")
  })

  it("refuses a default that does not survive JSON (as stored)", () => {
    const bigint = defineSetting({
      key: "m.big",
      schema: Schema.BigInt,
      default: 1n,
      description: "A bigint has no JSON form.",
      permission: "MANAGE_SYSTEM_CONFIG"
    })
    expect(failure(check("m", [bigint]))).toContain("does not encode")
  })

  it("refuses an unknown permission and an empty description", () => {
    expect(failure(check("m", [{ ...approvals, permission: "FLY_TO_MOON" }]))).toContain(
      "FLY_TO_MOON is not a permission"
    )
    expect(failure(check("m", [{ ...approvals, description: "  " }]))).toContain("the description must not be empty")
  })

  it("a schema with a transformation stores the encoded form and decodes it back", () => {
    const duration = defineSetting({
      key: "m.timeout",
      schema: Schema.NumberFromString,
      default: 5,
      description: "Stored as a string.",
      permission: "MANAGE_SYSTEM_CONFIG"
    })
    const result = check("m", [duration])
    expect(Result.isSuccess(result) && result.success[0]?.defaultJson).toBe("5")
  })
})

describe("values", () => {
  it("decoding reports every problem with its path", () => {
    const schema = Schema.Struct({ a: Schema.Int, b: Schema.String })
    const result = decodeValue(schema, { a: 1.5, b: 2 })
    expect(Result.isFailure(result)).toBe(true)
    if (Result.isSuccess(result)) return
    expect(result.failure.issues.map((i) => i.path).sort()).toEqual(["a", "b"])
  })

  it("toStoredJson takes the encoded value through JSON text", () => {
    const schema = Schema.Struct({ n: Schema.NumberFromString, list: Schema.Array(Schema.Int) })
    expect(toStoredJson(schema, { n: 5, list: [1, 2] })).toEqual(Result.succeed({ n: "5", list: [1, 2] }))
  })

  it("a stored value that no longer decodes falls back to the default, saying why", () => {
    const declared = check("m", [quietPeriod])
    if (Result.isFailure(declared)) throw new Error(declared.failure)
    const entry = declared.success[0]
    if (entry === undefined) throw new Error("nothing declared")
    const stored = (value: unknown): SettingVersion => ({
      key: entry.spec.key,
      version: 3,
      value,
      changedAt: "2026-01-01T00:00:00.000Z",
      changedBy: { type: "system", id: "system:test", name: "test" },
      reason: null
    })
    expect(effectiveOf(entry, undefined)).toMatchObject({ json: 300, fallback: false })
    expect(effectiveOf(entry, stored(60))).toMatchObject({ json: 60, fallback: false })
    const fallen = effectiveOf(entry, stored("sixty"))
    expect(fallen).toMatchObject({ json: 300, fallback: true })
    expect(fallen.problem).toContain("Expected")
  })
})

describe("storable values", () => {
  it("refuses text PostgreSQL cannot store, naming the field", () => {
    const result = toStoredJson(Schema.Struct({ note: Schema.String }), { note: "a\u0000b" })
    expect(Result.isFailure(result) && result.failure.issues.map((i) => i.path)).toEqual(["note"])
  })
})
