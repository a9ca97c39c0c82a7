/**
 * The circuit breaker's figures (issue 4), against one Breakwater process on PostgreSQL and Redis:
 * - `GET /api/v1/breaker/global` with an API key, requests/s, against a bare node:http server
 *   answering the same bytes (body and headers); rounds alternate bare and Breakwater, same connections and duration.
 *   Breakwater runs at the default LOG_LEVEL (info: one JSON line per request, to a file), with
 *   the per-key rate limit on but set above what the bench's one key sends (~40k req/s), so the
 *   figure includes the limiter's cost without its refusals.
 * - trip → Redis publish: 1,000 trips (after 20 not counted) sent one at a time through the API,
 *   each on its own fresh scope (a trip of a tripped scope is no transition), timed from sending
 *   the request to the change message arriving on `circuit_breaker:changes`. Baseline: the same
 *   trips against the server started without its young-generation cap (ADR 0013).
 * - trip → SSE delivery: 1,000 streams on `GET /api/v1/breaker/stream`, a few trips, timed from
 *   sending the trip to the `transition` event arriving on each stream.
 * Targets: ≥ 50 % of bare, p99 ≤ 10 ms, p99 ≤ 250 ms.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { Agent, type ClientRequest, request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Redis } from "ioredis"
import { YOUNG_GENERATION_FLAG } from "../../src/core/runtime/young-generation.ts"
import { startArgs } from "../support/start-command.ts"
import {
  type Benchmark,
  bareServer,
  createApiKey,
  externalEnv,
  freePort,
  type LoadResult,
  load,
  percentile,
  type Row,
  spawnBreakwater,
  withBenchDatabase
} from "./harness.ts"

const ROUNDS = 3
const PUBLISH_WARMUP = 20
const PUBLISH_TRIPS = 1000 + PUBLISH_WARMUP
const STREAMS = 1000
const SSE_TRIPS = 5
const REASON = "benchmark: trip latency measurement, not a real halt"

/** API_RATE_LIMIT_PER_MINUTE for every server here: the setting's maximum, ~4× the ~2.7 million a minute the key sends. */
const RATE_LIMIT = 10_000_000

/** What the bench's key may do: read, trip, and create the fresh scopes it trips. */
const TRIPPING_KEY = ["VIEW_CIRCUIT_BREAKER", "TRIP_CIRCUIT_BREAKER", "MANAGE_SYSTEM_CONFIG"]

const fixed = (n: number, digits = 1) => n.toFixed(digits)

/** The JSON API as the bench's key sees it. */
const api = (baseUrl: string, key: string) => async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text
}

const createScopes = async (call: ReturnType<typeof api>, names: ReadonlyArray<string>) => {
  for (const scope of names) await call("POST", "/api/v1/breaker/scopes", { scope })
}

/** (a) Alternating rounds of bare and Breakwater on the same bytes; the ratio of the means. */
const readThroughput = async (baseUrl: string, key: string, label: string): Promise<Row> => {
  const path = "/api/v1/breaker/global"
  const headers = { authorization: `Bearer ${key}` }
  const body = await (await fetch(`${baseUrl}${path}`, { headers })).text()
  const bare = await bareServer(body)
  const bareRuns: Array<LoadResult> = []
  const appRuns: Array<LoadResult> = []
  try {
    // A short warm-up, so the first measured round is not the JIT's.
    await load(`${baseUrl}${path}`, { headers, seconds: 2 })
    for (let round = 0; round < ROUNDS; round++) {
      bareRuns.push(await load(`${bare.baseUrl}${path}`, { headers }))
      appRuns.push(await load(`${baseUrl}${path}`, { headers }))
    }
  } finally {
    bare.stop()
  }
  const mean = (runs: ReadonlyArray<LoadResult>) => runs.reduce((sum, r) => sum + r.rps, 0) / runs.length
  const ratios = appRuns.map((r, i) => (r.rps / (bareRuns[i]?.rps ?? Number.NaN)) * 100)
  const errors = appRuns.reduce((sum, r) => sum + r.errors, 0)
  return {
    benchmark: `GET /api/v1/breaker/global (API key, ${label}, rate limit ${RATE_LIMIT.toLocaleString("en")}/min not reached), req/s, 50 conn × 5 s, ${ROUNDS} rounds`,
    figure: `${mean(appRuns).toFixed(0)} (p99 ${Math.max(...appRuns.map((r) => r.p99))} ms, ${errors} errors)`,
    baseline: `${mean(bareRuns).toFixed(0)} bare node:http, same body and headers`,
    ratio: `${((mean(appRuns) / mean(bareRuns)) * 100).toFixed(0)} % (rounds ${Math.min(...ratios).toFixed(0)}–${Math.max(...ratios).toFixed(0)} %)`,
    target: "≥ 50 %"
  }
}

