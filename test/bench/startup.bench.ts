/**
 * Start-up time: from spawning the process to the first 200 on /healthz, on the embedded database
 * (first start on an empty data directory, then a second start on the same one) and on PostgreSQL.
 * Targets from the foundation issue: first start ≤ 15 s, second ≤ 3 s.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Benchmark, externalEnv, freePort, ms, spawnBreakwater, withBenchDatabase } from "./harness.ts"

export const startup: Benchmark = {
  name: "start-up",
  run: async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "bw-bench-"))
    try {
      const embedded = {
        DATABASE_URL: undefined,
        REDIS_URL: undefined,
        BREAKWATER_DATA_DIR: dataDir,
        BREAKWATER_ADMIN_EMAIL: "bench@localhost",
        BREAKWATER_ADMIN_PASSWORD: "bench-admin-password"
      }
      const first = await spawnBreakwater({ ...embedded, PORT: String(await freePort()) })
      await first.stop()
      const second = await spawnBreakwater({ ...embedded, PORT: String(await freePort()) })
      const stopStart = performance.now()
      const code = await second.stop()
      const stopMs = performance.now() - stopStart
      const external = await withBenchDatabase(async (url) => {
        const app = await spawnBreakwater({ ...externalEnv(url), PORT: String(await freePort()) })
        await app.stop()
        return app
      })
      return [
        {
          benchmark: "first start, embedded (empty data dir) → /healthz",
          figure: ms(first.readyMs),
          target: "≤ 15000 ms"
        },
        {
          benchmark: "second start, embedded (same data dir) → /healthz",
          figure: ms(second.readyMs),
          target: "≤ 3000 ms"
        },
        { benchmark: "start, PostgreSQL + Redis → /healthz", figure: ms(external.readyMs) },
        { benchmark: "SIGTERM → exit (embedded)", figure: `${ms(stopMs)}, code ${code}`, target: "≤ 5000 ms, code 0" }
      ]
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
