/**
 * Shared pieces of the benchmarks: spawning Breakwater as a real process, waiting for it, and the
 * result rows every benchmark prints (figure, baseline measured in the same run, ratio, target).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"

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

/** Starts `node src/main.ts` with the given environment and waits for /healthz. */
export const spawnBreakwater = async (
  env: Record<string, string | undefined>,
  timeoutMs = 60_000
): Promise<Spawned> => {
  const started = performance.now()
  const child = spawn(process.execPath, ["src/main.ts"], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
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
