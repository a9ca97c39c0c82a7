/**
 * The settings service on real PostgreSQL (no HTTP): declarations, versioned changes and their
 * history, compare-and-set, the audit entry of a change, restore, the fallback to the default for
 * a stored value that no longer decodes, the local change stream, and two instances on one
 * database whose bus relays changes (replicas): one sees the other's change at once, and the
 * reload catches what no event announced.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Logger, Option, type PubSub, Schedule, Schema, Stream } from "effect"
import { afterAll, beforeAll } from "vitest"
import type { BusEvent } from "../../src/core/contracts/event-bus.ts"
import { Settings } from "../../src/core/settings/service.ts"
import { defineSetting } from "../../src/core/settings/spec.ts"
import { withSql } from "../support/admin-sql.ts"
import { createTestStores, dropDatabase, type TestStores } from "../support/database.ts"
import { makeHub, operator, settingsLayer } from "../support/settings.ts"

let stores: TestStores
beforeAll(async () => {
  stores = await createTestStores()
})
afterAll(() => dropDatabase(stores.databaseName))

const env = () => ({ DATABASE_URL: stores.databaseUrl })
const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  Effect.promise(() => withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params)))

let counter = 0
/** Settings of a module of its own per test: the tests share one database. */
const freshSpecs = () => {
  const module = `t${++counter}${Math.random().toString(36).slice(2, 6)}`
  return {
    module,
    limit: defineSetting({
      key: `${module}.limit`,
      schema: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 })),
      default: 10,
      description: "How many at most.",
      permission: "MANAGE_SYSTEM_CONFIG",
      unit: "items"
    }),
    mode: defineSetting({
      key: `${module}.mode`,
      schema: Schema.Struct({ name: Schema.Literals(["fast", "safe"]), retries: Schema.Int }),
      default: { name: "safe", retries: 3 },
      description: "How to run.",
      permission: "VIEW_DASHBOARD"
    })
  }
}

/** One replica: its own service instance over the shared database, its bus on `hub`. */
const replica = <A, E>(hub: PubSub.PubSub<BusEvent>, body: Effect.Effect<A, E, Settings>) =>
  Effect.scoped(
    Effect.gen(function* () {
      // A memo map of its own: a replica nested in another's test builds its own services.
      const memo = yield* Layer.makeMemoMap
      const context = yield* Layer.buildWithMemoMap(settingsLayer(env(), hub), memo, yield* Effect.scope)
      return yield* Effect.provide(body, context)
    })
  )

const single = <A, E>(body: Effect.Effect<A, E, Settings>) => replica(makeHub(), body)

const declared = Effect.gen(function* () {
  const specs = freshSpecs()
  const settings = yield* Settings
  yield* settings.declare(specs.module, [specs.limit, specs.mode])
  return { settings, ...specs }
})

