/**
 * The module contract end to end: a module's layer, routes, fibers and navigation are installed;
 * a route without a valid permission stops the start; every registered route declares its access.
 */
import { Context, Effect, Exit, Layer, Schema, Scope } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { beforeAll, describe, expect, it, vi } from "vitest"
import { CurrentPrincipal } from "../../src/core/auth/access.ts"
import { Permissions } from "../../src/core/auth/permissions.ts"
import { decodeJson } from "../../src/core/http/decode.ts"
import { RouteTable } from "../../src/core/http/route.ts"
import { defineModule } from "../../src/core/module.ts"
import { periodicFiber, Supervisor } from "../../src/core/supervisor.ts"
import { modules } from "../../src/modules.ts"
import { startApp, testEnv } from "../support/app.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { loginAsAdmin } from "../support/session.ts"

class Greeter extends Context.Service<Greeter, { readonly greet: (name: string) => string }>()("test/Greeter") {
  static readonly layer = Layer.succeed(Greeter, { greet: (name: string) => `hello, ${name}` })
}

let ticks = 0
const greeterModule = defineModule({
  name: "greeter",
  layer: Greeter.layer,
  fibers: [
    periodicFiber(
      "greeter.ticker",
      "50 millis",
      Effect.sync(() => void ticks++)
    )
  ],
  routes: [
    {
      method: "GET",
      path: "/greet/:name",
      access: "VIEW_DASHBOARD",
      summary: "test route",
      handler: Effect.gen(function* () {
        const greeter = yield* Greeter
        const principal = yield* CurrentPrincipal
        const { name } = yield* HttpRouter.params
        return HttpServerResponse.text(`${greeter.greet(name ?? "?")} (as ${principal.name})`)
      })
    },
    {
      method: "GET",
      path: "/api/v1/kaboom",
      access: "VIEW_DASHBOARD",
      summary: "a bug",
      docs: { response: Schema.String },
      handler: Effect.die(new Error("kaboom: internal detail"))
    },
    {
      method: "GET",
      path: "/kaboom",
      access: "VIEW_DASHBOARD",
      summary: "a bug on a page",
      handler: Effect.die(new Error("kaboom: internal detail"))
    },
    {
      method: "POST",
      path: "/api/v1/greetings",
      access: "VIEW_DASHBOARD",
      summary: "decodes a body",
      docs: { body: Schema.Struct({ name: Schema.String, times: Schema.Int }), response: Schema.String },
      handler: Effect.gen(function* () {
        const body = yield* decodeJson(Schema.Struct({ name: Schema.String, times: Schema.Int }))
        return HttpServerResponse.text(body.name.repeat(body.times))
      })
    }
  ],
  navigation: [
    { label: "Greeter", path: "/greet/world", permissions: ["VIEW_DASHBOARD"], order: 50, feature: "GREETER" }
  ]
})

let stores: TestStores
beforeAll(async () => {
  stores = await createTestStores()
})

const withApp = <A>(
  env: Record<string, string>,
  list: ReadonlyArray<typeof greeterModule>,
  f: (app: Effect.Success<ReturnType<typeof startApp>>) => Promise<A>
) => Effect.runPromise(Effect.scoped(Effect.flatMap(startApp(env, list), (app) => Effect.promise(() => f(app)))))

