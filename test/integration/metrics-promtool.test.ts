/**
 * `/metrics` as Prometheus itself judges it: `promtool check metrics` (Debian's `prometheus`
 * package) parses the exposition and lints names, types and help texts. It exits 1 on a parse
 * error and 3 on lint problems, printing one line per problem.
 */
import { spawn } from "node:child_process"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { missingBinaryReason } from "../support/browser.ts"
import { createTestStores } from "../support/database.ts"

const PROMTOOL = "/usr/bin/promtool"
const skipReason = missingBinaryReason(PROMTOOL, "install Debian's prometheus: apt-get install -y prometheus")

/**
 * Lint problems in prom-client's default Node metrics (gauges named `*_total`), not ours to rename.
 * Any other line (a parse error, or a problem with one of our metrics) fails the test.
 */
const THIRD_PARTY_LINT = new Set([
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix'
])

/** Runs a command with `input` on stdin; async, so the app in this process keeps serving. */
const run = (command: string, args: ReadonlyArray<string>, input: string) =>
  new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
    child.stdin.end(input)
  })

describe.skipIf(skipReason !== undefined)("/metrics under promtool", () => {
  let app: Awaited<ReturnType<typeof startAppPromise>>

  beforeAll(async () => {
    app = await startAppPromise(testEnv(await createTestStores()))
  })
  afterAll(() => app?.stop())

  it("passes `promtool check metrics`: parses, and no lint problem in our own metrics", async () => {
    // Labelled series only appear once used: a page, a probe, a 404 and an API call.
    for (const path of ["/", "/healthz", "/no/such/page", "/api/v1/system"]) await fetch(`${app.baseUrl}${path}`)
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text()
    expect(text).toMatch(/^breakwater_http_requests_total\{.*status="404"\} \d+$/m)
    expect(text).toMatch(/^breakwater_http_request_duration_seconds_bucket\{/m)
    const { code, output } = await run(PROMTOOL, ["check", "metrics"], text)
    const lines = output
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "")
    expect(lines.filter((line) => !THIRD_PARTY_LINT.has(line))).toEqual([])
    // Only known lint lines remain, so the exit code must be "clean" or "lint problems", never 1.
    expect(code).toBe(lines.length === 0 ? 0 : 3)
  })
})