describe("settings service", () => {
  it.live("get serves the default, then each new version right after set; history is newest first", () =>
    single(
      Effect.gen(function* () {
        const { settings, limit, mode, module } = yield* declared
        assert.strictEqual(yield* settings.get(limit), 10)
        assert.deepStrictEqual(yield* settings.get(mode), { name: "safe", retries: 3 })
        const first = yield* settings.set(limit.key, 20, operator, { reason: "more" })
        assert.strictEqual(first.version, 1)
        assert.strictEqual(yield* settings.get(limit), 20)
        yield* settings.set(limit.key, 30, operator)
        yield* settings.set(limit.key, 40, operator)
        assert.strictEqual(yield* settings.get(limit), 40)
        const history = yield* settings.history(limit.key)
        assert.deepStrictEqual(
          history.map((v) => [v.version, v.value]),
          [
            [3, 40],
            [2, 30],
            [1, 20]
          ]
        )
        assert.strictEqual(history[2]?.reason, "more")
        assert.deepStrictEqual(history[0]?.changedBy, operator)
        const page = yield* settings.history(limit.key, { limit: 1, before: 3 })
        assert.deepStrictEqual(
          page.map((v) => v.version),
          [2]
        )
        const view = (yield* settings.list).find((s) => s.key === limit.key)
        assert.deepInclude(view, {
          module,
          value: 40,
          default: 10,
          version: 3,
          unit: "items",
          permission: "MANAGE_SYSTEM_CONFIG",
          fallback: false
        })
        assert.deepStrictEqual(view?.schema, { type: "integer", minimum: 1, maximum: 100 })
      })
    )
  )

  it.live("refuses a value that does not fit, naming the key and each field", () =>
    single(
      Effect.gen(function* () {
        const { settings, limit, mode } = yield* declared
        const tooBig = yield* Effect.flip(settings.set(limit.key, 1000, operator))
        assert.strictEqual(tooBig._tag, "InvalidSettingValue")
        if (tooBig._tag !== "InvalidSettingValue") return
        assert.include(tooBig.message, limit.key)
        assert.deepStrictEqual(
          tooBig.issues.map((i) => i.path),
          ["value"]
        )
        const bad = yield* Effect.flip(settings.set(mode.key, { name: "reckless", retries: 1.5 }, operator))
        assert.strictEqual(bad._tag, "InvalidSettingValue")
        if (bad._tag !== "InvalidSettingValue") return
        assert.sameMembers(
          bad.issues.map((i) => i.path),
          ["value.name", "value.retries"]
        )
        const unknown = yield* Effect.flip(settings.set("nobody.declared_this", 1, operator))
        assert.strictEqual(unknown._tag, "SettingNotFound")
        assert.lengthOf(yield* settings.history(limit.key), 0)
      })
    )
  )

  it.live("compare-and-set: the expected version must be the latest (0 when never set)", () =>
    single(
      Effect.gen(function* () {
        const { settings, limit } = yield* declared
        const lost = yield* Effect.flip(settings.set(limit.key, 20, operator, { expectedVersion: 1 }))
        assert.strictEqual(lost._tag, "SettingVersionConflict")
        yield* settings.set(limit.key, 20, operator, { expectedVersion: 0 })
        yield* settings.set(limit.key, 30, operator, { expectedVersion: 1 })
        const stale = yield* Effect.flip(settings.set(limit.key, 40, operator, { expectedVersion: 1 }))
        assert.strictEqual(stale._tag, "SettingVersionConflict")
        if (stale._tag !== "SettingVersionConflict") return
        assert.deepStrictEqual(stale.details, { key: limit.key, expectedVersion: 1, currentVersion: 2 })
        assert.strictEqual(yield* settings.get(limit), 30)
      })
    )
  )

  it.live("concurrent changes of one key get consecutive versions; of many with one expected version, one wins", () =>
    single(
      Effect.gen(function* () {
        const { settings, limit } = yield* declared
        yield* Effect.all(
          Array.from({ length: 8 }, (_, i) => settings.set(limit.key, i + 1, operator)),
          { concurrency: "unbounded" }
        )
        const versions = (yield* settings.history(limit.key)).map((v) => v.version)
        assert.deepStrictEqual(versions, [8, 7, 6, 5, 4, 3, 2, 1])
        const results = yield* Effect.all(
          Array.from({ length: 5 }, (_, i) =>
            Effect.exit(settings.set(limit.key, 50 + i, operator, { expectedVersion: 8 }))
          ),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(results.filter(Exit.isSuccess).length, 1)
      })
    )
  )

  it.live("each change leaves its audit entry (from, to, version); a refused one leaves neither", () =>
    single(
      Effect.gen(function* () {
        const { settings, limit } = yield* declared
        yield* settings.set(limit.key, 20, operator, { reason: "peak hours" })
        yield* settings.set(limit.key, 25, operator)
        yield* Effect.flip(settings.set(limit.key, 30, operator, { expectedVersion: 1 }))
        const rows = yield* query<{ actor_id: string; action: string; reason: string | null; details: unknown }>(
          "SELECT actor_id, action, reason, details FROM audit_log WHERE resource_type = 'setting' AND resource_id = $1 ORDER BY id",
          [limit.key]
        )
        assert.deepStrictEqual(
          rows.map((r) => r.details),
          [
            { key: limit.key, from: 10, to: 20, version: 1 },
            { key: limit.key, from: 20, to: 25, version: 2 }
          ]
        )
        assert.deepStrictEqual(
          rows.map((r) => [r.action, r.actor_id, r.reason]),
          [
            ["setting.change", operator.id, "peak hours"],
            ["setting.change", operator.id, null]
          ]
        )
      })
    )
  )

  it.live("restore writes an earlier value as the next version and audits which one", () =>
    single(
      Effect.gen(function* () {
        const { settings, mode } = yield* declared
        yield* settings.set(mode.key, { name: "fast", retries: 0 }, operator)
        yield* settings.set(mode.key, { name: "safe", retries: 9 }, operator)
        const restored = yield* settings.restore(mode.key, 1, operator)
        assert.strictEqual(restored.version, 3)
        assert.strictEqual(restored.reason, "restored version 1")
        assert.deepStrictEqual(yield* settings.get(mode), { name: "fast", retries: 0 })
        const missing = yield* Effect.flip(settings.restore(mode.key, 99, operator))
        assert.strictEqual(missing._tag, "SettingVersionNotFound")
        const conflict = yield* Effect.flip(settings.restore(mode.key, 2, operator, { expectedVersion: 2 }))
        assert.strictEqual(conflict._tag, "SettingVersionConflict")
        const [entry] = yield* query<{ details: Record<string, unknown> }>(
          "SELECT details FROM audit_log WHERE resource_id = $1 ORDER BY id DESC LIMIT 1",
          [mode.key]
        )
        assert.deepStrictEqual(entry?.details, {
          key: mode.key,
          from: { name: "safe", retries: 9 },
          to: { name: "fast", retries: 0 },
          version: 3,
          restoredFrom: 1
        })
      })
    )
  )

  it.live("a stored value that no longer decodes falls back to the default, logged once", () => {
    const logged: Array<string> = []
    const capture = Logger.make(({ message }) => {
      logged.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    return single(
      Effect.gen(function* () {
        const { settings, limit, module } = yield* declared
        yield* settings.set(limit.key, 20, operator)
        // A later release narrowed the schema, or someone edited the row: version 2 no longer fits.
        yield* query(
          `INSERT INTO setting_version (key, version, value, changed_by) VALUES ($1, 2, '"twenty"'::jsonb, '{"type":"system","id":"system:test","name":"test"}'::jsonb)`,
          [limit.key]
        )
        yield* settings.reload
        yield* settings.reload
        assert.strictEqual(yield* settings.get(limit), 10)
        const view = (yield* settings.list).find((s) => s.key === limit.key)
        assert.deepInclude(view, { value: 10, version: 2, fallback: true })
        // A fresh instance (a restart) falls back too, and says so once.
        yield* replica(
          makeHub(),
          Effect.gen(function* () {
            const again = yield* Settings
            yield* again.declare(module, [limit])
            assert.strictEqual(yield* again.get(limit), 10)
          })
        )
        const warnings = logged.filter((line) => line.includes(`setting ${limit.key}: version 2 no longer fits`))
        assert.lengthOf(warnings, 2, "once per instance")
        // A valid change puts it right.
        yield* settings.set(limit.key, 30, operator)
        assert.strictEqual(yield* settings.get(limit), 30)
      }).pipe(Effect.provide(Logger.layer([capture])))
    )
  })

  it.live("declarations: a duplicate key names both modules, a bad default or permission stops the start", () =>
    single(
      Effect.gen(function* () {
        const { settings, limit, module } = yield* declared
        const twice = yield* Effect.flip(settings.declare("intruder", [limit]))
        assert.strictEqual(twice.message, `setting ${limit.key} is declared by both ${module} and intruder`)
        const badDefault = yield* Effect.flip(settings.declare("m", [{ ...limit, key: "m.limit", default: 0 }]))
        assert.include(badDefault.message, "setting m.limit (module m): the default does not")
        const badPermission = yield* Effect.flip(
          settings.declare("m", [{ ...limit, key: "m.x", permission: "NOPE_NOPE" }])
        )
        assert.include(badPermission.message, "NOPE_NOPE is not a permission")
      })
    )
  )

  it.live("the changes stream tells each change", () =>
    single(
      Effect.gen(function* () {
        const { settings, limit } = yield* declared
        const seen = yield* settings.changes.pipe(
          Stream.take(2),
          Stream.map((c) => [c.key, c.version, c.value]),
          Stream.runCollect,
          Effect.forkChild
        )
        yield* Effect.sleep("20 millis")
        yield* settings.set(limit.key, 11, operator)
        yield* settings.set(limit.key, 12, operator)
        assert.deepStrictEqual(yield* Fiber.join(seen), [
          [limit.key, 1, 11],
          [limit.key, 2, 12]
        ])
      })
    )
  )

  it.live(
    "replicas: a change on one is in effect on the other within a second; the reload catches unannounced ones",
    () => {
      const hub = makeHub()
      return replica(
        hub,
        Effect.gen(function* () {
          const { settings: a, limit, mode, module } = yield* declared
          yield* replica(
            hub,
            Effect.gen(function* () {
              const b = yield* Settings
              yield* b.declare(module, [limit, mode])
              yield* Effect.forkChild(b.follow(Effect.void))
              yield* Effect.sleep("50 millis")
              yield* a.set(limit.key, 42, operator)
              const seen = yield* b
                .get(limit)
                .pipe(
                  Effect.repeat({ until: (v) => v === 42, schedule: Schedule.spaced("10 millis") }),
                  Effect.timeoutOption("1 second")
                )
              assert.isTrue(Option.isSome(seen), "replica b saw the change within a second")
              // Written behind every bus's back: only the reload finds it.
              yield* query(
                `INSERT INTO setting_version (key, version, value, changed_by) VALUES ($1, 2, '7'::jsonb, '{"type":"system","id":"system:test","name":"test"}'::jsonb)`,
                [limit.key]
              )
              assert.strictEqual(yield* b.get(limit), 42)
              yield* b.reload
              assert.strictEqual(yield* b.get(limit), 7)
            })
          )
        })
      )
    }
  )
})
