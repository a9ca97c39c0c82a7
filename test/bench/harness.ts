/**
 * Shared pieces of the benchmarks: spawning Breakwater as a real process, waiting for it, and the
 * result rows every benchmark prints (figure, baseline measured in the same run, ratio, target).
 */
import { type ChildProcess, execFile, fork, spawn } from "node:child_process"
import { once } from "node:events"
import { closeSync, openSync } from "node:fs"
import { fileURLToPath } from "node:url"
import autocannon from "autocannon"
import { startArgs } from "../support/start-command.ts"

export const root = fileURLToPath(new URL("../../", import.meta.url))

export interface Row {
  readonly benchmark: string
  readonly figure: string
  readonly baseline?: string
  readonly ratio?: string
  readonly target?: string
}

export interface Benchmark {
  readonly name: string
  readonly run: () => Promise<ReadonlyArray<Row>>
}

export interface Spawned {
  readonly process: ChildProcess
  readonly baseUrl: string
  /** Milliseconds from spawn until the server answered /healthz. */
  readonly readyMs: number
  readonly stop: () => Promise<number | null>
}

export interface SpawnOptions {
  /**
   * Send stdout (the JSON log) to this file instead of collecting it, as a log shipper would
   * take it: benchmarks that log a line per request must not pay for the harness reading them.
   */
  readonly logFile?: string
  /** Node arguments instead of `npm start`'s (they must end with `src/main.ts`). */
  readonly args?: ReadonlyArray<string>
}

/**
 * `BENCH_EXTRA_NODE_FLAGS="--flag …"` adds Node flags to every server started as `npm start` does,
 * to compare a flag against `npm start`'s own in two runs of the same benchmark.
 */
const extraFlags = (process.env.BENCH_EXTRA_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "")

/** Starts the server as `npm start` does, with the given environment, and waits for /healthz. */
export const spawnBreakwater = async (
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
  options: SpawnOptions = {}
): Promise<Spawned> => {
  const started = performance.now()
  const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, "a")
  const child = spawn(process.execPath, [...(options.args ?? [...extraFlags, ...startArgs])], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", logFd ?? "pipe", "pipe"]
  })
  if (logFd !== undefined) closeSync(logFd)
  let output = ""
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()))
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()))
  const port = env.PORT ?? "8080"
  const baseUrl = `http://127.0.0.1:${port}`
  while (performance.now() - started < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`breakwater exited with ${child.exitCode}:\n${output}`)
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false
    )
    if (ok) {
      const readyMs = performance.now() - started
      return {
        process: child,
        baseUrl,
        readyMs,
        stop: async () => {
          if (child.exitCode !== null) return child.exitCode
          child.kill("SIGTERM")
          const [code] = await once(child, "exit")
          return code as number | null
        }
      }
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  child.kill("SIGKILL")
  throw new Error(`breakwater did not answer /healthz within ${timeoutMs} ms:\n${output}`)
}

/** A free TCP port on loopback. */
export const freePort = async (): Promise<number> => {
  const { createServer } = await import("node:net")
  const server = createServer()
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const address = server.address()
  server.close()
  if (address === null || typeof address === "string") throw new Error("no port")
  return address.port
}

export const ms = (value: number) => `${value.toFixed(0)} ms`

/** The value below which a share `p` (0–1) of the sorted samples lie. */
export const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0

export interface LoadResult {
  readonly rps: number
  readonly p99: number
  readonly errors: number
}

/** autocannon against one URL: 50 connections for 5 s unless told otherwise. */
export const load = async (
  url: string,
  options: { readonly headers?: Record<string, string>; readonly connections?: number; readonly seconds?: number } = {}
): Promise<LoadResult> => {
  const result = await autocannon({
    url,
    connections: options.connections ?? 50,
    duration: options.seconds ?? 5,
    pipelining: 1,
    ...(options.headers === undefined ? {} : { headers: options.headers })
  })
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx }
}

/**
 * The baseline for HTTP throughput: a bare node:http server answering `body` (default: /healthz's
 * JSON) on every path, in a child process so it has a core of its own just as Breakwater does.
 */
export const bareServer = async (body?: string) => {
  const port = await freePort()
  const child = fork(
    new URL("./bare-server.ts", import.meta.url),
    [String(port), ...(body === undefined ? [] : [body])],
    {
      stdio: "ignore"
    }
  )
  await once(child, "message")
  return { baseUrl: `http://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") }
}

/** Creates an API key with `breakwater apikey create` (owned by the first admin); returns the key. */
export const createApiKey = async (
  env: Record<string, string | undefined>,
  scopes: ReadonlyArray<string>
): Promise<string> => {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ["src/cli.ts", "apikey", "create", "--name", "bench", "--scopes", scopes.join(","), "--expires-in", "1d"],
      { cwd: root, env: { ...process.env, LOG_LEVEL: "warn", ...env } },
      (error, out, err) => (error === null ? resolve(out) : reject(new Error(`apikey create failed: ${err}`)))
    )
  )
  const key = stdout.trim().split("\n").at(-1)
  if (key === undefined || !key.startsWith("bw_")) throw new Error(`apikey create printed no key:\n${stdout}`)
  return key
}

const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** A throw-away database on the local server for one benchmark, dropped afterwards. */
export const withBenchDatabase = async <A>(f: (url: string) => Promise<A>): Promise<A> => {
  const { PgClient } = await import("@effect/sql-pg")
  const { Effect, Redacted } = await import("effect")
  const { SqlClient } = await import("effect/sql")
  const { randomBytes } = await import("node:crypto")
  const name = `bw_bench_${randomBytes(4).toString("hex")}`
  const admin = (statement: string) =>
    Effect.runPromise(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
        Effect.provide(PgClient.layer({ url: Redacted.make(adminUrl), maxConnections: 1 })),
        Effect.scoped
      )
    )
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  try {
    return await f(url.toString())
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await dropRedisKeys(externalEnv(url.toString()).REDIS_KEY_PREFIX)
  }
}

/** Deletes what a benchmark instance published under its key prefix (best effort). */
const dropRedisKeys = async (prefix: string) => {
  const { Redis } = await import("ioredis")
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
    lazyConnect: true,
    maxRetriesPerRequest: 1
  })
  try {
    await redis.connect()
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }))
      if (Array.isArray(keys) && keys.length > 0) await redis.del(...keys.map(String))
  } catch {
    // No Redis, or it went away: the keys only take space.
  } finally {
    redis.disconnect()
  }
}

/** The environment of a benchmark instance on PostgreSQL and Redis, with a known first admin. */
export const externalEnv = (databaseUrl: string) => ({
  DATABASE_URL: databaseUrl,
  REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  REDIS_KEY_PREFIX: `bench:${databaseUrl.split("/").at(-1)}:`,
  BREAKWATER_ADMIN_EMAIL: "bench@localhost",
  BREAKWATER_ADMIN_PASSWORD: "bench-admin-password"
})