describe("module contract", () => {
  it("installs a module's services, routes, fibers and navigation entries", () =>
    withApp(testEnv(stores), [...modules, greeterModule], async (app) => {
      const admin = await loginAsAdmin(app.baseUrl)
      const res = await admin.fetch("/greet/ann")
      expect(res.status).toBe(200)
      expect(await res.text()).toBe("hello, ann (as Administrator)")
      const page = await (await admin.fetch("/about")).text()
      expect(page).toContain('<a href="/greet/world">Greeter</a>')
      await new Promise((r) => setTimeout(r, 200))
      expect(ticks).toBeGreaterThan(0)
      const fibers = await Effect.runPromise(Context.get(app.context, Supervisor).statuses)
      expect(fibers.map((f) => f.name)).toEqual([
        "api.rate-limit",
        "audit.sealer",
        "audit.writer",
        "breaker.event-feed",
        "breaker.listener",
        "breaker.publisher",
        "breaker.verifier",
        "events.keep-alive",
        "events.relay",
        "greeter.ticker",
        "identity.sweeper",
        "retention.daily",
        "settings.follower",
        "settings.reload",
        "system.sampler"
      ])
    }))

  it("answers an unexpected failure with a 500 that carries the request id and no internals", () =>
    withApp(testEnv(stores), [...modules, greeterModule], async (app) => {
      const admin = await loginAsAdmin(app.baseUrl)
      // The application logs to stdout in-process: capture the lines instead of printing them.
      const lines: Array<string> = []
      const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk))
        return true
      })
      const api = await admin.fetch("/api/v1/kaboom").finally(() => write.mockRestore())
      expect(api.status).toBe(500)
      const body = await api.json()
      expect(body.error).toEqual({
        code: "internal",
        message: "Something went wrong on our side.",
        requestId: api.headers.get("x-request-id")
      })
      // The cause goes to the log, with the request id, never to the client.
      const logged = lines
        .flatMap((l) => l.split("\n"))
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === "request failed")
      expect(logged).toMatchObject({ level: "error", requestId: api.headers.get("x-request-id") })
      expect(String(logged?.cause)).toContain("kaboom: internal detail")
      const quiet = vi.spyOn(process.stdout, "write").mockImplementation(() => true)
      const page = await admin.fetch("/kaboom").finally(() => quiet.mockRestore())
      expect(page.status).toBe(500)
      const html = await page.text()
      expect(html).toContain("500 · Internal error")
      expect(html).toContain(page.headers.get("x-request-id"))
      expect(html).not.toContain("kaboom")
    }))

  it("answers bad input with 400 naming each field and its problem", () =>
    withApp(testEnv(stores), [...modules, greeterModule], async (app) => {
      const admin = await loginAsAdmin(app.baseUrl)
      const post = (body: string) =>
        admin.fetch("/api/v1/greetings", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body
        })
      const ok = await post(JSON.stringify({ name: "ab", times: 2 }))
      expect(await ok.text()).toBe("abab")
      const bad = await post(JSON.stringify({ name: 3, times: 1.5 }))
      expect(bad.status).toBe(400)
      const { error } = await bad.json()
      expect(error.code).toBe("bad_request")
      expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["name", "times"])
      expect(error.message).toContain("times")
      const malformed = await post("{not json")
      expect(malformed.status).toBe(400)
      expect((await malformed.json()).error.code).toBe("bad_request")
    }))

  it("hides a navigation entry whose feature is switched off", () =>
    withApp(testEnv(stores, { FEATURE_GREETER: "false" }), [...modules, greeterModule], async (app) => {
      const admin = await loginAsAdmin(app.baseUrl)
      const page = await (await admin.fetch("/about")).text()
      expect(page).toContain("About this Breakwater")
      expect(page).not.toContain("Greeter")
    }))

  it("refuses to start when a route declares no valid permission", async () => {
    const broken = defineModule({
      name: "broken",
      layer: Layer.empty,
      routes: [
        {
          method: "GET",
          path: "/oops",
          // What a JavaScript plugin or a cast could smuggle past the type checker.
          access: "EVERYTHING" as "public",
          summary: "no permission",
          handler: Effect.succeed(HttpServerResponse.text("should never serve"))
        }
      ]
    })
    const scope = await Effect.runPromise(Scope.make())
    const exit = await Effect.runPromiseExit(startApp(testEnv(stores), [...modules, broken]).pipe(Scope.provide(scope)))
    await Effect.runPromise(Scope.close(scope, Exit.void))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain("declares no valid permission")
    expect(String(exit)).toContain("/oops")
  })

  it("refuses two modules declaring the same route", async () => {
    const twin = defineModule({
      name: "twin",
      layer: Layer.empty,
      routes: [
        {
          method: "GET",
          path: "/about",
          access: "public",
          summary: "clash",
          handler: Effect.succeed(HttpServerResponse.empty())
        }
      ]
    })
    const scope = await Effect.runPromise(Scope.make())
    const exit = await Effect.runPromiseExit(startApp(testEnv(stores), [...modules, twin]).pipe(Scope.provide(scope)))
    await Effect.runPromise(Scope.close(scope, Exit.void))
    expect(String(exit)).toMatch(/route GET \/about is declared by both (system and twin|twin and system)/)
  })

  it("every registered route declares public access or a known permission", () =>
    withApp(testEnv(stores), modules, async (app) => {
      const routes = await Effect.runPromise(Context.get(app.context, RouteTable).routes)
      expect(routes.length).toBeGreaterThan(5)
      for (const r of routes)
        expect(
          r.access === "public" || Context.get(app.context, Permissions).isPermission(r.access),
          `${r.method} ${r.path}`
        ).toBe(true)
      // The only public routes are the probes, static assets, sign-in and sign-out.
      const publicPaths = routes.filter((r) => r.access === "public").map((r) => r.path)
      for (const p of publicPaths)
        expect(
          ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/login", "/logout"].includes(p) ||
            p.startsWith("/assets/"),
          p
        ).toBe(true)
    }))
})

describe("OpenAPI description", () => {
  it("describes every API route and probe with its permission and schemas", () =>
    withApp(testEnv(stores), modules, async (app) => {
      const routes = await Effect.runPromise(Context.get(app.context, RouteTable).routes)
      const res = await fetch(`${app.baseUrl}/api/v1/openapi.json`)
      expect(res.status).toBe(200)
      const doc = await res.json()
      expect(doc.openapi).toBe("3.1.0")
      const described = routes.filter(
        (r) =>
          (r.path.startsWith("/api/") && r.path !== "/api/v1/openapi.json") ||
          ["/healthz", "/readyz", "/metrics"].includes(r.path)
      )
      expect(described.length).toBeGreaterThan(3)
      for (const r of described) {
        const op = doc.paths[r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")]?.[r.method.toLowerCase()]
        expect(op, `${r.method} ${r.path} is described`).toBeDefined()
        expect(op.summary).toBe(r.summary)
        if (r.access !== "public") expect(op["x-permission"]).toBe(r.access)
        // Every JSON API read documents what it returns.
        if (r.method === "GET" && r.path.startsWith("/api/"))
          expect(op.responses["200"].content?.["application/json"]?.schema, `${r.path} response schema`).toBeDefined()
      }
      const system = doc.paths["/api/v1/system"].get.responses["200"].content["application/json"].schema
      expect(system.required).toContain("installationId")
    }))
})
