/**
 * The console under 50 signed-in operators, on the embedded database (the Quick start's setup) and
 * on PostgreSQL with Redis (production's):
 * every page in the navigation polled by each of them, one page every 500 ms per person, for 20 s;
 * p95 per page as the server measured it (its own request-duration histogram: the bucket holding
 * the 95th percentile) and as the polling clients saw it, against a bare node:http server answering
 * a page of the same size to the same clients in the same run (on two cores the clients share the
 * machine with the server, so their figures carry their own queueing: the baseline shows how much).
 * Also the server's resident memory at idle and after the load (the 508–582 MiB).
 * Target (console issue): every page p95 ≤ 100 ms.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { login } from "../support/session.ts"
import {
  type Benchmark,
  bareServer,
  externalEnv,
  freePort,
  ms,
  percentile,
  type Row,
  root,
  spawnBreakwater,
  withBenchDatabase
} from "./harness.ts"

/** `BENCH_NODE_FLAGS="--flag …"` starts the server with other Node flags, to compare them in one run. */
const serverArgs =
  process.env.BENCH_NODE_FLAGS === undefined
    ? undefined
    : [...process.env.BENCH_NODE_FLAGS.split(" ").filter((f) => f !== ""), "src/main.ts"]

/** `BENCH_CONSOLE_MODES=embedded` (or `external`) measures one setup only, for quicker comparisons. */
const modes = (process.env.BENCH_CONSOLE_MODES ?? "embedded,external").split(",")

const USERS = 50
const SECONDS = 20
const PAUSE_MS = 500

/** Resident memory of a process in MiB (Linux). */
const rssMiB = (pid: number | undefined): number => {
  if (pid === undefined) return Number.NaN
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"))
  return line === undefined ? Number.NaN : Number(line.replace(/\D+/g, "")) / 1024
}

const breakwater = (env: Record<string, string | undefined>, args: ReadonlyArray<string>) =>
  new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ["bin/breakwater.js", ...args],
      { cwd: root, env: { ...process.env, ...env } },
      (e, out, err) => (e === null ? resolve(out) : reject(new Error(`breakwater ${args.join(" ")}: ${err}`)))
    )
  )

/** Polls `paths` round-robin for `seconds`, pausing between requests; latencies per path. */
const poll = async (
  get: (path: string) => Promise<Response>,
  paths: ReadonlyArray<string>,
  offset: number,
  until: number,
  samples: Map<string, Array<number>>,
  failures: Array<string>
) => {
  for (let i = offset; performance.now() < until; i++) {
    const path = paths[i % paths.length] ?? "/"
    const start = performance.now()
    const res = await get(path)
    await res.arrayBuffer()
    samples.get(path)?.push(performance.now() - start)
    if (res.status !== 200) failures.push(`${path} ${res.status}`)
    await new Promise((r) => setTimeout(r, PAUSE_MS))
  }
}

/** The server's own view of its memory (prom-client's Node metrics), in MiB. */
const memoryParts = async (baseUrl: string): Promise<string> => {
  const text = await (await fetch(`${baseUrl}/metrics`)).text()
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN) / 1048576
  return `V8 heap ${value("nodejs_heap_size_total_bytes").toFixed(0)} MiB, external (WebAssembly memory, buffers) ${value("nodejs_external_memory_bytes").toFixed(0)} MiB`
}

/** Cumulative bucket counts of the server's own request-duration histogram for GET `route`s. */
const histogram = async (baseUrl: string): Promise<Map<string, Map<number, number>>> => {
  const text = await (await fetch(`${baseUrl}/metrics`)).text()
  const byRoute = new Map<string, Map<number, number>>()
  for (const m of text.matchAll(/^breakwater_http_request_duration_seconds_bucket\{([^}]*)\} (\d+)$/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]))
    if (labels.method !== "GET" || labels.route === undefined || labels.le === undefined) continue
    const buckets = byRoute.get(labels.route) ?? new Map<number, number>()
    buckets.set(labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le), Number(m[2]))
    byRoute.set(labels.route, buckets)
  }
  return byRoute
}

/** The upper bound of the bucket holding the 95th percentile of what happened between two scrapes. */
const serverP95 = (before: Map<number, number> | undefined, after: Map<number, number> | undefined) => {
  if (after === undefined) return "n/a"
  const bounds = [...after.keys()].sort((a, b) => a - b)
  const delta = (le: number) => (after.get(le) ?? 0) - (before?.get(le) ?? 0)
  const total = delta(Number.POSITIVE_INFINITY)
  const bound = bounds.find((le) => delta(le) >= total * 0.95)
  return bound === undefined || !Number.isFinite(bound) ? "> 5 s" : `≤ ${bound * 1000} ms`
}

const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec))

