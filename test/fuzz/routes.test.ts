/**
 * Every route of the route table, fuzzed (issue 9): malformed and hostile path parameters, query
 * strings, bodies, content types and headers, sent as each kind of caller (anonymous, viewer,
 * operator, admin, an admin whose sign-in is old, an API key that may only read the breaker).
 * Whatever comes in, the server must answer below 500, stay up, keep `/readyz` as it was, and a
 * refusal (4xx) must leave the domain tables and the audit log as they were, apart from the
 * evidence a refusal writes on purpose (partial-writes.ts names it).
 *
 * The routes come from the route table of the application itself, so a route added later is
 * fuzzed without touching this file. The server runs as a child process, as in production: a
 * case that crashes it fails here, with the seed, the input and the server's last output.
 *
 * `npm test` runs a fixed seed (9) and 1,000 cases; `npm run fuzz` runs 10,000 with a new seed.
 * FUZZ_SEED, FUZZ_RUNS: choose them (replay a run: the failure prints the command).
 * FUZZ_COLLECT=1: do not stop at the first failure; report each distinct one at the end.
 * FUZZ_SHRINK_SECONDS: how long to look for a smaller failing input (default 30; 0: none).
 * FUZZ_TRACE=text: print each case (and its answer) of the routes whose `METHOD /path` contains it.
 */
import { Context, Effect } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isStateChanging } from "../../src/core/auth/csrf.ts"
import { SESSION_COOKIE } from "../../src/core/auth/sessions.ts"
import { type RegisteredRoute, RouteTable } from "../../src/core/http/route.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores } from "../support/database.ts"
import { sleep } from "../support/processes.ts"
import { createUser } from "../support/session.ts"
import { type BuiltRequest, buildRequest } from "./build-request.ts"
import { caseArbitrary } from "./case-arbitrary.ts"
import { describeRequest } from "./describe-request.ts"
import type { FuzzCase } from "./fuzz-case.ts"
import { partialWrites } from "./partial-writes.ts"
import type { Vocabulary } from "./plausible-values.ts"
import { Counts, type Failure, FailureLog, formatFailure } from "./report.ts"
import {
  harvestForms,
  harvestParams,
  type ParamPools,
  type RouteShape,
  routeName,
  sampleFieldValues,
  shapeOf
} from "./routes.ts"
import { type FuzzServer, LIMITS, linesMentioning, outputTail, startFuzzServer } from "./server.ts"
import {
  createNarrowKey,
  fingerprint,
  type HarnessUser,
  knownIdentifiers,
  makePrincipals,
  openDatabase,
  type Principals,
  writtenSince
} from "./state.ts"

