/**
 * Child processes for tests that need a real process: the Breakwater server started as
 * `npm start` starts it, or a private `redis-server`. Output is collected line by line so a test can
 * wait for a log line; every child started here is tracked, and {@link stopAllChildren} ends the
 * ones still running (call it in `afterAll`).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { startArgs } from "./start-command.ts"

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url))
/** The Node 24 that `npm install` puts in node_modules (the system node may be older). */
export const nodeBinary = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url))

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A TCP port that was free a moment ago on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))))
    })
  })

/**
 * Calls `check` every `intervalMs` until it returns something other than `undefined`, and returns
 * that. A thrown error counts as "not yet"; on timeout the last error (or value) is reported.
 */
export const waitFor = async <A>(
  what: string,
  check: () => Promise<A | undefined>,
  options: { readonly timeoutMs: number; readonly intervalMs?: number }
): Promise<A> => {
  const deadline = performance.now() + options.timeoutMs
  let last = "no attempt finished"
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
      last = "condition not met"
    } catch (error) {
      last = error instanceof Error ? error.message : String(error)
    }
    if (performance.now() >= deadline)
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}: ${last}`)
    await sleep(options.intervalMs ?? 100)
  }
}

export interface ExitStatus {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface Child {
  readonly process: ChildProcess
  /** `performance.now()` when the child was spawned. */
  readonly spawnedAt: number
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves when the process has exited and its output is read to the end. */
  readonly exited: Promise<ExitStatus>
  /** `performance.now()` when the process exited (undefined while it runs). */
  readonly exitedAt: () => number | undefined
  readonly running: () => boolean
  /** Resolves with the first stdout line (already printed or still to come) that `match` accepts. */
  readonly waitForLine: <A>(what: string, match: (line: string) => A | undefined, timeoutMs: number) => Promise<A>
  /** Sends `signal` and waits up to `timeoutMs` for the exit; SIGKILLs it if it does not exit in time. */
  readonly stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<ExitStatus>
}

const children = new Set<Child>()

/** The parent's environment with `overrides` applied; an `undefined` override removes the variable. */
export const childEnv = (overrides: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

export const spawnChild = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv; readonly stdin?: string } = {}
): Child => {
  const spawnedAt = performance.now()
  const proc = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? process.env,
    stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"]
  })
  if (options.stdin !== undefined) proc.stdin?.end(options.stdin)
  let out = ""
  let err = ""
  let exitedAt: number | undefined
  const waiters = new Set<(line: string) => void>()
  let partial = ""
  proc.stdout?.setEncoding("utf8")
  proc.stderr?.setEncoding("utf8")
  proc.stdout?.on("data", (chunk: string) => {
    out += chunk
    partial += chunk
    const lines = partial.split("\n")
    partial = lines.pop() ?? ""
    for (const line of lines) for (const waiter of [...waiters]) waiter(line)
  })
  proc.stderr?.on("data", (chunk: string) => {
    err += chunk
  })
  proc.on("exit", () => {
    exitedAt = performance.now()
  })
  const exited = new Promise<ExitStatus>((resolve) => {
    proc.on("error", (error) => {
      err += `spawn error: ${error.message}\n`
      exitedAt ??= performance.now()
      resolve({ code: null, signal: null })
    })
    proc.on("close", (code, signal) => resolve({ code, signal }))
  })
  const running = () => exitedAt === undefined && proc.exitCode === null && proc.signalCode === null

  const waitForLine = <A>(what: string, match: (line: string) => A | undefined, timeoutMs: number): Promise<A> =>
    new Promise<A>((resolve, reject) => {
      for (const line of out.split("\n")) {
        const found = match(line)
        if (found !== undefined) return resolve(found)
      }
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(waiter)
      }
      const waiter = (line: string) => {
        const found = match(line)
        if (found === undefined) return
        cleanup()
        resolve(found)
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`))
      }, timeoutMs)
      waiters.add(waiter)
      void exited.then(() => {
        if (!waiters.has(waiter)) return
        cleanup()
        reject(new Error(`process exited while waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`))
      })
    })

  const stop = async (signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000): Promise<ExitStatus> => {
    if (running()) proc.kill(signal)
    const timer = setTimeout(() => {
      if (running()) proc.kill("SIGKILL")
    }, timeoutMs)
    try {
      return await exited
    } finally {
      clearTimeout(timer)
    }
  }

  const child: Child = {
    process: proc,
    spawnedAt,
    stdout: () => out,
    stderr: () => err,
    exited,
    exitedAt: () => exitedAt,
    running,
    waitForLine,
    stop
  }
  children.add(child)
  void exited.then(() => children.delete(child))
  return child
}

/** The server as `npm start` runs it, with the parent's environment plus `overrides`. */
export const spawnBreakwater = (overrides: Readonly<Record<string, string | undefined>>): Child =>
  spawnChild(nodeBinary, [...startArgs], { cwd: repoRoot, env: childEnv(overrides) })

/** The base URL from the JSON log line "Breakwater is serving on http://…". */
export const servingUrl = (line: string): string | undefined => {
  if (!line.startsWith("{")) return undefined
  let record: unknown
  try {
    record = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof record !== "object" || record === null || !("msg" in record) || typeof record.msg !== "string") {
    return undefined
  }
  return /^Breakwater is serving on (https?:\/\/\S+)/.exec(record.msg)?.[1]
}

/** A private, throw-away Redis (no persistence) on `port`; resolves once it accepts connections. */
export const startRedisServer = async (port: number, timeoutMs = 10_000): Promise<Child> => {
  const child = spawnChild("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no"
  ])
  await child.waitForLine(
    `redis-server on port ${port} to accept connections`,
    (line) => (line.includes("Ready to accept connections") ? true : undefined),
    timeoutMs
  )
  return child
}

/** Stops every child started here that still runs (SIGTERM, then SIGKILL after 5 s). */
export const stopAllChildren = async (): Promise<void> => {
  await Promise.all([...children].map((child) => child.stop("SIGTERM", 5_000)))
}
