/**
 * Runtime settings (ARCHITECTURE.md §6): modules declare them at start (key, schema, default, who
 * may change them); `get` answers from memory and never fails. A change is decoded by the
 * setting's schema and stored as the key's next version together with its audit entry, in one
 * transaction; then it takes effect here at once and is announced on the local `changes` stream
 * and on the event bus (topic `settings`, relayed to the other replicas, which apply it from the
 * event). A periodic reload from the database is the safety net for a lost announcement. Both
 * are fibers (`fibers.ts`) the module wiring starts; none runs inside this layer.
 */
import { Context, Effect, Layer, PubSub, Result, Schema, Stream } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { Audit } from "../audit/audit.ts"
import type { Actor } from "../audit/entry.ts"
import { Permissions } from "../auth/permissions.ts"
import { type BusEvent, EventBus, type TopicSpec } from "../contracts/event-bus.ts"
import {
  checkDeclarations,
  type DeclaredSetting,
  decodeValue,
  type Effective,
  effectiveOf,
  toStoredJson,
  type ValueProblem
} from "./declarations.ts"
import {
  InvalidSettingValue,
  SettingDeclarationError,
  SettingNotFound,
  SettingVersionConflict,
  SettingVersionNotFound
} from "./errors.ts"
import { SettingVersion, type SettingView } from "./model.ts"
import type { SettingSpec } from "./spec.ts"
import * as Store from "./store.ts"

/** The bus topic of setting changes; every signed-in reader of the dashboard may see them. */
export const settingsTopic: TopicSpec = {
  name: "settings",
  permission: "VIEW_DASHBOARD",
  description: "A runtime setting changed: its key, new version and value."
}

/** The event type of a change on {@link settingsTopic}; its data is a {@link SettingVersion}. */
export const SETTING_CHANGED = "change"

export interface ChangeOptions {
  /** Compare-and-set: refuse (409) unless the latest stored version is this one (0: never set). */
  readonly expectedVersion?: number | undefined
  /** Why, for the history and the audit entry. */
  readonly reason?: string | undefined
}

export interface HistoryOptions {
  /** At most this many versions, newest first (1–500, default 50). */
  readonly limit?: number | undefined
  /** Only versions older than this one (the next page). */
  readonly before?: number | undefined
}

export const DEFAULT_HISTORY_LIMIT = 50
export const MAX_HISTORY_LIMIT = 500

type ChangeError = SettingNotFound | InvalidSettingValue | SettingVersionConflict | SqlError.SqlError

export interface SettingsShape {
  /** Adds a module's settings (at start, after the permissions); a malformed or duplicate one fails the start. */
  readonly declare: (
    module: string,
    specs: ReadonlyArray<SettingSpec<unknown>>
  ) => Effect.Effect<void, SettingDeclarationError>
  /** The value in effect, from memory: the latest stored version, or the default when there is none or it no longer decodes. */
  readonly get: <A>(spec: SettingSpec<A>) => Effect.Effect<A>
  /** A declared setting by key. */
  readonly lookup: (key: string) => Effect.Effect<DeclaredSetting, SettingNotFound>
  /** Every declared setting with the value in effect, by key. */
  readonly list: Effect.Effect<ReadonlyArray<SettingView>>
  /** A setting's stored versions, newest first. */
  readonly history: (
    key: string,
    options?: HistoryOptions
  ) => Effect.Effect<ReadonlyArray<SettingVersion>, SettingNotFound | SqlError.SqlError>
  /** Decodes `value` with the setting's schema and stores it as the next version (audited); in effect on return. */
  readonly set: (
    key: string,
    value: unknown,
    actor: Actor,
    options?: ChangeOptions
  ) => Effect.Effect<SettingVersion, ChangeError>
  /** Stores an earlier version's value as the next version (audited, naming the version restored). */
  readonly restore: (
    key: string,
    version: number,
    actor: Actor,
    options?: ChangeOptions
  ) => Effect.Effect<SettingVersion, ChangeError | SettingVersionNotFound>
  /** Every change this process takes in (its own and other replicas'), from the moment of running. Read the typed value with `get`. */
  readonly changes: Stream.Stream<SettingVersion>
  /** Reads the latest versions of the declared settings and applies the newer ones (the reload fiber). */
  readonly reload: Effect.Effect<void, SqlError.SqlError>
  /**
   * Applies the changes other replicas announce on the bus, until the subscription ends (the
   * follower fiber); `heartbeat` once following and after each change.
   */
  readonly follow: (heartbeat: Effect.Effect<void>) => Effect.Effect<void, SqlError.SqlError>
}

