/**
 * HTTP throughput of Breakwater's request pipeline (request id, access check, logging, metrics)
 * on `/healthz`, against a bare Node `http` server answering the same JSON, side by side in one run.
 */
import { once } from "node:events"
import autocannon from "autocannon"
import { type Benchmark, freePort, spawnBreakwater } from "./harness.ts"

const load = async (url: string) => {
  const result = await autocannon({ url, connections: 50, duration: 5, pipelining: 1 })
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx }
}

/** The baseline in a child process, so it has a core of its own just as Breakwater does. */
const bareServer = async () => {
  const port = await freePort()
  const { fork } = await import("node:child_process")
  const child = fork(new URL("./bare-server.ts", import.meta.url), [String(port)], { stdio: "ignore" })
  await once(child, "message")
  return { url: `http://127.0.0.1:${port}/healthz`, stop: () => child.kill("SIGTERM") }
}

export const http: Benchmark = {
  name: "http",
  run: async () => {
    const bare = await bareServer()
    const bareResult = await load(bare.url)
    bare.stop()
    const app = await spawnBreakwater({
      DATABASE_URL: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
      REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      REDIS_KEY_PREFIX: "bench:",
      PORT: String(await freePort())
    })
    const appResult = await load(`${app.baseUrl}/healthz`)
    await app.stop()
    return [
      {
        benchmark: "GET /healthz, requests/s (50 connections, 5 s)",
        figure: `${appResult.rps.toFixed(0)} (p99 ${appResult.p99} ms, ${appResult.errors} errors)`,
        baseline: `${bareResult.rps.toFixed(0)} bare node:http (p99 ${bareResult.p99} ms)`,
        ratio: `${((appResult.rps / bareResult.rps) * 100).toFixed(0)} %`
      }
    ]
  }
}
