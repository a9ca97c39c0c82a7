/**
 * HTTP throughput of Breakwater's request pipeline (request id, access check, logging, metrics)
 * on `/healthz`, against a bare Node `http` server answering the same JSON, side by side in one run.
 */
import {
  type Benchmark,
  bareServer,
  externalEnv,
  freePort,
  load,
  spawnBreakwater,
  withBenchDatabase
} from "./harness.ts"

export const http: Benchmark = {
  name: "http",
  run: async () => {
    const bare = await bareServer()
    const bareResult = await load(`${bare.baseUrl}/healthz`)
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
