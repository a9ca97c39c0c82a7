import { SqlError } from "effect/sql"
import { describe, expect, it } from "vitest"
import { ScopeNotFound, VersionConflict } from "../../src/core/contracts/circuit-breaker/errors.ts"
import { classify } from "../../src/core/http/respond-error.ts"

describe("error classification", () => {
  it("answers an unreachable database with 503, not 500", () => {
    const down = new SqlError.SqlError({
      reason: new SqlError.ConnectionError({ cause: new Error("connect ECONNREFUSED"), message: "Failed to connect" })
    })
    expect(classify(down)).toMatchObject({ status: 503, code: "database_unavailable" })
  })

  it("keeps other SQL failures as internal errors", () => {
    const bug = new SqlError.SqlError({ reason: new SqlError.UnknownError({ cause: new Error("syntax error") }) })
    expect(classify(bug)).toMatchObject({ status: 500, code: "internal" })
  })

  it("gives the breaker's refusals their own status and code", () => {
    expect(classify(new ScopeNotFound({ message: "no such scope" }))).toMatchObject({
      status: 404,
      code: "scope_not_found"
    })
    expect(classify(new VersionConflict({ message: "another change won", details: { version: 3 } }))).toMatchObject({
      status: 409,
      code: "version_conflict",
      details: { version: 3 }
    })
  })
})
