/**
 * The claim's life against real PostgreSQL, through the Idempotency service with short timings:
 * an interrupted or crashing request releases its claim (a retry executes), and a request that
 * runs longer than the lease keeps its claim by renewing it, so a duplicate waits for its answer
 * instead of taking it over and executing twice.
 */
import { randomUUID } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Fiber, Layer, ManagedRuntime, Redacted } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Principal } from "../../src/core/auth/access.ts"
import { Idempotency } from "../../src/core/http/idempotency.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { withSql } from "../support/admin-sql.ts"
import { createTestStores, type TestStores } from "../support/database.ts"

const LEASE_MILLIS = 300
const caller: Principal = { kind: "api_key", id: "claims-test", name: "claims test", permissions: new Set() }

const makeRuntime = (databaseUrl: string) =>
  ManagedRuntime.make(
    Idempotency.layerWith({ ttlHours: Effect.succeed(1), waitMillis: 3_000, leaseMillis: LEASE_MILLIS }).pipe(
      Layer.provide(PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 4 })),
      Layer.provide(Metrics.layer)
    )
  )

let stores: TestStores
let runtime: ReturnType<typeof makeRuntime>

beforeAll(async () => {
  stores = await createTestStores()
  runtime = makeRuntime(stores.databaseUrl)
})
afterAll(() => runtime?.dispose())

const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params))

const request = (key: string) =>
  HttpServerRequest.fromWeb(
    new Request("http://breakwater.test/api/v1/things", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": key },
      body: JSON.stringify({ thing: 1 })
    })
  )

/** A handler that counts its executions. */
const counted = (counter: { n: number }, then: Effect.Effect<void> = Effect.void) =>
  Effect.sync(() => {
    counter.n++
  }).pipe(Effect.andThen(then), Effect.as(HttpServerResponse.jsonUnsafe({ done: counter.n }, { status: 201 })))

const guard = (key: string, respond: Effect.Effect<HttpServerResponse.HttpServerResponse>) =>
  Effect.flatMap(Idempotency, (idempotency) => idempotency.guard(request(key), caller, respond))

const rowOf = async (key: string) =>
  (
    await query<{ state: string; locked_until: Date | null; created_at: Date }>(
      "SELECT state, locked_until, created_at FROM idempotency_key WHERE principal = 'api_key:claims-test' AND key = $1",
      [key]
    )
  )[0]

const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 100; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error("condition not reached in 2 s")
}

describe("a claim", () => {
  it("is released when its request is interrupted, so a retry executes", async () => {
    const key = randomUUID()
    const counter = { n: 0 }
    const fiber = runtime.runFork(guard(key, counted(counter, Effect.never)))
    await until(async () => (await rowOf(key))?.state === "in_progress")
    await runtime.runPromise(Fiber.interrupt(fiber))
    expect(await rowOf(key)).toBeUndefined()
    const retried = await runtime.runPromise(guard(key, counted(counter)))
    expect(retried.status).toBe(201)
    expect(counter.n).toBe(2)
  })

  it("is released when its request crashes, so a retry executes", async () => {
    const key = randomUUID()
    const exit = await runtime.runPromiseExit(guard(key, Effect.die(new Error("crash for the test"))))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(await rowOf(key)).toBeUndefined()
    const counter = { n: 0 }
    expect((await runtime.runPromise(guard(key, counted(counter)))).status).toBe(201)
    expect(counter.n).toBe(1)
  })

  it("is renewed while its request runs past the lease: a duplicate waits for the answer and does not execute", async () => {
    const key = randomUUID()
    const counter = { n: 0 }
    const slow = counted(counter, Effect.sleep(LEASE_MILLIS * 4))
    const first = runtime.runPromise(guard(key, slow))
    await until(async () => (await rowOf(key))?.state === "in_progress")
    const duplicate = runtime.runPromise(guard(key, slow))
    await new Promise((resolve) => setTimeout(resolve, LEASE_MILLIS * 2))
    const running = await rowOf(key)
    expect(running?.state).toBe("in_progress")
    // Renewed: the lock reaches past the first lease.
    expect(running?.locked_until?.getTime()).toBeGreaterThan((running?.created_at.getTime() ?? 0) + LEASE_MILLIS)
    const [a, b] = await Promise.all([first, duplicate])
    expect(counter.n).toBe(1)
    expect(a.status).toBe(201)
    expect(b.status).toBe(201)
    expect(b.headers["idempotent-replayed"]).toBe("true")
    expect((await rowOf(key))?.state).toBe("completed")
  })

  it("is skipped while the store is unreachable: the request runs (unguarded) rather than fail", async () => {
    const down = makeRuntime("postgres://postgres@127.0.0.1:1/none")
    try {
      const counter = { n: 0 }
      const key = randomUUID()
      const answers = [
        await down.runPromise(guard(key, counted(counter))),
        await down.runPromise(guard(key, counted(counter)))
      ]
      expect(answers.map((a) => a.status)).toEqual([201, 201])
      expect(answers.map((a) => a.headers["idempotent-replayed"])).toEqual([undefined, undefined])
      expect(counter.n).toBe(2)
    } finally {
      await down.dispose()
    }
  })
})
