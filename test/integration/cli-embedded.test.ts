/**
 * The CLI and the embedded store, as real processes. Only one process may open a data directory:
 * a second server is refused naming the first; while the server runs, every command is sent to it
 * over the control socket and takes effect in it at once (a user who can sign in, a key the API
 * accepts, a trip the API reports); with no server, the same commands open the store themselves,
 * and what they did is there when the server starts again.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { controlSocketPath } from "../../src/core/control/socket-path.ts"
import {
  type Child,
  childEnv,
  nodeBinary,
  servingUrl,
  spawnBreakwater,
  spawnChild,
  stopAllChildren,
  waitFor
} from "../support/processes.ts"
import { loginAsAdmin, postLogin, testAdmin } from "../support/session.ts"

const START_TIMEOUT_MS = 90_000
const REASON = "control socket test: halting the embedded server"

let dataDir: string
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "bw-cli-"))
})
afterAll(async () => {
  await stopAllChildren()
  rmSync(dataDir, { recursive: true, force: true })
})

const env = (extra: Readonly<Record<string, string | undefined>> = {}) => ({
  DATABASE_URL: undefined,
  REDIS_URL: undefined,
  REDIS_KEY_PREFIX: undefined,
  BREAKWATER_DATA_DIR: dataDir,
  LOG_LEVEL: "warn",
  LOG_FORMAT: "json",
  ...extra
})

const startServer = (): Child =>
  spawnBreakwater(
    env({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      BREAKWATER_ADMIN_EMAIL: testAdmin.email,
      BREAKWATER_ADMIN_PASSWORD: testAdmin.password
    })
  )

const serving = async (child: Child) => {
  const baseUrl = await child.waitForLine("the serving log line", servingUrl, START_TIMEOUT_MS)
  await waitFor("/healthz", async () => ((await fetch(`${baseUrl}/healthz`)).status === 200 ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 50
  })
  return baseUrl
}

/** `breakwater …` as an operator types it (bin/breakwater.js), with the exit code and output. */
const cli = async (args: ReadonlyArray<string>, options: { readonly stdin?: string } = {}) => {
  const child = spawnChild(nodeBinary, ["bin/breakwater.js", ...args], { env: childEnv(env()), ...options })
  const exit = await child.exited
  return {
    code: exit.code,
    stdout: child.stdout(),
    stderr: child.stderr(),
    ms: (child.exitedAt() ?? performance.now()) - child.spawnedAt
  }
}

const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? ""

const breakerState = async (baseUrl: string) => {
  const admin = await loginAsAdmin(baseUrl)
  const res = await admin.fetch("/api/v1/breaker/global")
  expect(res.status).toBe(200)
  return (await res.json()).effective_state as string
}

