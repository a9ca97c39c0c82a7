/**
 * The AccessControl seam with a stand-in ApiKeyAuthenticator: a bearer principal needs no CSRF
 * token (no cookie to forge) but is still refused cross-site; a bearer token decides alone, never
 * falling back to a session cookie; a missing permission is 403 and audited with the permission.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Layer, Redacted } from "effect"
import { HttpServerRequest } from "effect/http"
import { SqlClient } from "effect/sql"
import { beforeAll, describe, expect, it } from "vitest"
import { Audit, auditWriterFiber } from "../../src/core/audit/audit.ts"
import { AccessControl, type Principal } from "../../src/core/auth/access.ts"
import { AccessControlLive } from "../../src/core/auth/access-control.ts"
import { ApiKeyAuthenticator } from "../../src/core/auth/api-key-authenticator.ts"
import { ApiRateLimiter } from "../../src/core/auth/api-rate-limit.ts"
import { Permissions } from "../../src/core/auth/permissions.ts"
import { Sessions } from "../../src/core/auth/sessions.ts"
import { AppConfig } from "../../src/core/config.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { makeInProcessState, SharedState } from "../../src/core/redis/shared-state.ts"
import { Supervisor } from "../../src/core/supervisor.ts"
import { createTestStores } from "../support/database.ts"

let url: string
beforeAll(async () => {
  url = (await createTestStores()).databaseUrl
})

const deployKey: Principal = {
  kind: "api_key",
  id: "key-1",
  name: "deploy",
  permissions: new Set(["VIEW_CIRCUIT_BREAKER", "TRIP_CIRCUIT_BREAKER"])
}

const knownKey = (token: Redacted.Redacted<string>) =>
  Effect.succeed(Redacted.value(token) === "good-key" ? deployKey : undefined)
const fakeKeys = Layer.succeed(ApiKeyAuthenticator, {
  authenticate: knownKey,
  authenticateFresh: knownKey,
  forgetVerified: Effect.void,
  verifiedUnsafe: () => undefined
})

/** The audit writer's fiber, as the application's core module starts it. */
const auditWriter = Layer.effectDiscard(Effect.flatMap(Supervisor, (s) => s.start(auditWriterFiber)))

/** The permissions the modules that define them would declare at start. */
const declared = Layer.effectDiscard(
  Effect.flatMap(Permissions, (p) =>
    p.declare("test", [
      { name: "MANAGE_USERS", description: "test", roles: [] },
      { name: "TRIP_CIRCUIT_BREAKER", description: "test", roles: ["operator"] }
    ])
  )
)

const layer = () =>
  Layer.mergeAll(AccessControlLive, auditWriter, declared).pipe(
    Layer.provideMerge(Sessions.layer),
    Layer.provideMerge(Permissions.layer),
    Layer.provide(fakeKeys),
    Layer.provide(ApiRateLimiter.layer.pipe(Layer.provide(Layer.succeed(SharedState, makeInProcessState())))),
    Layer.provideMerge(Audit.layer),
    Layer.provideMerge(Supervisor.layer),
    Layer.provideMerge(Metrics.layer),
    Layer.provideMerge(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })),
    Layer.provideMerge(AppConfig.layerFrom({}))
  )

const authorize = (init: RequestInit & { readonly path?: string }, access: "TRIP_CIRCUIT_BREAKER" | "MANAGE_USERS") =>
  Effect.runPromise(
    Effect.gen(function* () {
      const control = yield* AccessControl
      const request = HttpServerRequest.fromWeb(
        new Request(`http://127.0.0.1:8080${init.path ?? "/api/v1/breaker/trip"}`, init)
      )
      return yield* Effect.exit(control.authorize(request, access))
    }).pipe(Effect.provide(layer()), Effect.scoped)
  )

const errorTag = (exit: Exit.Exit<Principal, { readonly _tag: string }>) =>
  Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error._tag : "allowed"

describe("AccessControl with an API key authenticator", () => {
  it("lets a valid bearer key change state without a CSRF token", async () => {
    const exit = await authorize(
      { method: "POST", headers: { authorization: "Bearer good-key" } },
      "TRIP_CIRCUIT_BREAKER"
    )
    expect(errorTag(exit)).toBe("allowed")
    if (Exit.isSuccess(exit)) expect(exit.value.kind).toBe("api_key")
  })

  it("still refuses a bearer request from another origin", async () => {
    const exit = await authorize(
      { method: "POST", headers: { authorization: "Bearer good-key", origin: "https://evil.example" } },
      "TRIP_CIRCUIT_BREAKER"
    )
    expect(errorTag(exit)).toBe("CsrfRejected")
  })

  it("refuses an unknown key with 401 and a missing scope with 403, both audited", async () => {
    expect(errorTag(await authorize({ headers: { authorization: "Bearer bad-key" } }, "TRIP_CIRCUIT_BREAKER"))).toBe(
      "Unauthenticated"
    )
    expect(errorTag(await authorize({ headers: { authorization: "Bearer good-key" } }, "MANAGE_USERS"))).toBe(
      "Forbidden"
    )
    const rows = await Effect.runPromise(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) =>
          sql<{ actor_type: string; actor_id: string; reason: string }>`
          SELECT actor_type, actor_id, reason FROM audit_log WHERE action = 'authz_denied' ORDER BY id`
      ).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })), Effect.scoped)
    )
    expect(rows).toContainEqual({ actor_type: "anonymous", actor_id: "anonymous", reason: "no valid credentials" })
    expect(rows).toContainEqual({ actor_type: "api_key", actor_id: "key-1", reason: "missing permission MANAGE_USERS" })
  })

  it("never falls back to the session cookie when a bearer token is present", async () => {
    const cookie = await Effect.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const [user] = yield* sql<{ id: string }>`INSERT INTO users (email, display_name, role, password_hash)
          VALUES ('cookie@test.local', 'Cookie', 'admin', 'x') RETURNING id`
        const session = yield* (yield* Sessions).create(user!.id, { clientAddress: undefined, userAgent: undefined })
        return `__Host-breakwater_session=${Redacted.value(session.id)}`
      }).pipe(Effect.provide(layer()), Effect.scoped)
    )
    // The cookie alone is a valid admin session…
    expect(errorTag(await authorize({ headers: { cookie } }, "MANAGE_USERS"))).toBe("allowed")
    // …but next to an unknown bearer token it does not count.
    expect(errorTag(await authorize({ headers: { cookie, authorization: "Bearer bad-key" } }, "MANAGE_USERS"))).toBe(
      "Unauthenticated"
    )
  })
})