const invalid = (key: string, problem: ValueProblem, what = "the value") =>
  new InvalidSettingValue({
    message: `${what} of setting ${key} is invalid: ${problem.message}`,
    key,
    // The value is the `value` field of a request.
    issues: problem.issues.map((i) => ({ path: i.path === "" ? "value" : `value.${i.path}`, message: i.message }))
  })

const decodeAnnounced = Schema.decodeUnknownResult(SettingVersion)

export class Settings extends Context.Service<Settings, SettingsShape>()("breakwater/Settings") {
  static readonly layer = Layer.effect(
    Settings,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const audit = yield* Audit
      const bus = yield* EventBus
      const permissions = yield* Permissions
      const inDatabase = Effect.provideService(SqlClient.SqlClient, sql)

      const declared = new Map<string, DeclaredSetting>()
      const current = new Map<string, Effective>()
      // The latest rows at start, for the keys the modules declare next.
      const loaded = new Map((yield* inDatabase(Store.latestAll)).map((row) => [row.key, row]))
      // Each stored version that no longer decodes is logged once.
      const warned = new Set<string>()
      const changed = yield* Effect.acquireRelease(PubSub.unbounded<SettingVersion>(), PubSub.shutdown)

      const noteFallback = (key: string, effective: Effective) => {
        const stored = effective.stored
        if (!effective.fallback || stored === undefined) return Effect.void
        const id = `${key}@${stored.version}`
        if (warned.has(id)) return Effect.void
        warned.add(id)
        return Effect.logWarning(
          `setting ${key}: version ${stored.version} no longer fits its schema (${effective.problem ?? "invalid"}); its default is in effect`
        )
      }

      /** Takes in a stored version newer than the one in effect; announces it locally. */
      const apply = (stored: SettingVersion) =>
        Effect.suspend(() => {
          const entry = declared.get(stored.key)
          if (entry === undefined) {
            const known = loaded.get(stored.key)
            if (known === undefined || known.version < stored.version) loaded.set(stored.key, stored)
            return Effect.void
          }
          const seen = current.get(stored.key)?.stored
          if (seen !== undefined && seen.version >= stored.version) return Effect.void
          const effective = effectiveOf(entry, stored)
          current.set(stored.key, effective)
          return Effect.andThen(noteFallback(stored.key, effective), PubSub.publish(changed, stored))
        })

      const declare = Effect.fn("Settings.declare")(function* (
        module: string,
        specs: ReadonlyArray<SettingSpec<unknown>>
      ) {
        const checked = checkDeclarations(module, specs, declared, permissions.isPermission)
        if (Result.isFailure(checked)) return yield* new SettingDeclarationError({ message: checked.failure })
        for (const entry of checked.success) {
          const effective = effectiveOf(entry, loaded.get(entry.spec.key))
          declared.set(entry.spec.key, entry)
          current.set(entry.spec.key, effective)
          loaded.delete(entry.spec.key)
          yield* noteFallback(entry.spec.key, effective)
        }
      })

      // No span: modules call it on their hot paths.
      const get = <A>(spec: SettingSpec<A>): Effect.Effect<A> =>
        Effect.sync(() => {
          const effective = current.get(spec.key)
          if (effective === undefined) return spec.default
          // Decoded with the caller's schema (the declared one): typed without a cast, and a spec
          // that does not match what was declared still gets a value of its own type.
          const decoded = decodeValue(spec.schema, effective.json)
          return Result.isSuccess(decoded) ? decoded.success : spec.default
        })

      const lookup = (key: string) =>
        Effect.suspend(() => {
          const entry = declared.get(key)
          return entry === undefined
            ? Effect.fail(new SettingNotFound({ message: `there is no setting ${key}`, key }))
            : Effect.succeed(entry)
        })

      const viewOf = (entry: DeclaredSetting): SettingView => {
        const effective = current.get(entry.spec.key) ?? effectiveOf(entry, undefined)
        const stored = effective.stored
        return {
          module: entry.module,
          key: entry.spec.key,
          description: entry.spec.description,
          unit: entry.spec.unit ?? null,
          permission: entry.spec.permission,
          default: entry.defaultJson,
          value: effective.json,
          version: stored?.version ?? 0,
          changedAt: stored?.changedAt ?? null,
          changedBy: stored?.changedBy ?? null,
          reason: stored?.reason ?? null,
          fallback: effective.fallback,
          schema: entry.jsonSchema
        }
      }

      const list = Effect.sync(() =>
        [...declared.values()].sort((a, b) => a.spec.key.localeCompare(b.spec.key)).map(viewOf)
      )

      const history = Effect.fn("Settings.history")(function* (key: string, options: HistoryOptions = {}) {
        yield* lookup(key)
        const limit = Math.min(MAX_HISTORY_LIMIT, Math.max(1, Math.trunc(options.limit ?? DEFAULT_HISTORY_LIMIT)))
        return yield* inDatabase(Store.history(key, limit, options.before))
      })

      /** Stores `json` as the key's next version with its audit entry, then applies and announces it. */
      const write = (
        entry: DeclaredSetting,
        json: unknown,
        actor: Actor,
        options: ChangeOptions,
        restoredFrom: number | undefined
      ) =>
        Effect.gen(function* () {
          const key = entry.spec.key
          const stored = yield* sql.withTransaction(
            Effect.gen(function* () {
              yield* Store.lockKey(key)
              const [latest] = yield* Store.latest([key])
              const currentVersion = latest?.version ?? 0
              if (options.expectedVersion !== undefined && options.expectedVersion !== currentVersion)
                return yield* new SettingVersionConflict({
                  message: `setting ${key} is at version ${currentVersion}, not ${options.expectedVersion}: reload it and try again`,
                  details: { key, expectedVersion: options.expectedVersion, currentVersion }
                })
              const row = yield* Store.insert({
                key,
                version: currentVersion + 1,
                value: json,
                changedBy: actor,
                reason: options.reason
              })
              yield* audit.recordInTransaction({
                actor,
                action: "setting.change",
                resourceType: "setting",
                resourceId: key,
                outcome: "success",
                reason: options.reason,
                details: {
                  key,
                  // What was in effect before: the latest value, or the default.
                  from: effectiveOf(entry, latest).json,
                  to: json,
                  version: row.version,
                  ...(restoredFrom === undefined ? {} : { restoredFrom })
                }
              })
              return row
            }).pipe(inDatabase)
          )
          yield* apply(stored)
          yield* bus.publish(settingsTopic.name, SETTING_CHANGED, stored, { replicate: true })
          return stored
        })

      const set = Effect.fn("Settings.set")(function* (
        key: string,
        value: unknown,
        actor: Actor,
        options: ChangeOptions = {}
      ) {
        const entry = yield* lookup(key)
        const decoded = decodeValue(entry.spec.schema, value)
        if (Result.isFailure(decoded)) return yield* invalid(key, decoded.failure)
        const json = toStoredJson(entry.spec.schema, decoded.success)
        if (Result.isFailure(json)) return yield* invalid(key, json.failure)
        return yield* write(entry, json.success, actor, options, undefined)
      })

      const restore = Effect.fn("Settings.restore")(function* (
        key: string,
        version: number,
        actor: Actor,
        options: ChangeOptions = {}
      ) {
        const entry = yield* lookup(key)
        const earlier = yield* inDatabase(Store.version(key, version))
        if (earlier === undefined)
          return yield* new SettingVersionNotFound({
            message: `setting ${key} has no version ${version}`,
            key,
            version
          })
        const decoded = decodeValue(entry.spec.schema, earlier.value)
        if (Result.isFailure(decoded)) return yield* invalid(key, decoded.failure, `version ${version}`)
        const json = toStoredJson(entry.spec.schema, decoded.success)
        if (Result.isFailure(json)) return yield* invalid(key, json.failure, `version ${version}`)
        return yield* write(
          entry,
          json.success,
          actor,
          { ...options, reason: options.reason ?? `restored version ${version}` },
          version
        )
      })

      const reload = Effect.gen(function* () {
        const rows = yield* inDatabase(Store.latest([...declared.keys()]))
        for (const row of rows) yield* apply(row)
      }).pipe(Effect.withSpan("Settings.reload"))

      const onEvent = (event: BusEvent) => {
        if (event.type !== SETTING_CHANGED) return Effect.void
        const announced = decodeAnnounced(event.data)
        // Our own replicas publish these: one that does not decode is a bug, not a reason to stop following.
        return Result.isSuccess(announced)
          ? apply(announced.success)
          : Effect.logWarning(`settings: an event ${event.id} on the bus does not decode: ${announced.failure.message}`)
      }

      const follow = (heartbeat: Effect.Effect<void>) =>
        Effect.scoped(
          Effect.gen(function* () {
            const subscription = yield* bus.subscribe([settingsTopic.name])
            // What changed before the subscription started is read from the database once.
            yield* reload
            yield* heartbeat
            yield* Stream.runForEach(subscription.live, (event) => Effect.andThen(onEvent(event), heartbeat))
          })
        )

      return Settings.of({
        declare,
        get,
        lookup,
        list,
        history,
        set,
        restore,
        changes: Stream.fromPubSub(changed),
        reload,
        follow
      })
    })
  )
}