const intFrom = (value: string | undefined): number | undefined => {
  if (value === undefined || value.trim() === "") return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${value}`)
  return n
}

/** `npm run fuzz` sets FUZZ=1: more cases, a new seed each run. */
const FUZZ = process.env.FUZZ === "1"
const RUNS = intFrom(process.env.FUZZ_RUNS) ?? (FUZZ ? 10_000 : 1_000)
const SEED = intFrom(process.env.FUZZ_SEED) ?? (FUZZ ? Math.floor(Math.random() * 2 ** 31) : 9)
const COLLECT = process.env.FUZZ_COLLECT === "1"
const SHRINK_SECONDS = intFrom(process.env.FUZZ_SHRINK_SECONDS) ?? 30
/** FUZZ_TRACE=text: print every case of the routes whose `METHOD /path` contains it, with its answer. */
const TRACE = process.env.FUZZ_TRACE
const REQUEST_TIMEOUT_MS = 15_000
const HARNESS_PASSWORD = "fuzz-harness-password"

const replay = `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} npm run fuzz`

let server: FuzzServer | undefined
let database: ReturnType<typeof openDatabase> | undefined
let principals: Principals
let shapes: ReadonlyArray<RouteShape>
let vocabulary: Vocabulary
let routes: ReadonlyArray<RegisteredRoute>
let pools: ParamPools = new Map()
let known: ReadonlyArray<string> = []
let readyAtStart = ""

/**
 * The console's pages (GET routes without parameters outside `/api/`), as the harness admin sees
 * them and, with `anonymous`, as a visitor does: their forms and links name fields and identifiers.
 */
const consolePages = async (anonymous: boolean) => {
  if (server === undefined) throw new Error("no server")
  const admin = principals.credentials("admin")
  const cookie = admin.kind === "session" ? `${SESSION_COOKIE}=${admin.cookie}` : ""
  const pages: Array<string> = []
  for (const route of routes) {
    if (route.method !== "GET" || route.path.includes(":") || route.path.startsWith("/api/") || route.skipIdentity)
      continue
    for (const headers of anonymous ? [{ cookie, accept: "text/html" }, { accept: "text/html" }] : [{ cookie }]) {
      const response = await fetch(`${server.baseUrl()}${route.path}`, { headers, redirect: "manual" })
      pages.push(await response.text())
    }
  }
  return pages
}

/**
 * Routes that answer only after as long as the caller asks: a CPU profile of up to 60 s, past the
 * request timeout here. Their input and access are tested in test/integration/diagnostics.test.ts
 * and the access matrix. (Heap snapshots stay fuzzed: the server takes at most one per 30 s.)
 */
const SLOW_BY_DESIGN = new Set(["POST /api/v1/diagnostics/cpu-profile", "POST /admin/diagnostics/cpu-profile"])

/** Path parameter values are harvested again at most this often (in cases) after a state change succeeded. */
const HARVEST_EVERY = 20
let harvestedAt = 0
let harvestDue = false

beforeAll(async () => {
  const stores = await createTestStores()
  // The application in-process, once: its route table, and the harness's users.
  const app = await startAppPromise(testEnv(stores))
  const users: Array<HarnessUser> = []
  try {
    routes = (await Effect.runPromise(Context.get(app.context, RouteTable).routes)).filter(
      (r) => !SLOW_BY_DESIGN.has(routeName(r))
    )
    for (const role of ["viewer", "operator", "admin"] as const) {
      const email = `fuzz-${role}@fuzz.local`
      const user = await createUser(app, { email, role, password: HARNESS_PASSWORD })
      users.push({ id: user.id, role, email, password: HARNESS_PASSWORD })
    }
  } finally {
    await app.stop()
  }

  database = openDatabase(stores.databaseUrl)
  const owner = users.find((u) => u.role === "operator")
  if (owner === undefined) throw new Error("no operator among the harness users")
  principals = makePrincipals(database.query, users, await createNarrowKey(database.query, owner.id))
  await principals.restore()
  server = await startFuzzServer(stores)

  const samples = new Map(Array.from(await sampleFieldValues(routes, SEED), ([name, values]) => [name, [...values]]))
  const pages = await consolePages(true)
  shapes = harvestForms(routes.map(shapeOf), pages, samples)
  pools = harvestParams(shapes, pages)
  vocabulary = { samples, emails: users.map((u) => u.email), password: HARNESS_PASSWORD }
  known = await knownIdentifiers(database.query)
  readyAtStart = await server.readiness()
}, 180_000)

afterAll(async () => {
  await server?.stop()
  await database?.close()
})

/** A request over a limit: its head over Node's, or its body over the form limit. */
const oversize = (built: BuiltRequest) =>
  built.path.length + Object.entries(built.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0) >
    LIMITS.head || (built.body?.length ?? 0) > LIMITS.formBody

const statusOf = (outcome: Awaited<ReturnType<FuzzServer["send"]>>) =>
  outcome.kind === "answer" ? String(outcome.status) : outcome.kind === "unsent" ? "unsent" : "no answer"

/** The last cases, for the report of a failure that an earlier case may have caused. */
const RECENT = 4
const recent: Array<string> = []

/** Runs one case; a failure, or undefined when the server behaved. */
const runCase = async (c: FuzzCase, run: number, counts: Counts | undefined): Promise<Failure | undefined> => {
  if (server === undefined || database === undefined) throw new Error("not set up")
  const query = database.query
  const shape = shapes[c.route]
  if (shape === undefined) throw new Error(`no route ${c.route}`)
  // A crash in an earlier case was reported there; this case gets a live server.
  if (!server.running()) await server.restart()
  const credentials = principals.credentials(c.principal)
  if (harvestDue && run - harvestedAt >= HARVEST_EVERY) {
    pools = harvestParams(shapes, await consolePages(false))
    harvestedAt = run
    harvestDue = false
  }
  const built = buildRequest(c, { route: shape, credentials, pools, known, origin: server.baseUrl() })
  const before = await fingerprint(query)
  const outcome = await server.send(built, REQUEST_TIMEOUT_MS)
  const status = statusOf(outcome)
  counts?.count(routeName(shape), c.principal, status)
  if (outcome.kind === "unsent") return undefined
  if (TRACE !== undefined && routeName(shape).includes(TRACE))
    console.log(
      `${status} ${outcome.kind === "answer" ? outcome.body.slice(0, 200).replaceAll("\n", " ") : outcome.message}\n${describeRequest(built, c.principal)}`
    )

  const requestIdHeader = outcome.kind === "answer" ? outcome.headers["x-request-id"] : undefined
  const requestId = typeof requestIdHeader === "string" ? requestIdHeader : undefined
  const failure = (kind: Failure["kind"], details: ReadonlyArray<string>): Failure => ({
    kind,
    run,
    route: routeName(shape),
    principal: c.principal,
    status,
    request: describeRequest(built, c.principal),
    requestId,
    // A failure may be the consequence of an earlier case that was answered well.
    details: [...details, `cases just before: ${recent.join("; ")}`],
    size: built.path.length + (built.body?.length ?? 0),
    input: c
  })

  const child = server.child()
  if (outcome.kind === "error") await Promise.race([child.exited, sleep(300)])
  let found: Failure | undefined
  if (!child.running()) {
    const exit = await child.exited
    found = failure("crash", [
      `the server exited (code ${exit.code}, signal ${exit.signal}); ${outcome.kind === "error" ? outcome.message : `answered ${status}`}`,
      `server output (end):\n${outputTail(child)}`
    ])
    await server.restart()
  } else {
    if (outcome.kind === "error" && oversize(built)) {
      // Refused before it was read (413, or Node's 431), and the connection closed under the rest
      // of the request: the client may see the reset rather than the answer. Alive is what counts.
      counts?.recount(routeName(shape), c.principal, status, "reset (oversize)")
    } else if (outcome.kind === "error") {
      found = failure("no answer", [outcome.message, `server output (end):\n${outputTail(child, 1500)}`])
    } else if (outcome.status >= 500) {
      // The error's log line may come a moment after the answer.
      await sleep(50)
      found = failure("5xx", [
        `answer: ${outcome.body.slice(0, 1500)}`,
        ...linesMentioning(child, requestId ?? "").map((l) => `server log: ${l}`)
      ])
    } else if (outcome.status >= 400) {
      const written = await writtenSince(query, before)
      const problems = partialWrites(written, {
        status: outcome.status,
        requestId,
        session: credentials.kind === "session" ? credentials : undefined
      })
      if (problems.length > 0)
        found = failure("partial write", [
          `answer: ${outcome.body.slice(0, 600)}`,
          ...problems.map((p) => `wrote: ${p}`),
          ...written.audit.map((e) => `audit entry of the case: ${JSON.stringify(e)}`)
        ])
    }
    const ready = await server.readiness()
    if (ready !== readyAtStart) {
      const what = [
        `/readyz status was ${readyAtStart}, is now ${ready}`,
        `server output (end):\n${outputTail(child, 3000)}`
      ]
      found =
        found === undefined ? failure("readiness changed", what) : { ...found, details: [...found.details, ...what] }
      // A fresh process, so the cases after this one are judged on their own.
      await server.restart()
    }
  }
  recent.push(`#${run} ${built.method} ${built.path.slice(0, 80)} as ${c.principal} → ${status}`)
  if (recent.length > RECENT) recent.shift()
  // Put back what the case may have changed about the principals; learn new identifiers.
  if (isStateChanging(shape.method) || found !== undefined) {
    await principals.restore()
    known = await knownIdentifiers(query)
    if (outcome.kind === "answer" && outcome.status < 400) harvestDue = true
  }
  return found
}

