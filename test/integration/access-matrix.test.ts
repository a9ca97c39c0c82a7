/**
 * Every registered route × every role: anonymous callers are sent to sign in (pages) or get 401
 * JSON (API); a signed-in role gets 403 exactly when it lacks the route's declared permission, and
 * otherwise is let through; every refusal leaves an `authz_denied` audit entry naming the route,
 * the permission, the caller, the address and the request id, except an anonymous page read
 * (`GET`), which is only sent to sign in. The routes come from the route
 * table, so a module added later is covered without touching this file.
 */
import { Context, Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isStateChanging } from "../../src/core/auth/csrf.ts"
import { Permissions } from "../../src/core/auth/permissions.ts"
import { type Role, roles } from "../../src/core/auth/roles.ts"
import { type RegisteredRoute, RouteTable } from "../../src/core/http/route.ts"
import { withSql } from "../support/admin-sql.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { createUser, login, type TestSession } from "../support/session.ts"

let stores: TestStores
let app: Awaited<ReturnType<typeof startAppPromise>>
let routes: ReadonlyArray<RegisteredRoute>
const sessions = new Map<Role, TestSession>()
const passwordOf = (role: Role) => `matrix-${role}-password`

beforeAll(async () => {
  stores = await createTestStores()
  app = await startAppPromise(testEnv(stores))
  routes = await Effect.runPromise(Context.get(app.context, RouteTable).routes)
  for (const role of roles) {
    await createUser(app, { email: `${role}@matrix.local`, role, password: passwordOf(role) })
    sessions.set(role, await login(app.baseUrl, `${role}@matrix.local`, passwordOf(role)))
  }
})
afterAll(() => app?.stop())

/** A concrete URL for a path template: ids become a random UUID, other parameters "x". */
const concrete = (path: string) =>
  path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) =>
    /id$/i.test(name) ? "00000000-0000-4000-8000-000000000000" : "x"
  )

let sequence = 0

interface Outcome {
  readonly status: number
  readonly location: string | null
  readonly contentType: string | null
  readonly requestId: string
}

/** One request as `who`; signing out uses a session of its own so the role's session survives. */
const call = async (route: RegisteredRoute, who: Role | "anonymous"): Promise<Outcome> => {
  const requestId = `matrix-${++sequence}`
  const headers = new Headers({ "x-request-id": requestId })
  if (who !== "anonymous") {
    const session =
      route.method === "POST" && route.path === "/logout"
        ? await login(app.baseUrl, `${who}@matrix.local`, passwordOf(who))
        : sessions.get(who)
    if (session === undefined) throw new Error(`no session for ${who}`)
    headers.set("cookie", session.cookie)
    headers.set("x-csrf-token", session.csrfToken)
  }
  const init: RequestInit = { method: route.method, headers, redirect: "manual", signal: AbortSignal.timeout(10_000) }
  if (isStateChanging(route.method)) {
    headers.set("content-type", "application/x-www-form-urlencoded")
    init.body = ""
  }
  const response = await fetch(`${app.baseUrl}${concrete(route.path)}`, init)
  // Streams (SSE, exports) need not be read: the status is what this test is about.
  await response.body?.cancel()
  return {
    status: response.status,
    location: response.headers.get("location"),
    contentType: response.headers.get("content-type"),
    requestId
  }
}

interface DeniedEntry {
  readonly request_id: string
  readonly actor_type: string
  readonly resource_id: string
  readonly details: Record<string, unknown>
  readonly client_address: string
}

const deniedEntries = async (requestIds: ReadonlyArray<string>) =>
  new Map(
    (
      await withSql(
        stores.databaseUrl,
        (sql) =>
          sql<DeniedEntry>`SELECT request_id, actor_type, resource_id, details, client_address FROM audit_log
          WHERE action = 'authz_denied' AND request_id IN ${sql.in(requestIds)}`
      )
    ).map((row) => [row.request_id, row])
  )

describe("role × route matrix", () => {
  it("covers every registered route", () => {
    expect(routes.length).toBeGreaterThan(10)
    expect(routes.some((r) => r.path === "/admin/users")).toBe(true)
  })

  it("checks each route for anonymous, viewer, operator and admin", async () => {
    const problems: Array<string> = []
    const signInRedirects: Array<{ readonly what: string; readonly requestId: string }> = []
    const denials: Array<{
      readonly what: string
      readonly route: RegisteredRoute
      readonly who: string
      readonly requestId: string
    }> = []
    for (const route of routes) {
      const name = `${route.method} ${route.path} (${route.access})`
      for (const who of ["anonymous", ...roles] as const) {
        const outcome = await call(route, who)
        const got = `${name} as ${who}: ${outcome.status}`
        const denied = outcome.status === 401 || outcome.status === 403
        if (route.access === "public") {
          if (denied) problems.push(`${got}, but the route is public`)
          continue
        }
        if (who === "anonymous") {
          if (route.path.startsWith("/api/")) {
            if (outcome.status !== 401 || !outcome.contentType?.includes("application/json"))
              problems.push(`${got} (${outcome.contentType}), expected 401 JSON`)
          } else if (outcome.status !== 303 || !outcome.location?.startsWith("/login"))
            problems.push(`${got} → ${outcome.location}, expected 303 to /login`)
        } else {
          const holds = Context.get(app.context, Permissions).ofRole(who).has(route.access)
          if (holds && denied) problems.push(`${got}, but ${who} holds ${route.access}`)
          if (!holds && outcome.status !== 403) problems.push(`${got}, expected 403: ${who} lacks ${route.access}`)
        }
        // A page read without credentials is sent to sign in, not audited; a state change is.
        if (who === "anonymous" && outcome.status === 303 && route.method === "GET")
          signInRedirects.push({ what: got, requestId: outcome.requestId })
        else if (denied || (who === "anonymous" && outcome.status === 303))
          denials.push({ what: got, route, who, requestId: outcome.requestId })
      }
    }
    // Every refusal was audited, naming the route, the permission, the caller and the address.
    const entries = await deniedEntries(denials.map((d) => d.requestId))
    for (const d of denials) {
      const entry = entries.get(d.requestId)
      if (entry === undefined) {
        problems.push(`${d.what}: no authz_denied audit entry`)
        continue
      }
      expect(entry.details).toMatchObject({ method: d.route.method, route: d.route.path, permission: d.route.access })
      expect(entry.resource_id).toBe(`${d.route.method} ${d.route.path}`)
      expect(entry.client_address).toBe("127.0.0.1")
      expect(entry.actor_type).toBe(d.who === "anonymous" ? "anonymous" : "user")
    }
    // …and a page load that was only sent to sign in is not a denial.
    const redirected = await deniedEntries(signInRedirects.map((r) => r.requestId))
    for (const r of signInRedirects)
      if (redirected.has(r.requestId)) problems.push(`${r.what}: sent to sign in, but audited as a denial`)
    expect(signInRedirects.length).toBeGreaterThan(5)
    expect(denials.length).toBeGreaterThan(10)
    expect(problems).toEqual([])
  }, 120_000)
})
