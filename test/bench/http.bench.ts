/**
 * HTTP throughput of Breakwater's request pipeline (request id, access check, logging, metrics)
 * on `/healthz`, against a bare Node `http` server answering the same JSON, side by side in one run.
 */
import { once } from "node:events"
import autocannon from "autocannon"
import { type Benchmark, externalEnv, freePort, spawnBreakwater, withBenchDatabase } from "./harness.ts"

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
    const appResult = await withBenchDatabase(async (url) => {
      const app = await spawnBreakwater({ ...externalEnv(url), PORT: String(await freePort()) })
      const result = await load(`${app.baseUrl}/healthz`)
      await app.stop()
      return result
    })
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