describe("the CLI beside an embedded server", () => {
  let server: Child
  let baseUrl: string

  it("a second server on the same data directory is refused, naming the running one", async () => {
    server = startServer()
    baseUrl = await serving(server)
    const socket = controlSocketPath(dataDir)
    expect(statSync(socket).mode & 0o777).toBe(0o600)
    expect(statSync(join(dataDir, "control")).mode & 0o777).toBe(0o700)

    const second = startServer()
    const exit = await second.exited
    expect(exit.code).toBe(1)
    expect(second.stderr()).toContain(`the data directory ${dataDir} is in use by the Breakwater server`)
    expect(second.stderr()).toContain(`pid ${server.process.pid}`)
    // `breakwater serve` is refused the same way, and the first server still serves.
    const serve = await cli(["serve"])
    expect(serve.code).toBe(1)
    expect(serve.stderr).toContain("is in use by the Breakwater server")
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200)
  }, 180_000)

  it("user add/role/passwd/disable/enable/list act on the server at once", async () => {
    const add = await cli(["user", "add", "--email", "night@test.local", "--role", "operator", "--name", "Night"])
    expect(add.code, add.stderr).toBe(0)
    expect(add.stdout).toContain("created night@test.local (Night), role operator")
    const password = lastLine(add.stdout)
    expect((await postLogin(baseUrl, "night@test.local", password)).status).toBe(303)

    const role = await cli(["user", "role", "--email", "night@test.local", "--role", "viewer"])
    expect(role.code, role.stderr).toBe(0)
    expect(role.stdout).toContain("night@test.local is now viewer")

    const passwd = await cli(["user", "passwd", "--email", "night@test.local", "--password", "a-new-password-1234"])
    expect(passwd.code, passwd.stderr).toBe(0)
    expect((await postLogin(baseUrl, "night@test.local", password)).status).toBe(401)
    expect((await postLogin(baseUrl, "night@test.local", "a-new-password-1234")).status).toBe(303)

    expect((await cli(["user", "disable", "--email", "night@test.local"])).code).toBe(0)
    expect((await postLogin(baseUrl, "night@test.local", "a-new-password-1234")).status).toBe(401)
    expect((await cli(["user", "enable", "--email", "night@test.local"])).code).toBe(0)
    expect((await postLogin(baseUrl, "night@test.local", "a-new-password-1234")).status).toBe(303)

    const list = await cli(["user", "list"])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain("night@test.local (Night), role viewer")
    // A mistake is one line and exit 2, as without a server.
    const wrong = await cli(["user", "role", "--email", "nobody@test.local", "--role", "viewer"])
    expect(wrong.code).toBe(2)
    expect(wrong.stderr.trim()).toBe("breakwater: there is no user nobody@test.local")
  })

  it("apikey create gives a key the server accepts; revoke stops it at once", async () => {
    const created = await cli([
      "apikey",
      "create",
      "--name",
      "execution service",
      "--scopes",
      "VIEW_CIRCUIT_BREAKER",
      "--expires-in",
      "30d"
    ])
    expect(created.code, created.stderr).toBe(0)
    const key = lastLine(created.stdout)
    const read = () =>
      fetch(`${baseUrl}/api/v1/breaker/global`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status)
    expect(await read()).toBe(200)
    const list = await cli(["apikey", "list"])
    expect(list.stdout).toContain("execution service")
    const id = /^(\S+)\s+execution service/m.exec(list.stdout)?.[1] ?? ""
    expect((await cli(["apikey", "revoke", id])).code).toBe(0)
    expect(await read()).toBe(401)
  })

  it("breaker trip halts the server's breaker at once; status and reset answer as the server sees it", async () => {
    expect(await breakerState(baseUrl)).not.toBe("TRIPPED")
    const trip = await cli(["breaker", "trip", "--reason", REASON])
    expect(trip.code, trip.stderr).toBe(0)
    expect(trip.stdout).toContain("tripped global: TRIPPED")
    expect(await breakerState(baseUrl)).toBe("TRIPPED")
    const status = await cli(["breaker", "status", "--json"])
    expect(status.code).toBe(0)
    expect(JSON.parse(lastLine(status.stdout)).state).toBe("TRIPPED")
    // A second trip says it was already tripped, and the server agrees.
    const again = await cli(["breaker", "trip", "--reason", REASON])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain("already")
  })

  it("audit verify, identifier-hash (stdin relayed), retention, migrate, help and usage errors", async () => {
    const verify = await cli(["audit", "verify"])
    expect(verify.code, verify.stderr).toBe(0)
    expect(verify.stdout).toMatch(/audit chain intact: \d+ entries sealed/)

    const hash = await cli(["audit", "identifier-hash"], { stdin: "someone's-password" })
    expect(hash.code, hash.stderr).toBe(0)
    expect(lastLine(hash.stdout)).toMatch(/^[0-9a-f]{16,}$/)
    // The same value gives the same hash: the server's key, not a fresh one.
    expect(lastLine((await cli(["audit", "identifier-hash"], { stdin: "someone's-password" })).stdout)).toBe(
      lastLine(hash.stdout)
    )

    const retention = await cli(["retention", "run", "--dry-run"])
    expect(retention.code, retention.stderr).toBe(0)
    const migrate = await cli(["migrate"])
    expect(migrate.stdout).toContain("migrations are up to date (embedded database")

    const help = await cli(["help", "user"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("breakwater user <subcommand>")
    const usage = await cli(["user", "add", "--email", "x@test.local"])
    expect(usage.code).toBe(2)
    expect(usage.stderr.trim().split("\n")).toEqual([
      "breakwater user add: Missing required flag: --role",
      "Run `breakwater user add --help` for its usage."
    ])
    expect(usage.stdout).toBe("")
    // The wizard would prompt on the server's terminal: refused, and the server is unaffected.
    const wizard = await cli(["user", "add", "--wizard"])
    expect(wizard.code).toBe(2)
    expect(wizard.stderr).toContain("--wizard cannot run through the running server")
  })

  it("the control socket answers malformed, oversized and half-sent requests with an error and keeps serving", async () => {
    const exchange = (payload: string, endAfter = true) =>
      new Promise<string>((resolve) => {
        let answer = ""
        const socket = connect(controlSocketPath(dataDir))
        socket.setEncoding("utf8")
        socket.on("data", (chunk: string) => {
          answer += chunk
        })
        socket.on("close", () => resolve(answer))
        socket.on("error", () => resolve(answer))
        socket.write(payload)
        if (endAfter) setTimeout(() => socket.destroy(), 3_000)
      })
    const frames = (text: string) =>
      text
        .trim()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { type: string; code?: number; text?: string })
    for (const junk of ["not json\n", '{"type":"run","argv":"user"}\n', '{"type":"answer","text":"x"}\n', "\u0000\n"]) {
      const answer = frames(await exchange(junk))
      expect(answer.at(-1)).toEqual({ type: "exit", code: 2 })
    }
    const huge = frames(await exchange(`{"type":"run","argv":["${"x".repeat(300_000)}`))
    expect(huge.at(-1)).toEqual({ type: "exit", code: 2 })
    expect(huge[0]?.text).toContain("longer than")
    // Still serving commands, and the HTTP server never noticed.
    expect((await cli(["user", "list"])).code).toBe(0)
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200)
  })

  it("commands sent to the server start fast (figures printed, a hang caught)", async () => {
    const times: Array<number> = []
    for (let i = 0; i < 5; i++) {
      const result = await cli(["breaker", "status"])
      times.push(result.ms)
    }
    times.sort((a, b) => a - b)
    console.info(`[timing] breakwater breaker status via the server: median ${times[2]?.toFixed(0)} ms`)
    expect(times[2]).toBeLessThan(5_000)
  })

  it("with the server stopped, the same commands open the store themselves; the server sees it all on restart", async () => {
    await server.stop()
    expect(() => statSync(controlSocketPath(dataDir))).toThrow()

    const status = await cli(["breaker", "status"])
    // Still tripped: the trip made through the server was written to the store.
    expect(status.stdout).toContain("TRIPPED")
    const add = await cli(["user", "add", "--email", "offline@test.local", "--role", "viewer"])
    expect(add.code, add.stderr).toBe(0)
    const password = lastLine(add.stdout)

    // Two commands at once: the second waits for the first's hold on the store, then runs.
    const [a, b] = await Promise.all([cli(["user", "list"]), cli(["audit", "verify"])])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    expect(a.stdout).toContain("offline@test.local")

    server = startServer()
    baseUrl = await serving(server)
    expect((await postLogin(baseUrl, "offline@test.local", password)).status).toBe(303)
    expect(await breakerState(baseUrl)).toBe("TRIPPED")
    await server.stop()
  }, 180_000)
})