/** Waits for the change message of a trip on `scope`. */
const changeWaiter = (subscriber: Redis, channel: string) => {
  const waiting = new Map<string, (at: number) => void>()
  subscriber.on("message", (from: string, message: string) => {
    const at = performance.now()
    if (from !== channel) return
    const change = JSON.parse(message) as { type?: string; record?: { scope?: string; state?: string } }
    if (change.type !== "transition" || change.record?.state !== "TRIPPED" || change.record.scope === undefined) return
    waiting.get(change.record.scope)?.(at)
    waiting.delete(change.record.scope)
  })
  return (scope: string) => new Promise<number>((resolve) => waiting.set(scope, resolve))
}

/**
 * One POST at a time over one kept-alive connection with node:http: the client should add as
 * little of its own work and garbage as it can to what is timed (fetch's did: its collections
 * showed up as 15–25 ms samples).
 */
const poster = (baseUrl: string, key: string, body: string) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const { hostname, port } = new URL(baseUrl)
  const headers = {
    authorization: `Bearer ${key}`,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body)
  }
  const post = (path: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ agent, hostname, port, path, method: "POST", headers }, (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (text += chunk))
        res.on("end", () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode} ${text}`))
        )
      })
      req.on("error", reject)
      req.end(body)
    })
  return { post, close: () => agent.destroy() }
}

interface PublishTimes {
  /** Sent → change message heard, sorted. */
  readonly latencies: ReadonlyArray<number>
  /** Sent → response read, sorted. */
  readonly responses: ReadonlyArray<number>
}

/** (b) Trip → Redis publish, one trip at a time on fresh scopes named `${scopePrefix}-N`. */
const tripToPublish = async (
  call: ReturnType<typeof api>,
  baseUrl: string,
  key: string,
  env: { readonly REDIS_URL: string; readonly REDIS_KEY_PREFIX: string },
  scopePrefix: string
): Promise<PublishTimes> => {
  const scopes = Array.from({ length: PUBLISH_TRIPS }, (_, i) => `${scopePrefix}-${i}`)
  await createScopes(call, scopes)
  const subscriber = new Redis(env.REDIS_URL)
  const channel = `${env.REDIS_KEY_PREFIX}circuit_breaker:changes`
  await subscriber.subscribe(channel)
  const published = changeWaiter(subscriber, channel)
  const { post, close } = poster(baseUrl, key, JSON.stringify({ reason: REASON, acknowledge: true }))
  const latencies: Array<number> = []
  const responses: Array<number> = []
  try {
    // A few trips not counted, so the connection and the JIT are warm (a fresh scope each).
    for (const [i, scope] of scopes.entries()) {
      const message = published(scope)
      const sent = performance.now()
      await post(`/api/v1/breaker/${scope}/trip`)
      const responded = performance.now() - sent
      const arrived = await Promise.race([message, new Promise<number>((r) => setTimeout(() => r(Number.NaN), 5000))])
      if (Number.isNaN(arrived)) throw new Error(`no change message for the trip of ${scope} within 5 s`)
      if (i < PUBLISH_WARMUP) continue
      responses.push(responded)
      latencies.push(arrived - sent)
    }
  } finally {
    close()
    subscriber.disconnect()
  }
  return { latencies: latencies.sort((a, b) => a - b), responses: responses.sort((a, b) => a - b) }
}

const publishSummary = ({ latencies }: PublishTimes) =>
  `p50 ${fixed(percentile(latencies, 0.5))} ms, p99 ${fixed(percentile(latencies, 0.99))} ms, max ${fixed(latencies.at(-1) ?? 0)} ms`

/** The figure with the server as `npm start` runs it; the baseline without its young-generation cap (ADR 0013). */
const publishRow = (started: PublishTimes, uncapped: PublishTimes): Row => ({
  benchmark: `trip (API) → change message on Redis, ${started.latencies.length} trips one at a time`,
  figure: `${publishSummary(started)} (response p99 ${fixed(percentile(started.responses, 0.99))} ms)`,
  baseline: `${publishSummary(uncapped)} without ${YOUNG_GENERATION_FLAG}`,
  ratio: `p99 ${((percentile(started.latencies, 0.99) / percentile(uncapped.latencies, 0.99)) * 100).toFixed(0)} %`,
  target: "p99 ≤ 10 ms"
})

interface Stream {
  readonly request: ClientRequest
  /** Resolves when the snapshot event arrived. */
  readonly ready: Promise<void>
}

/** One SSE client: calls `onTransition(scope, at)` for every `transition` event it reads. */
const openStream = (
  baseUrl: string,
  key: string,
  agent: Agent,
  onTransition: (scope: string, at: number) => void
): Stream => {
  let ready: () => void = () => {}
  let failed: (e: Error) => void = () => {}
  const readyPromise = new Promise<void>((resolve, reject) => {
    ready = resolve
    failed = reject
  })
  const req = request(`${baseUrl}/api/v1/breaker/stream`, { agent, headers: { authorization: `Bearer ${key}` } })
  req.on("response", (res) => {
    if (res.statusCode !== 200) failed(new Error(`stream answered ${res.statusCode}`))
    res.setEncoding("utf8")
    let buffer = ""
    res.on("data", (chunk: string) => {
      const at = performance.now()
      buffer += chunk
      let end = buffer.indexOf("\n\n")
      while (end !== -1) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        end = buffer.indexOf("\n\n")
        if (frame.includes("event: snapshot")) ready()
        else if (frame.startsWith("event: transition")) {
          const data = frame.slice(frame.indexOf("data: ") + 6)
          const change = JSON.parse(data) as { record?: { scope?: string } }
          if (change.record?.scope !== undefined) onTransition(change.record.scope, at)
        }
      }
    })
  })
  req.on("error", (e) => failed(e))
  req.end()
  return { request: req, ready: readyPromise }
}

/** (c) Trip → SSE delivery at each of 1,000 streams. */
const tripToSse = async (call: ReturnType<typeof api>, baseUrl: string, key: string): Promise<Row> => {
  const scopes = Array.from({ length: SSE_TRIPS }, (_, i) => `bench-sse-${i}`)
  await createScopes(call, scopes)
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })
  const delivered = new Map<string, Array<number>>(scopes.map((s) => [s, []]))
  const streams: Array<Stream> = []
  const openedAt = performance.now()
  try {
    // In batches, so the connection backlog is never the limit.
    for (let i = 0; i < STREAMS; i += 100) {
      const batch = Array.from({ length: Math.min(100, STREAMS - i) }, () =>
        openStream(baseUrl, key, agent, (scope, at) => delivered.get(scope)?.push(at))
      )
      streams.push(...batch)
      await Promise.all(batch.map((s) => s.ready))
    }
    const connectMs = performance.now() - openedAt
    const latencies: Array<number> = []
    let missing = 0
    for (const scope of scopes) {
      await new Promise((r) => setTimeout(r, 1000))
      const sent = performance.now()
      await call("POST", `/api/v1/breaker/${scope}/trip`, { reason: REASON, acknowledge: true })
      const deadline = performance.now() + 5000
      while ((delivered.get(scope)?.length ?? 0) < STREAMS && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 5))
      const arrivals = delivered.get(scope) ?? []
      missing += STREAMS - arrivals.length
      for (const at of arrivals) latencies.push(at - sent)
    }
    latencies.sort((a, b) => a - b)
    return {
      benchmark: `trip (API) → transition event on each of ${STREAMS} SSE streams, ${SSE_TRIPS} trips`,
      figure: `p50 ${fixed(percentile(latencies, 0.5))} ms, p99 ${fixed(percentile(latencies, 0.99))} ms, max ${fixed(latencies.at(-1) ?? 0)} ms, ${missing} missed`,
      baseline: `${STREAMS} streams connected in ${connectMs.toFixed(0)} ms`,
      target: "p99 ≤ 250 ms"
    }
  } finally {
    for (const s of streams) s.request.destroy()
    agent.destroy()
  }
}

/** Trip → publish against a server started without `--max-semi-space-size`, on a fresh database. */
const uncappedPublish = (logDir: string) =>
  withBenchDatabase(async (url) => {
    const env = {
      ...externalEnv(url),
      PORT: String(await freePort()),
      LOG_LEVEL: "info",
      API_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT)
    }
    const app = await spawnBreakwater(env, 60_000, {
      logFile: join(logDir, "uncapped.log"),
      args: startArgs.filter((arg) => !arg.startsWith(YOUNG_GENERATION_FLAG))
    })
    try {
      const key = await createApiKey(env, TRIPPING_KEY)
      await tripToSse(api(app.baseUrl, key), app.baseUrl, key)
      return await tripToPublish(api(app.baseUrl, key), app.baseUrl, key, env, "bench-publish")
    } finally {
      await app.stop()
    }
  })

export const breaker: Benchmark = {
  name: "breaker",
  run: () =>
    withBenchDatabase(async (url) => {
      const logDir = mkdtempSync(join(tmpdir(), "bw-bench-breaker-"))
      const env = {
        ...externalEnv(url),
        PORT: String(await freePort()),
        LOG_LEVEL: "info",
        API_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT)
      }
      try {
        const app = await spawnBreakwater(env, 60_000, { logFile: join(logDir, "info.log") })
        const rows: Array<Row> = []
        let started: PublishTimes
        try {
          const key = await createApiKey(env, TRIPPING_KEY)
          const call = api(app.baseUrl, key)
          rows.push(await readThroughput(app.baseUrl, key, "LOG_LEVEL=info"))
          // Streams before the publish run: each stream's snapshot then lists a handful of scopes.
          rows.push(await tripToSse(call, app.baseUrl, key))
          started = await tripToPublish(call, app.baseUrl, key, env, "bench-publish")
        } finally {
          await app.stop()
        }
        // The baseline of the same trips: the server started without the young-generation cap, on
        // a database of its own, after the same stream run as the figure.
        rows.push(publishRow(started, await uncappedPublish(logDir)))
        // The same read without the request log line, to show what logging costs.
        const quiet = await spawnBreakwater({ ...env, LOG_LEVEL: "warn" }, 60_000, {
          logFile: join(logDir, "warn.log")
        })
        try {
          const key = await createApiKey(env, ["VIEW_CIRCUIT_BREAKER"])
          const row = await readThroughput(quiet.baseUrl, key, "LOG_LEVEL=warn")
          rows.push({ ...row, target: "(for comparison)" })
        } finally {
          await quiet.stop()
        }
        return rows
      } finally {
        rmSync(logDir, { recursive: true, force: true })
      }
    })
}
