/**
 * The plugin platform (issue 10) with throw-away modules (`test/fixtures/modules/<name>/`), each
 * importing only core, views and its own folder, meeting the others only through contracts:
 * - a provider and a consumer of a contract work end to end, in either order in the module list;
 * - the start refuses, with a message naming the modules and the contract: a missing provider
 *   (and the usual one, when the contract names it), two providers, a cycle, a module claiming a
 *   contract its layer does not build, a duplicate name, a duplicate channel, an undeclared
 *   permission on a route and an invalid error answer;
 * - the real `ChannelRegistry` and `Outbox` contracts plug in: a registry, a channel that
 *   registers itself, an outbox whose rows commit with the caller's transaction, and a consumer
 *   that enqueues and dispatches to a local HTTP sink;
 * - a module's permissions, setting, retention job, CLI command, error answers and event topic each
 *   work end to end.
 */
import { readdirSync, readFileSync } from "node:fs"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { dirname, join, normalize, relative } from "node:path"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Console, type Context, Effect, Exit, Layer, Schema, Scope } from "effect"
import { Command } from "effect/cli"
import { HttpServerResponse } from "effect/http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliFor } from "../../src/cli.ts"
import { buildOrder, ModuleContexts } from "../../src/core/application.ts"
import { Permissions } from "../../src/core/auth/permissions.ts"
import { ChannelRegistry } from "../../src/core/contracts/channel.ts"
import { EventBus } from "../../src/core/contracts/event-bus.ts"
import { carriedAnswer } from "../../src/core/errors/http-answer.ts"
import { defineModule, type Module } from "../../src/core/module.ts"
import { Settings } from "../../src/core/settings/service.ts"
import { defineSetting } from "../../src/core/settings/spec.ts"
import { modules } from "../../src/modules.ts"
import { Ping, Pong, Tally } from "../fixtures/contracts/tally.ts"
import { channelRegistryModule } from "../fixtures/modules/channel-registry/index.ts"
import { echoChannel, echoChannelModule } from "../fixtures/modules/echo-channel/index.ts"
import { greetingsModule, salutation } from "../fixtures/modules/greetings/index.ts"
import { QuotaExceeded } from "../fixtures/modules/greetings/vendor.ts"
import { notifierModule } from "../fixtures/modules/notifier/index.ts"
import { outboxModule } from "../fixtures/modules/outbox/index.ts"
import { TallyLedger, tallyModule } from "../fixtures/modules/tally/index.ts"
import { tallyClickerModule } from "../fixtures/modules/tally-clicker/index.ts"
import { withSql } from "../support/admin-sql.ts"
import { provided, startApp, startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { openEventStream } from "../support/event-stream.ts"
import { waitFor } from "../support/processes.ts"
import { loginAsAdmin, loginAsNewUser, type TestSession } from "../support/session.ts"

/** Every consumer is listed before its provider: the composition puts providers first. */
const fixtures: ReadonlyArray<Module> = [
  tallyClickerModule,
  tallyModule,
  notifierModule,
  echoChannelModule,
  outboxModule,
  channelRegistryModule,
  greetingsModule
]

/** The tables of the fixtures (a real plugin would ship migrations). */
const FIXTURE_TABLES = [
  `CREATE TABLE fixture_outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    dedup_key text NOT NULL UNIQUE,
    channel text NOT NULL,
    recipient jsonb NOT NULL,
    message jsonb NOT NULL,
    not_before timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    provider_id text,
    failed_at timestamptz,
    last_error text
  )`,
  "CREATE TABLE fixture_notices (id bigserial PRIMARY KEY, text text NOT NULL, dedup_key text NOT NULL)",
  `CREATE TABLE fixture_greetings (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`
]

interface Received {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: Record<string, unknown>
}

/** A webhook receiver on a free port: records each request; `/reject` answers 400, others 202 with an id. */
const startSink = () =>
  new Promise<{ readonly url: string; readonly received: Array<Received>; readonly close: () => Promise<void> }>(
    (resolve) => {
      const received: Array<Received> = []
      const server = createServer((request, response) => {
        let text = ""
        request.setEncoding("utf8")
        request.on("data", (chunk: string) => {
          text += chunk
        })
        request.on("end", () => {
          received.push({ path: request.url ?? "/", headers: request.headers, body: JSON.parse(text || "{}") })
          if (request.url === "/reject") response.writeHead(400).end()
          else
            response
              .writeHead(202, { "content-type": "application/json" })
              .end(JSON.stringify({ id: `echo-${received.length}` }))
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resolve({
          url: `http://127.0.0.1:${port}`,
          received,
          close: () =>
            new Promise((done) => {
              server.closeAllConnections()
              server.close(() => done())
            })
        })
      })
    }
  )

let stores: TestStores
let app: Awaited<ReturnType<typeof startAppPromise>>
let sink: Awaited<ReturnType<typeof startSink>>
let admin: TestSession
let operator: TestSession
let viewer: TestSession

const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params))

beforeAll(async () => {
  stores = await createTestStores()
  for (const statement of FIXTURE_TABLES) await query(statement)
  sink = await startSink()
  app = await startAppPromise(testEnv(stores), [...modules, ...fixtures])
  admin = await loginAsAdmin(app.baseUrl)
  operator = await loginAsNewUser(app, { email: "otto@platform.test", role: "operator" })
  viewer = await loginAsNewUser(app, { email: "vera@platform.test", role: "viewer" })
})

afterAll(async () => {
  await app?.stop()
  await sink?.close()
})

const json = (session: TestSession, method: string, path: string, body?: unknown) =>
  session.fetch(path, {
    method,
    headers: { "content-type": "application/json", accept: "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string }
}

/** Starts the application with `list`, stops it, and tells how the start ended. */
const startExit = async (list: ReadonlyArray<Module>) => {
  const scope = await Effect.runPromise(Scope.make())
  const exit = await Effect.runPromiseExit(startApp(testEnv(stores), list).pipe(Scope.provide(scope)))
  await Effect.runPromise(Scope.close(scope, Exit.void))
  return exit
}

/** Starts the application with `list` and returns the typed failure that stopped the start. */
const refusal = async (list: ReadonlyArray<Module>) => {
  const exit = await startExit(list)
  if (Exit.isSuccess(exit)) throw new Error("the application started")
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  if (failure === undefined) throw new Error(`the start stopped without a typed failure: ${String(exit.cause)}`)
  return failure.error as { readonly _tag: string; readonly message: string }
}

describe("a provider and a consumer meet through a contract", () => {
  it("the consumer's route and fiber use the provider's service, though the list names the consumer first", async () => {
    const first = await json(viewer, "POST", "/api/v1/clicks/door")
    expect(first.status, await first.clone().text()).toBe(200)
    expect(await first.json()).toEqual({ counter: "door", total: 1 })
    expect(await (await json(viewer, "POST", "/api/v1/clicks/door")).json()).toEqual({ counter: "door", total: 2 })
    // The provider's own route reads the same counters: one service, shared.
    expect(await (await json(viewer, "GET", "/api/v1/tally/door")).json()).toEqual({ counter: "door", total: 2 })
    // The consumer's supervised fiber adds a heartbeat every 50 ms through the contract.
    const beats = await waitFor(
      "the consumer's fiber to add heartbeats",
      async () => {
        const { total } = (await (await json(viewer, "GET", "/api/v1/tally/heartbeats")).json()) as { total: number }
        return total >= 2 ? total : undefined
      },
      { timeoutMs: 5000 }
    )
    expect(beats).toBeGreaterThanOrEqual(2)
  })

  it("a module's dashboard panel shows its service's state, in its place between the breaker and Breakwater itself", async () => {
    const dashboard = await (await viewer.fetch("/", { headers: { accept: "text/html" } })).text()
    const at = (id: string) => dashboard.indexOf(`id="${id}"`)
    expect(at("dashboard-tally")).toBeGreaterThan(at("breaker-summary-console"))
    expect(at("dashboard-tally")).toBeLessThan(at("dashboard-breakwater"))
    const door = Number(/data-field="door">(\d+) clicks/.exec(dashboard)?.[1])
    await json(viewer, "POST", "/api/v1/clicks/door")
    const after = await (await viewer.fetch("/", { headers: { accept: "text/html" } })).text()
    expect(after).toContain(`data-field="door">${door + 1} clicks`)
  })

  it("the composition builds providers before their consumers, whatever the order of the list", async () => {
    const names = (list: ReadonlyArray<Module>) =>
      Effect.runPromise(Effect.map(buildOrder(list), (ordered) => ordered.map((m) => m.name)))
    expect(await names([tallyClickerModule, tallyModule])).toEqual(["tally", "tally-clicker"])
    expect(await names([tallyModule, tallyClickerModule])).toEqual(["tally", "tally-clicker"])
    const ordered = await names([...modules, ...fixtures])
    const buildsFirst = (provider: string, consumer: string) =>
      expect(ordered.indexOf(provider), `${provider} before ${consumer}`).toBeLessThan(ordered.indexOf(consumer))
    buildsFirst("tally", "tally-clicker")
    buildsFirst("channel-registry", "echo-channel")
    buildsFirst("channel-registry", "outbox")
    buildsFirst("outbox", "notifier")
  })

  it("only what a module provides joins the shared graph; the rest stays private to it", () => {
    const contexts = provided(app, ModuleContexts)
    const holds = (context: Context.Context<never>, tag: { readonly key: string }) => context.mapUnsafe.has(tag.key)
    expect(holds(contexts.of("tally"), TallyLedger)).toBe(true)
    expect(holds(contexts.of("tally-clicker"), TallyLedger)).toBe(false)
    expect(holds(app.context as Context.Context<never>, TallyLedger)).toBe(false)
    expect(holds(contexts.of("tally-clicker"), Tally)).toBe(true)
    expect(holds(app.context as Context.Context<never>, Tally)).toBe(true)
  })

  it("the fixtures keep the house rule: core, views, their own folder and the fixture contracts only", () => {
    const root = join(import.meta.dirname, "../..")
    const base = "test/fixtures/modules"
    const problems: Array<string> = []
    const seen: Array<string> = []
    const folders = readdirSync(join(root, base))
    expect(folders.length).toBeGreaterThanOrEqual(7)
    for (const folder of folders)
      for (const file of readdirSync(join(root, base, folder)).filter((f) => f.endsWith(".ts"))) {
        const path = join(base, folder, file)
        const text = readFileSync(join(root, path), "utf8")
        for (const match of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
          const target = relative(root, normalize(join(root, dirname(path), match[1] ?? "")))
          const allowed =
            target.startsWith("src/core/") ||
            target.startsWith("views/") ||
            target.startsWith(`${base}/${folder}/`) ||
            target.startsWith("test/fixtures/contracts/")
          seen.push(`${path} → ${target}`)
          if (!allowed) problems.push(`${path} → ${target}`)
        }
      }
    // The check is not vacuous: it resolves the fixtures' imports.
    expect(seen).toContain("test/fixtures/modules/tally-clicker/index.ts → test/fixtures/contracts/tally.ts")
    expect(seen).toContain("test/fixtures/modules/greetings/index.ts → test/fixtures/modules/greetings/vendor.ts")
    expect(problems).toEqual([])
  })
})

describe("declarations the start refuses, naming the modules and the contract", () => {
  const pingFromPong = Layer.effect(
    Ping,
    Effect.map(Pong, (pong) => Ping.of({ ping: pong.pong }))
  )
  const pongFromPing = Layer.effect(
    Pong,
    Effect.map(Ping, (ping) => Pong.of({ pong: ping.ping }))
  )
  /** Provides Ping, requires Pong. */
  const pinger = defineModule({ name: "pinger", requires: [Pong], provides: [Ping], layer: pingFromPong })
  /** Provides Pong, requires Ping. */
  const ponger = defineModule({ name: "ponger", requires: [Ping], provides: [Pong], layer: pongFromPing })

  it("a missing provider: names the requiring module, the contract and the usual provider", async () => {
    const error = await refusal([...modules, tallyClickerModule])
    expect(error._tag).toBe("ModuleWiringError")
    expect(error.message).toBe(
      "module tally-clicker requires Tally, which no installed module provides (it comes with the tally module): add the provider to src/modules.ts or remove tally-clicker"
    )
    // A real contract of core: the delivery module will provide it.
    expect((await refusal([...modules, echoChannelModule])).message).toBe(
      "module echo-channel requires ChannelRegistry, which no installed module provides (it comes with the delivery module): add the provider to src/modules.ts or remove echo-channel"
    )
    // A contract that names no usual provider.
    expect((await refusal([...modules, pinger])).message).toBe(
      "module pinger requires Pong, which no installed module provides: add the provider to src/modules.ts or remove pinger"
    )
  })

  it("two dashboard panels with one id", async () => {
    const copy = defineModule({
      name: "tally-copy",
      dashboard: [{ id: "tally", order: 1, permissions: ["VIEW_DASHBOARD"], render: Effect.succeed(undefined) }]
    })
    expect((await refusal([...modules, tallyModule, copy])).message).toBe(
      "dashboard panel tally is declared by both tally and tally-copy: give one another id"
    )
  })

  it("two providers of one contract", async () => {
    const zeros = Layer.succeed(Tally, Tally.of({ add: () => Effect.succeed(0), total: () => Effect.succeed(0) }))
    const twin = defineModule({ name: "tally-twin", provides: [Tally], layer: zeros })
    const error = await refusal([...modules, tallyModule, twin])
    expect(error._tag).toBe("ModuleWiringError")
    expect(error.message).toBe("Tally is provided by both tally and tally-twin: install one of them")
  })

  it("a cycle between modules", async () => {
    const error = await refusal([...modules, pinger, ponger])
    expect(error._tag).toBe("ModuleWiringError")
    expect(error.message).toBe("the modules require each other in a cycle: pinger → ponger → pinger")
  })

  it("a module claiming to provide a contract its layer does not build", async () => {
    const pretender = defineModule({
      name: "tally-pretender",
      // What a JavaScript plugin or a cast could smuggle past the type checker.
      provides: [Tally as unknown as Context.Key<never, unknown>],
      layer: Layer.empty
    })
    const error = await refusal([...modules, tallyClickerModule, pretender])
    expect(error._tag).toBe("ModuleWiringError")
    expect(error.message).toBe("module tally-pretender says it provides Tally, but its layer did not build it")
  })

  it("a duplicate module name", async () => {
    const impostor = defineModule({ name: "system" })
    const error = await refusal([...modules, impostor])
    expect(error._tag).toBe("ModuleWiringError")
    expect(error.message).toBe("two modules are named system")
  })

  it("a channel id registered twice (the registry's own refusal, at start)", async () => {
    const registration = Layer.effectDiscard(
      Effect.flatMap(ChannelRegistry, (r) => r.register("echo-twin", echoChannel))
    )
    const twin = defineModule({ name: "echo-twin", requires: [ChannelRegistry], layer: registration })
    const error = await refusal([...modules, channelRegistryModule, echoChannelModule, twin])
    expect(error._tag).toBe("ChannelDeclarationError")
    expect(error.message).toBe("the channel echo is registered by both echo-channel and echo-twin")
  })

  it("a route naming a permission no module declares", async () => {
    const typo = defineModule({
      name: "greetings-typo",
      routes: [
        {
          method: "GET",
          path: "/api/v1/greeting-typo",
          access: "VIEW_GREETING",
          summary: "a permission with a typo",
          handler: Effect.succeed(HttpServerResponse.empty())
        }
      ]
    })
    // Declared by the greetings module, the permission is fine; misspelt, it stops the start.
    const error = await refusal([...modules, greetingsModule, typo])
    expect(error._tag).toBe("RouteDeclarationError")
    expect(error.message).toBe(
      "route GET /api/v1/greeting-typo (module greetings-typo) declares no valid permission: VIEW_GREETING"
    )
  })

  it("an invalid declared error answer", async () => {
    const bad = defineModule({
      name: "bad-answers",
      errors: { QuotaExceeded: { status: 200, code: "Quota Exceeded", title: "Quota" } }
    })
    const error = await refusal([...modules, bad])
    expect(error._tag).toBe("ModuleWiringError")
    expect(error.message).toBe(
      "module bad-answers declares an invalid HTTP answer for QuotaExceeded: a 4xx/5xx status, a snake_case code and a title"
    )
  })

  it("a retention job whose period setting no module declares", async () => {
    const period = defineSetting({
      key: "orphan.keep_days",
      schema: Schema.Int,
      default: 7,
      description: "never declared",
      permission: "MANAGE_SYSTEM_CONFIG"
    })
    const orphan = defineModule({
      name: "orphan",
      retentionJobs: [
        { name: "orphan.sessions", description: "test", table: "sessions", ageColumn: "expires_at", period }
      ]
    })
    const error = await refusal([...modules, orphan])
    expect(error._tag).toBe("ModuleWiringError")
    expect(error.message).toBe(
      "module orphan's retention job orphan.sessions reads its period from the setting orphan.keep_days, which no installed module declares: add it to the module's settings"
    )
  })
})

describe("the real ChannelRegistry and Outbox contracts plug in", () => {
  const notice = (body: Record<string, unknown>) =>
    json(admin, "POST", "/api/v1/notices", { channel: "echo", text: "the market opens late", ...body })

  const outboxRows = (dedupKey: string) =>
    query<{
      id: string
      sent_at: Date | null
      provider_id: string | null
      failed_at: Date | null
      last_error: string | null
    }>("SELECT id, sent_at, provider_id, failed_at, last_error FROM fixture_outbox WHERE dedup_key = $1", [dedupKey])

  it("the channel registered itself from its layer at start", async () => {
    const res = await json(viewer, "GET", "/api/v1/channels")
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      channels: [{ id: "echo", module: "echo-channel", displayName: "Echo", deduplicates: false, canUpdate: false }]
    })
  })

  it("the registry refuses a malformed id and a duplicate, naming both modules", async () => {
    const registry = provided(app, ChannelRegistry)
    const refused = (module: string, id: string) =>
      Effect.runPromise(Effect.flip(registry.register(module, { ...echoChannel, id })))
    expect((await refused("late", "echo")).message).toBe("the channel echo is registered by both echo-channel and late")
    expect((await refused("late", "Echo!")).message).toBe(
      'module late registers the channel "Echo!": an id is a lower-case letter, then at most 31 lower-case letters, digits or -'
    )
    expect((await refused("late", `a${"b".repeat(32)}`))._tag).toBe("ChannelDeclarationError")
    expect((await Effect.runPromise(registry.list)).map((c) => c.id)).toEqual(["echo"])
  })

  it("the registry decodes configuration and recipient with the channel's schemas before send", async () => {
    const echo = await Effect.runPromise(provided(app, ChannelRegistry).get("echo"))
    if (echo === undefined) throw new Error("no echo channel")
    const sent = sink.received.length
    const message = { deliveryId: "d-1", title: "t", body: "b", severity: "info" as const, links: [], fields: {} }
    const failure = await Effect.runPromise(Effect.flip(echo.send({ token: 7 }, { url: "ftp:x" }, message)))
    expect(failure._tag).toBe("ChannelPermanent")
    expect(failure.message).toContain("the configuration does not fit channel echo: token:")
    const recipient = await Effect.runPromise(
      Effect.flip(echo.send({ token: "long-enough-token" }, { url: "ftp:x" }, message))
    )
    expect(recipient.message).toBe("the recipient does not fit channel echo: url: must be an http(s) URL")
    expect(sink.received.length).toBe(sent)
    // Decoded, the token is a redacted value the channel unwraps only to send.
    const receipt = await Effect.runPromise(
      echo.send({ token: "long-enough-token" }, { url: `${sink.url}/direct` }, message)
    )
    expect(receipt.providerId).toBe(`echo-${sink.received.length}`)
    expect(sink.received.at(-1)?.headers.authorization).toBe("Bearer long-enough-token")
    expect(echo.describe({ url: `${sink.url}/secret-path` })).toBe(`${sink.url}/***`)
    expect(echo.describe({ url: 3 })).toBe("not a recipient of echo")
  })

  it("a notice and its delivery commit together; the dispatcher fiber sends it through the channel", async () => {
    const res = await notice({ recipient: { url: `${sink.url}/hooks/ops` }, dedupKey: "notice-1" })
    expect(res.status, await res.clone().text()).toBe(201)
    const { ids, duplicates } = (await res.json()) as { ids: ReadonlyArray<string>; duplicates: number }
    expect(duplicates).toBe(0)
    expect(ids).toHaveLength(1)
    const delivered = await waitFor(
      "the dispatcher to send notice-1 to the sink",
      async () => sink.received.find((r) => r.headers["idempotency-key"] === ids[0]),
      { timeoutMs: 5000 }
    )
    expect(delivered).toMatchObject({
      path: "/hooks/ops",
      headers: { authorization: "Bearer echo-fixture-token" },
      body: { deliveryId: ids[0], title: "Notice", body: "the market opens late", severity: "info" }
    })
    const row = await waitFor(
      "the delivery to be marked sent",
      async () => (await outboxRows("notice-1")).find((r) => r.sent_at !== null),
      { timeoutMs: 5000 }
    )
    expect(row).toMatchObject({ id: ids[0], provider_id: expect.stringMatching(/^echo-\d+$/), failed_at: null })
    expect(await query("SELECT text FROM fixture_notices WHERE dedup_key = 'notice-1'")).toEqual([
      { text: "the market opens late" }
    ])
  })

  it("a rolled-back transaction leaves no delivery (and no notice)", async () => {
    const res = await notice({ recipient: { url: `${sink.url}/hooks/ops` }, dedupKey: "notice-aborted", abort: true })
    expect(res.status).toBe(409)
    expect(((await res.json()) as ErrorBody).error.code).toBe("conflict")
    expect(await outboxRows("notice-aborted")).toEqual([])
    expect(await query("SELECT id FROM fixture_notices WHERE dedup_key = 'notice-aborted'")).toEqual([])
  })

  it("a repeated dedupKey gives one delivery row, sent once", async () => {
    const first = (await (
      await notice({ recipient: { url: `${sink.url}/twice` }, dedupKey: "notice-twice" })
    ).json()) as {
      ids: ReadonlyArray<string>
      duplicates: number
    }
    const again = await notice({ recipient: { url: `${sink.url}/twice` }, dedupKey: "notice-twice" })
    expect(again.status).toBe(201)
    expect(await again.json()).toEqual({ ids: first.ids, duplicates: 1 })
    await waitFor(
      "the delivery to be sent",
      async () => (await outboxRows("notice-twice")).find((r) => r.sent_at !== null),
      { timeoutMs: 5000 }
    )
    expect(await outboxRows("notice-twice")).toHaveLength(1)
    expect(sink.received.filter((r) => r.headers["idempotency-key"] === first.ids[0])).toHaveLength(1)
  })

  it("an unknown channel or a recipient the channel refuses: 400 as the consumer declared for OutboxRefused", async () => {
    const badRecipient = await notice({ recipient: { url: "not a url" }, dedupKey: "notice-bad-recipient" })
    expect(badRecipient.status).toBe(400)
    expect(((await badRecipient.json()) as ErrorBody).error).toMatchObject({
      code: "outbox_refused",
      message: "entry 0: the recipient does not fit channel echo: url: must be an http(s) URL"
    })
    const unknown = await notice({ channel: "carrier-pigeon", recipient: {}, dedupKey: "notice-no-channel" })
    expect(unknown.status).toBe(400)
    expect(((await unknown.json()) as ErrorBody).error).toMatchObject({
      code: "outbox_refused",
      message: "entry 0: no channel carrier-pigeon"
    })
    expect(await outboxRows("notice-bad-recipient")).toEqual([])
    expect(await outboxRows("notice-no-channel")).toEqual([])
  })

  it("a receiver's refusal is the channel's permanent failure, recorded on the delivery", async () => {
    const res = await notice({ recipient: { url: `${sink.url}/reject` }, dedupKey: "notice-rejected" })
    expect(res.status).toBe(201)
    const row = await waitFor(
      "the delivery to fail",
      async () => (await outboxRows("notice-rejected")).find((r) => r.failed_at !== null),
      { timeoutMs: 5000 }
    )
    expect(row).toMatchObject({ sent_at: null, last_error: "echo: the receiver refused the message (400)" })
  })
})

describe("a module's permissions, setting, retention job, CLI command, error answers and topic", () => {
  describe("permissions", () => {
    it("Permissions.all() lists the module's permissions with its name and roles", () => {
      const declared = provided(app, Permissions)
        .all()
        .filter((p) => p.module === "greetings")
      expect(declared).toEqual([
        {
          name: "VIEW_GREETINGS",
          description: "Read greetings and their live announcements.",
          roles: ["viewer", "operator"],
          module: "greetings"
        },
        {
          name: "MANAGE_GREETINGS",
          description: "Announce greetings and change how they read.",
          roles: [],
          module: "greetings"
        }
      ])
    })

    it("VIEW_GREETINGS lets viewers and operators in; MANAGE_GREETINGS refuses the operator, lets the admin", async () => {
      expect((await json(viewer, "GET", "/api/v1/greetings/ann")).status).toBe(200)
      expect((await json(operator, "GET", "/api/v1/greetings/ann")).status).toBe(200)
      const refused = await json(operator, "POST", "/api/v1/greetings/announce", { text: "hi" })
      expect(refused.status).toBe(403)
      expect(((await refused.json()) as ErrorBody).error.code).toBe("forbidden")
      expect((await json(viewer, "POST", "/api/v1/greetings/announce", { text: "hi" })).status).toBe(403)
      expect((await json(admin, "POST", "/api/v1/greetings/announce", { text: "hi" })).status).toBe(202)
    })

    it("an API key can be scoped to the module's permission, and the key page offers it", async () => {
      const page = await (await admin.fetch("/admin/api-keys")).text()
      expect(page).toContain("VIEW_GREETINGS")
      expect(page).toContain("MANAGE_GREETINGS")
      const create = async (scopes: ReadonlyArray<string>) => {
        const res = await json(admin, "POST", "/api/v1/api-keys", { name: `key ${scopes}`, scopes, expiresIn: "1d" })
        expect(res.status, await res.clone().text()).toBe(201)
        return ((await res.json()) as { apiKey: string }).apiKey
      }
      const greetingsKey = await create(["VIEW_GREETINGS"])
      const dashboardKey = await create(["VIEW_DASHBOARD"])
      const get = (key: string) =>
        fetch(`${app.baseUrl}/api/v1/greetings/kay`, { headers: { authorization: `Bearer ${key}` } })
      expect((await get(greetingsKey)).status).toBe(200)
      expect((await get(dashboardKey)).status).toBe(403)
      const { keys } = (await (await json(admin, "GET", "/api/v1/api-keys")).json()) as {
        keys: ReadonlyArray<{ name: string; scopes: ReadonlyArray<string> }>
      }
      expect(keys.find((k) => k.name === "key VIEW_GREETINGS")?.scopes).toEqual(["VIEW_GREETINGS"])
    })
  })

  describe("errors", () => {
    it("an error carrying its own answer: its status, code and message", async () => {
      const res = await json(viewer, "GET", "/api/v1/greetings/nobody")
      expect(res.status).toBe(404)
      expect(((await res.json()) as ErrorBody).error).toMatchObject({
        code: "greeting_not_found",
        message: "no greeting for nobody"
      })
    })

    it("a library's tagged error without an answer: answered as the module declared", async () => {
      expect(carriedAnswer(new QuotaExceeded({ message: "x" }))).toBeUndefined()
      const res = await json(viewer, "GET", "/api/v1/greetings/overload")
      expect(res.status).toBe(409)
      expect(((await res.json()) as ErrorBody).error).toMatchObject({
        code: "greeting_quota_exceeded",
        message: "the greeting quota is used up for today"
      })
    })
  })

  describe("topic", () => {
    it("delivers the module's events to a caller with its permission; 403 to one without", async () => {
      const stream = await openEventStream(app.baseUrl, "?topics=greetings", { cookie: viewer.cookie })
      try {
        const ready = await stream.next()
        expect(ready).toMatchObject({ event: "ready", data: { topics: ["greetings"] } })
        const published = await json(admin, "POST", "/api/v1/greetings/announce", { text: "good morning, desk" })
        expect(published.status).toBe(202)
        const { id } = (await published.json()) as { id: string }
        const frame = await stream.next()
        expect(frame).toMatchObject({
          id,
          event: "announced",
          data: { topic: "greetings", type: "announced", data: { text: "good morning, desk" } }
        })
      } finally {
        await stream.close()
      }
      const res = await json(admin, "POST", "/api/v1/api-keys", {
        name: "dashboard only",
        scopes: ["VIEW_DASHBOARD"],
        expiresIn: "1d"
      })
      const { apiKey } = (await res.json()) as { apiKey: string }
      const refused = await fetch(`${app.baseUrl}/api/v1/events/stream?topics=greetings`, {
        headers: { authorization: `Bearer ${apiKey}` }
      })
      expect(refused.status).toBe(403)
      expect(((await refused.json()) as ErrorBody).error).toMatchObject({
        code: "forbidden",
        message: "the topic greetings needs the permission VIEW_GREETINGS"
      })
    })
  })

  describe("setting", () => {
    it("is listed with its module; a change through the API is read by the module's route at once", async () => {
      const list = await json(viewer, "GET", "/api/v1/settings")
      expect(list.status).toBe(200)
      const { settings } = (await list.json()) as { settings: ReadonlyArray<Record<string, unknown>> }
      expect(settings.find((s) => s.key === "greetings.salutation")).toMatchObject({
        module: "greetings",
        description: "How a greeting begins.",
        permission: "MANAGE_GREETINGS",
        default: "hello"
      })
      const greeting = async () =>
        ((await (await json(viewer, "GET", "/api/v1/greetings/ann")).json()) as { greeting: string }).greeting
      expect(await greeting()).toBe("hello, ann")
      // The setting's own permission: an operator may not change it.
      expect((await json(operator, "PUT", "/api/v1/settings/greetings.salutation", { value: "ahoy" })).status).toBe(403)
      // A fresh sign-in: no password needed again.
      const changed = await json(admin, "PUT", "/api/v1/settings/greetings.salutation", { value: "ahoy" })
      expect(changed.status, await changed.clone().text()).toBe(200)
      expect(await greeting()).toBe("ahoy, ann")
      const invalid = await json(admin, "PUT", "/api/v1/settings/greetings.salutation", { value: "" })
      expect(invalid.status).toBe(400)
      expect(await greeting()).toBe("ahoy, ann")
    })
  })

  describe("retention job", () => {
    it("a dry run counts the module's rows due; a real run deletes exactly those", async () => {
      await query(
        "INSERT INTO fixture_greetings (name, created_at) SELECT 'old-' || n, now() - interval '40 days' FROM generate_series(1, 3) AS n"
      )
      await query("INSERT INTO fixture_greetings (name, created_at) VALUES ('recent', now() - interval '29 days')")
      const count = async (where: string) =>
        Number((await query<{ n: string }>(`SELECT count(*) AS n FROM fixture_greetings WHERE ${where}`))[0]?.n)
      const kept = await count("name NOT LIKE 'old-%'")

      const jobs = (await (await json(admin, "GET", "/api/v1/retention/jobs")).json()) as {
        jobs: ReadonlyArray<Record<string, unknown>>
      }
      expect(jobs.jobs.find((j) => j.name === "greetings.old_greetings")).toMatchObject({
        module: "greetings",
        table: "fixture_greetings",
        ageColumn: "created_at",
        periodSetting: "greetings.retention_days",
        periodDays: 30,
        due: 3
      })

      const dry = await json(admin, "POST", "/api/v1/retention/run", { jobs: ["greetings.old_greetings"] })
      expect(dry.status, await dry.clone().text()).toBe(200)
      expect(await dry.json()).toMatchObject({
        dryRun: true,
        jobs: [{ name: "greetings.old_greetings", table: "fixture_greetings", count: 3, periodDays: 30 }]
      })
      expect(await count("name LIKE 'old-%'")).toBe(3)

      const real = await json(admin, "POST", "/api/v1/retention/run", {
        dryRun: false,
        jobs: ["greetings.old_greetings"]
      })
      expect(real.status, await real.clone().text()).toBe(200)
      expect(await real.json()).toMatchObject({
        dryRun: false,
        ok: true,
        jobs: [{ name: "greetings.old_greetings", count: 3 }]
      })
      expect(await count("name LIKE 'old-%'")).toBe(0)
      expect(await count("name NOT LIKE 'old-%'")).toBe(kept)
    })
  })

  describe("CLI command", () => {
    it("cliFor(modules) runs the module's command over its own services, in-process", async () => {
      const env = {
        DATABASE_URL: stores.databaseUrl,
        REDIS_URL: stores.redisUrl,
        REDIS_KEY_PREFIX: stores.redisKeyPrefix,
        LOG_LEVEL: "warn"
      }
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
      const lines: Array<string> = []
      const capture: Console.Console = {
        ...globalThis.console,
        log: (...args: ReadonlyArray<unknown>) => void lines.push(args.map(String).join(" "))
      }
      const expected = await Effect.runPromise(provided(app, Settings).get(salutation))
      Object.assign(process.env, env)
      try {
        await Effect.runPromise(
          Command.runWith(cliFor([...modules, greetingsModule]), { version: "test" })([
            "greetings",
            "greet",
            "--name",
            "from-the-shell"
          ]).pipe(Effect.provideService(Console.Console, capture), Effect.provide(NodeServices.layer))
        )
      } finally {
        for (const [key, value] of Object.entries(saved))
          if (value === undefined) delete process.env[key]
          else process.env[key] = value
      }
      const printed = lines.filter((l) => !l.startsWith("{"))
      expect(printed).toEqual([`${expected}, from-the-shell (greeting number 1)`])
      expect(await query("SELECT name FROM fixture_greetings WHERE name = 'from-the-shell'")).toEqual([
        { name: "from-the-shell" }
      ])
    })
  })
})

describe("requirements", () => {
  it("a module may require a contract core provides (EventBus): core counts as its provider", async () => {
    const wantsBus = defineModule({ name: "wants-bus", requires: [EventBus] })
    const exit = await startExit([...modules, wantsBus])
    expect(Exit.isSuccess(exit) ? "started" : String(exit.cause)).toBe("started")
  })

  it("infers the union of several required contracts (routes may use each)", () => {
    const both = defineModule({ name: "needs-two", requires: [Tally, Ping] })
    expect(both.requires).toEqual([Tally, Ping])
  })
})