/** One run against a server started with `env`; rows labelled with `mode`. */
const measure = async (mode: string, env: Record<string, string | undefined>): Promise<ReadonlyArray<Row>> => {
  const app = await spawnBreakwater(env, 120_000, serverArgs === undefined ? {} : { args: serverArgs })
  try {
    await sleep(5_000)
    const idle = rssMiB(app.process.pid)
    const idleParts = await memoryParts(app.baseUrl)
    // Users added as an operator would, through the running server's control socket.
    const sessions = []
    for (let i = 0; i < USERS; i++) {
      const email = `operator-${i}@bench.local`
      await breakwater(env, ["user", "add", "--email", email, "--role", "admin", "--password", "bench-password-1234"])
      sessions.push(await login(app.baseUrl, email, "bench-password-1234"))
    }
    const first = sessions[0]
    if (first === undefined) throw new Error("no session")
    // Every page the navigation offers an administrator, and those the /admin overview links to.
    const linksOf = (page: string) => [...page.matchAll(/href="(\/[^"#?]*)"/g)].map((m) => m[1] ?? "/")
    const home = await (await first.fetch("/", { headers: { accept: "text/html" } })).text()
    const admin = await (await first.fetch("/admin", { headers: { accept: "text/html" } })).text()
    const paths = [
      ...new Set([
        ...linksOf(home.slice(home.indexOf("<nav"), home.indexOf("</nav>"))),
        ...linksOf(admin.slice(admin.indexOf("<main"))).filter((p) => /^\/admin\/[a-z-]+$/.test(p))
      ])
    ]
    const samples = new Map(paths.map((p) => [p, [] as Array<number>]))
    const failures: Array<string> = []
    const serverBefore = await histogram(app.baseUrl)
    const until = performance.now() + SECONDS * 1000
    await Promise.all(
      sessions.map((s, i) =>
        poll((p) => s.fetch(p, { headers: { accept: "text/html" } }), paths, i, until, samples, failures)
      )
    )
    const after = rssMiB(app.process.pid)
    const afterParts = await memoryParts(app.baseUrl)
    const serverAfter = await histogram(app.baseUrl)

    // The baseline: a bare server answering the largest page's bytes, polled the same way.
    const largest = await (await first.fetch("/audit", { headers: { accept: "text/html" } })).text()
    const bare = await bareServer(largest)
    const bareSamples = new Map([["/", [] as Array<number>]])
    const bareUntil = performance.now() + 5_000
    await Promise.all(
      Array.from({ length: USERS }, (_, i) =>
        poll((p) => fetch(`${bare.baseUrl}${p}`), ["/"], i, bareUntil, bareSamples, [])
      )
    )
    bare.stop()
    const bareP95 = percentile(
      [...(bareSamples.get("/") ?? [])].sort((a, b) => a - b),
      0.95
    )

    const rows = [...samples].map(([path, values]) => {
      const sorted = [...values].sort((a, b) => a - b)
      const p95 = percentile(sorted, 0.95)
      return {
        benchmark: `${mode}: ${path}, ${USERS} users polling (p95)`,
        figure: `server ${serverP95(serverBefore.get(path), serverAfter.get(path))}; client ${p95.toFixed(1)} ms (p50 ${percentile(sorted, 0.5).toFixed(1)}, n ${sorted.length})`,
        baseline: `${bareP95.toFixed(1)} ms bare node:http, same bytes`,
        ratio: `${(p95 / Math.max(bareP95, 0.1)).toFixed(1)}×`,
        target: "≤ 100 ms"
      }
    })
    return [
      ...rows,
      {
        benchmark: `${mode}: non-200 answers during the load`,
        figure: failures.length === 0 ? "0" : `${failures.length} (${failures.slice(0, 3).join(", ")})`
      },
      {
        benchmark: `${mode}: RSS of the server, idle`,
        figure: `${idle.toFixed(0)} MiB (${idleParts})`,
        target: "was 508–582 MiB (embedded)"
      },
      {
        benchmark: `${mode}: RSS after ${USERS} users × ${SECONDS} s`,
        figure: `${after.toFixed(0)} MiB (${afterParts})`
      },
      { benchmark: `${mode}: server ready after`, figure: ms(app.readyMs) }
    ]
  } finally {
    await app.stop()
  }
}

export const consolePages: Benchmark = {
  name: "console",
  run: async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "bw-bench-console-"))
    try {
      const embedded = !modes.includes("embedded")
        ? []
        : await measure("embedded", {
            DATABASE_URL: undefined,
            REDIS_URL: undefined,
            BREAKWATER_DATA_DIR: dataDir,
            BREAKWATER_ADMIN_EMAIL: "bench@localhost",
            BREAKWATER_ADMIN_PASSWORD: "bench-admin-password",
            PORT: String(await freePort())
          })
      const external = !modes.includes("external")
        ? []
        : await withBenchDatabase(async (url) =>
            measure("PostgreSQL+Redis", { ...externalEnv(url), PORT: String(await freePort()) })
          )
      return [...embedded, ...external]
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
