/** Route declarations: which may skip identity resolution. */
import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import { describe, expect, it } from "vitest"
import { type RegisteredRoute, validateRoute } from "../../src/core/http/route.ts"

const route = (overrides: Partial<RegisteredRoute>): RegisteredRoute => ({
  method: "GET",
  path: "/x",
  access: "public",
  summary: "x",
  handler: Effect.succeed(HttpServerResponse.empty()),
  module: "test",
  ...overrides
})

/** The permissions a test declares. */
const isPermission = (value: unknown) => value === "VIEW_DASHBOARD" || value === "TRIP_CIRCUIT_BREAKER"

describe("skipIdentity", () => {
  it("is allowed on a public GET route", () => {
    expect(validateRoute(route({ skipIdentity: true }), [], isPermission)).toBeUndefined()
  })

  it("is refused on a route that needs a permission or changes state", () => {
    expect(validateRoute(route({ skipIdentity: true, access: "VIEW_DASHBOARD" }), [], isPermission)).toContain(
      "may skip identity"
    )
    expect(validateRoute(route({ skipIdentity: true, method: "POST" }), [], isPermission)).toContain(
      "may skip identity"
    )
  })
})
