import { Effect, Exit, Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { ConfigInvalid, loadConfig, removedVariableWarnings } from "../../src/core/config.ts"

const load = (env: Record<string, string>) => Effect.runSyncExit(loadConfig(env))

const problemsOf = (env: Record<string, string>) => {
  const exit = load(env)
  if (Exit.isSuccess(exit)) throw new Error("expected the configuration to be refused")
  const reason = exit.cause.reasons[0]
  if (reason?._tag !== "Fail" || !(reason.error instanceof ConfigInvalid)) throw new Error("expected ConfigInvalid")
  return reason.error
}

describe("configuration", () => {
  it("uses the documented defaults", () => {
    const exit = load({})
    expect(Exit.isSuccess(exit)).toBe(true)
    if (!Exit.isSuccess(exit)) return
    const c = exit.value
    expect(c.port).toBe(8080)
    expect(c.host).toBe("127.0.0.1")
    expect(c.dataDir).toBe("./data")
    expect(c.logFormat).toBe("json")
    expect(c.logLevel).toBe("info")
    expect(Option.isNone(c.databaseUrl)).toBe(true)
    expect(Option.isNone(c.redisUrl)).toBe(true)
    expect(c.shutdownGraceSeconds).toBe(10)
  })

  it("names the variable and the problem for a bad port", () => {
    const error = problemsOf({ PORT: "abc" })
    expect(error.problems).toHaveLength(1)
    expect(error.problems[0]?.variable).toBe("PORT")
    expect(error.message).toContain("PORT")
    expect(error.message).toContain('"abc"')
  })

  it("reports every bad variable at once", () => {
    const error = problemsOf({ PORT: "70000", LOG_FORMAT: "xml", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" })
    expect(error.problems.map((p) => p.variable).sort()).toEqual(["DATABASE_URL", "LOG_FORMAT", "LOG_LEVEL", "PORT"])
  })

  it("never echoes a secret's value in the error", () => {
    const error = problemsOf({ DATABASE_URL: "mysql://user:hunter2@db/x" })
    expect(error.message).toContain("DATABASE_URL")
    expect(error.message).not.toContain("hunter2")
  })

  it("keeps secrets redacted", () => {
    const exit = load({ METRICS_TOKEN: "s3cret-token", DATABASE_URL: "postgres://u:p@h/db" })
    if (!Exit.isSuccess(exit)) throw new Error("expected success")
    const token = Option.getOrThrow(exit.value.metricsToken)
    expect(String(token)).not.toContain("s3cret")
    expect(Redacted.value(token)).toBe("s3cret-token")
    expect(JSON.stringify(exit.value)).not.toContain("s3cret")
  })

  it("reads feature switches", () => {
    const exit = load({ FEATURE_ALERTS: "false", FEATURE_HEALTH_MONITOR: "on" })
    if (!Exit.isSuccess(exit)) throw new Error("expected success")
    expect(exit.value.features.get("ALERTS")).toBe(false)
    expect(exit.value.features.get("HEALTH_MONITOR")).toBe(true)
    expect(problemsOf({ FEATURE_ALERTS: "maybe" }).problems[0]?.variable).toBe("FEATURE_ALERTS")
  })

  it("warns about a removed variable still set, saying what replaced it", () => {
    expect(removedVariableWarnings({ PORT: "8080" })).toEqual([])
    const [warning, ...rest] = removedVariableWarnings({ SSE_MAX_CONNECTIONS: "50" })
    expect(rest).toEqual([])
    expect(warning).toContain("SSE_MAX_CONNECTIONS is set but no longer read")
    expect(warning).toContain("events.max_streams")
  })
})
