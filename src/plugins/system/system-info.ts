/**
 * What the console says about this process: version, uptime, installation, database and Redis
 * modes, supervised fibers, and the samples of the `system.sampler` fiber (event-loop delay,
 * memory, database round trip).
 */
import { monitorEventLoopDelay } from "node:perf_hooks"
import { Clock, Context, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { AppConfig } from "../../core/config.ts"
import { DatabaseInfo } from "../../core/db/client.ts"
import { db, first } from "../../core/db/query.ts"
import { Metrics } from "../../core/observability/metrics.ts"
import { SharedState } from "../../core/redis/shared-state.ts"
import { memoryMode } from "../../core/runtime/memory-mode.ts"
import { FiberStatus, Supervisor } from "../../core/supervisor.ts"
import { startedAt, version } from "../../core/version.ts"

export const Sample = Schema.Struct({
  at: Schema.Number,
  eventLoopDelayP99Ms: Schema.Number,
  rssBytes: Schema.Number,
  heapUsedBytes: Schema.Number,
  databaseRoundTripMs: Schema.Number
})
export type Sample = typeof Sample.Type

/** The body of `GET /api/v1/system` and the data of the About page. */
export const SystemSnapshot = Schema.Struct({
  version: Schema.String,
  nodeVersion: Schema.String,
  /** `size`: V8 told to optimise for memory (the embedded database); `speed`: V8's defaults. */
  memoryMode: Schema.Literals(["size", "speed"]),
  startedAt: Schema.String,
  uptimeSeconds: Schema.Number,
  installationId: Schema.String,
  installedAt: Schema.String,
  database: Schema.Struct({ mode: Schema.Literals(["external", "embedded"]), location: Schema.String }),
  redis: Schema.Struct({ mode: Schema.Literals(["redis", "in-process"]) }),
  listen: Schema.String,
  fibers: Schema.Array(FiberStatus),
  latestSample: Schema.UndefinedOr(Sample)
})
export type SystemSnapshot = typeof SystemSnapshot.Type

export interface SystemInfoShape {
  readonly snapshot: Effect.Effect<SystemSnapshot>
  /** Takes one sample; the sampler fiber calls it. */
  readonly sample: Effect.Effect<Sample, unknown>
}

const SAMPLES_KEPT = 120

export class SystemInfo extends Context.Service<SystemInfo, SystemInfoShape>()("breakwater/plugins/SystemInfo") {
  static readonly layer = Layer.effect(
    SystemInfo,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const database = yield* DatabaseInfo
      const shared = yield* SharedState
      const supervisor = yield* Supervisor
      const config = yield* AppConfig
      const metrics = yield* Metrics
      yield* sql`INSERT INTO installation DEFAULT VALUES ON CONFLICT (singleton) DO NOTHING`
      const installation = yield* first(db.selectFrom("installation").select(["id", "created_at"]))
      if (installation === undefined) return yield* Effect.die(new Error("installation row missing after insert"))
      const roundTrip = metrics.gauge({
        name: "breakwater_database_round_trip_seconds",
        help: "Time of a trivial query to the database, sampled every few seconds."
      })
      const delay = monitorEventLoopDelay({ resolution: 10 })
      delay.enable()
      yield* Effect.addFinalizer(() => Effect.sync(() => delay.disable()))
      const samples: Array<Sample> = []

      const sample = Effect.gen(function* () {
        const start = performance.now()
        yield* sql`SELECT 1`
        const databaseRoundTripMs = performance.now() - start
        roundTrip.set(databaseRoundTripMs / 1000)
        const memory = process.memoryUsage()
        const s: Sample = {
          at: yield* Clock.currentTimeMillis,
          eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
          databaseRoundTripMs
        }
        delay.reset()
        samples.push(s)
        if (samples.length > SAMPLES_KEPT) samples.shift()
        return s
      })

      const snapshot = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        return {
          version,
          nodeVersion: process.version,
          memoryMode: memoryMode(),
          startedAt: new Date(startedAt).toISOString(),
          uptimeSeconds: Math.max(0, (now - startedAt) / 1000),
          installationId: installation.id,
          installedAt: installation.created_at.toISOString(),
          database: { mode: database.mode, location: database.location },
          redis: { mode: shared.mode },
          listen: `${config.host}:${config.port}`,
          fibers: yield* supervisor.statuses,
          latestSample: samples.at(-1)
        }
      })
      return { snapshot, sample }
    })
  )
}
