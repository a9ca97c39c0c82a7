/**
 * The audit service. Entries of a change go in with the change (`recordInTransaction`, inside the
 * caller's transaction); standalone entries (logins, denials) go through a writer actor that
 * commits them in groups, and the caller resumes only once its entry is durable.
 */
import { Clock, Context, Deferred, Effect, Layer, Queue, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { RequestInfo } from "../http/request-info.ts"
import { Metrics } from "../observability/metrics.ts"
import { Supervisor } from "../supervisor.ts"
import type { AuditEntryInput } from "./entry.ts"
import { insertEntries } from "./store.ts"

export class AuditWriteFailed extends Schema.TaggedError<AuditWriteFailed>()("AuditWriteFailed", {
  message: Schema.String
}) {}

export interface AuditShape {
  /** Records a standalone entry; resumes once it is committed. */
  readonly record: (entry: AuditEntryInput) => Effect.Effect<void, AuditWriteFailed>
  /** Records an entry in the current transaction: it commits or rolls back with the change. */
  readonly recordInTransaction: (entry: AuditEntryInput) => Effect.Effect<void, SqlError.SqlError>
}

interface Pending {
  readonly entry: AuditEntryInput
  readonly done: Deferred.Deferred<void, AuditWriteFailed>
  readonly enqueuedAt: number
}

/** Most entries one statement carries; more wait for the next group. */
const MAX_GROUP = 2000
/** Groups in flight at once: one commits while the next fills. */
const WRITERS = 3

export class Audit extends Context.Service<Audit, AuditShape>()("breakwater/Audit") {
  static readonly layer = Layer.effect(
    Audit,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const metrics = yield* Metrics
      const supervisor = yield* Supervisor
      const latency = metrics.histogram({
        name: "audit_write_latency_seconds",
        help: "Time from recording an audit entry to its commit.",
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1]
      })
      const events = metrics.counter({
        name: "audit_events_total",
        help: "Audit entries committed, by action and outcome.",
        labelNames: ["event_type", "outcome"]
      })
      const failures = metrics.counter({
        name: "audit_write_failures_total",
        help: "Audit entries that could not be written, by reason.",
        labelNames: ["reason"]
      })
      const adminActions = metrics.counter({
        name: "admin_action_total",
        help: "Changes made by operators and API keys, by action.",
        labelNames: ["action"]
      })

      const counted = (entries: ReadonlyArray<AuditEntryInput>) => {
        for (const e of entries) {
          events.inc({ event_type: e.action, outcome: e.outcome })
          if (e.outcome === "success" && (e.actor.type === "user" || e.actor.type === "api_key"))
            adminActions.inc({ action: e.action })
        }
      }

      /** Fills in the request's address and id when the caller did not. */
      const withRequest = (entry: AuditEntryInput) =>
        Effect.gen(function* () {
          const info = yield* RequestInfo
          const inRequest = info.requestId !== "none"
          const complete: AuditEntryInput = {
            ...entry,
            clientAddress: entry.clientAddress ?? (inRequest ? info.clientAddress : undefined),
            requestId: entry.requestId ?? (inRequest ? info.requestId : undefined)
          }
          return complete
        })

      const queue = yield* Queue.unbounded<Pending>()

      const writeGroup = (group: ReadonlyArray<Pending>) =>
        Effect.gen(function* () {
          const result = yield* Effect.exit(
            insertEntries(group.map((p) => p.entry)).pipe(Effect.provideService(SqlClient.SqlClient, sql))
          )
          const now = yield* Clock.currentTimeMillis
          if (result._tag === "Success") {
            counted(group.map((p) => p.entry))
            for (const p of group) {
              latency.observe((now - p.enqueuedAt) / 1000)
              yield* Deferred.succeed(p.done, undefined)
            }
          } else {
            failures.inc({ reason: "database" }, group.length)
            yield* Effect.logError(`audit group of ${group.length} entries could not be written`, result.cause)
            const error = new AuditWriteFailed({ message: "the audit log could not be written" })
            for (const p of group) yield* Deferred.fail(p.done, error)
          }
        })

      const writer = (heartbeat: Effect.Effect<void>) =>
        Queue.takeBetween(queue, 1, MAX_GROUP).pipe(
          Effect.flatMap(writeGroup),
          Effect.andThen(heartbeat),
          Effect.forever
        )

      yield* supervisor.start({
        name: "audit.writer",
        run: (heartbeat) =>
          Effect.asVoid(
            Effect.all(
              Array.from({ length: WRITERS }, () => writer(heartbeat)),
              { concurrency: "unbounded" }
            )
          )
      })
      // On shutdown, write what is still queued before the pool closes.
      yield* Effect.addFinalizer(() =>
        Effect.flatMap(Queue.clear(queue), (rest) => (rest.length === 0 ? Effect.void : writeGroup(rest)))
      )

      return Audit.of({
        record: (entry) =>
          Effect.gen(function* () {
            const done = yield* Deferred.make<void, AuditWriteFailed>()
            const enqueuedAt = yield* Clock.currentTimeMillis
            yield* Queue.offer(queue, { entry: yield* withRequest(entry), done, enqueuedAt })
            yield* Deferred.await(done)
          }),
        recordInTransaction: (entry) =>
          Effect.gen(function* () {
            const start = yield* Clock.currentTimeMillis
            const complete = yield* withRequest(entry)
            yield* insertEntries([complete]).pipe(
              Effect.provideService(SqlClient.SqlClient, sql),
              Effect.tapError(() => Effect.sync(() => failures.inc({ reason: "database" })))
            )
            // Counted once committed: if the caller's transaction rolls back, the change did not happen.
            yield* sql.afterCommit(Effect.sync(() => counted([complete])))
            latency.observe(((yield* Clock.currentTimeMillis) - start) / 1000)
          })
      })
    })
  )
}