describe("fuzz: every route, every caller", () => {
  it(
    `${RUNS} cases (seed ${SEED}): no 5xx, no crash, /readyz unchanged, no partial write on a refusal`,
    async () => {
      expect(shapes.length).toBeGreaterThan(10)
      const counts = new Counts()
      const failures = new FailureLog()
      const started = performance.now()
      let shrinkUntil: number | undefined
      let run = 0
      const property = fc.asyncProperty(caseArbitrary(shapes, vocabulary), async (c) => {
        if (shrinkUntil !== undefined && performance.now() > shrinkUntil) return true
        run++
        const found = await runCase(c, run, shrinkUntil === undefined ? counts : undefined)
        if (found === undefined) return true
        failures.add(found)
        if (COLLECT) return true
        shrinkUntil ??= performance.now() + SHRINK_SECONDS * 1000
        return false
      })
      const result = await fc.check(property, { seed: SEED, numRuns: RUNS, endOnFailure: SHRINK_SECONDS === 0 })
      const seconds = ((performance.now() - started) / 1000).toFixed(1)
      console.log(counts.format(`fuzz: ${counts.cases} cases in ${seconds} s, seed ${SEED}`))
      if (result.failed) {
        const last = failures.last
        throw new Error(
          [
            `fuzz failure after ${result.numRuns} cases, seed ${SEED}${result.numShrinks > 0 ? `, shrunk ${result.numShrinks} times` : ""}`,
            last === undefined ? String(result.errorInstance) : formatFailure(last),
            `replay: ${replay}`
          ].join("\n")
        )
      }
      if (failures.size > 0)
        throw new Error(
          `${failures.size} distinct failures (seed ${SEED}):\n\n${failures.format()}\n\nreplay: ${replay}`
        )
    },
    RUNS * 500 + SHRINK_SECONDS * 1000 + 120_000
  )
})
