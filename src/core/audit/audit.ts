/**
 * The audit service. Entries of a change go in with the change (`recordInTransaction`, inside the
 * caller's transaction); standalone entries (logins, denials) go through a writer actor that
 * commits them in groups, and the caller resumes only once its entry is durable.
 */
import { Clock, Context, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { Metrics } from "../observability/metrics.ts"
import { RequestInfo } from "../request-info.ts"
import type { FiberSpec } from "../supervisor.ts"
import type { AuditEntryInput } from "./entry.ts"
import { makeGroupWriter, type Waiting } from "./group-writer.ts"
import { auditRowsJson, insertEntries } from "./store.ts"

export class AuditWriteFailed extends Schema.TaggedError<AuditWriteFailed>()("AuditWriteFailed", {
  message: Schema.String
}) {}

export interface AuditShape {
  /** Records a standalone entry; resumes once it is committed. */
  readonly record: (entry: AuditEntryInput) => Effect.Effect<void, AuditWriteFailed>
  /** Records an entry in the current transaction: it commits or rolls back with the change. */
  readonly recordInTransaction: (entry: AuditEntryInput) => Effect.Effect<void, SqlError.SqlError>
  /**
   * For a change that inserts its entry in its own statement (one round trip for the change and
   * its evidence): the row as the JSON parameter of `jsonb_to_recordset … AS AUDIT_RECORDSET`, and
   * what to run once that statement committed (the audit metrics).
   */
  readonly forStatement: (
    entry: AuditEntryInput
  ) => Effect.Effect<{ readonly rowsJson: string; readonly committed: Effect.Effect<void> }>
}

/** Most entries one statement carries; more wait for the next group. */
const MAX_GROUP = 2000
/** Groups in flight at most (measured: 4 beats 2 and 3 here, the commits' flushes overlap). */
const WRITERS = 4
/**
 * A second group starts while one is committing only once this many entries wait; smaller ones
 * wait for the commit. Measured: letting every free writer take what was there made groups of ~40
 * and capped the writer at ~30k entries/s (each commit's cost is mostly fixed); this gives 56-69k/s.
 */
const PARALLEL_FROM = 256

export class Audit extends Context.Service<Audit, AuditShape>()("breakwater/Audit") {
  /** The audit service and its writer, whose loops the `audit.writer` fiber runs. */
  static readonly layer = Layer.effectContext(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const metrics = yield* Metrics
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

      /** Counts a group's entries, one metric update per distinct label set. */
      const counted = (entries: ReadonlyArray<AuditEntryInput>) => {
        const byEvent = new Map<string, { event_type: string; outcome: string; n: number }>()
        const byAction = new Map<string, number>()
        for (const e of entries) {
          const key = `${e.action}\u0000${e.outcome}`
          const seen = byEvent.get(key)
          if (seen === undefined) byEvent.set(key, { event_type: e.action, outcome: e.outcome, n: 1 })
          else seen.n++
          if (e.outcome === "success" && (e.actor.type === "user" || e.actor.type === "api_key"))
            byAction.set(e.action, (byAction.get(e.action) ?? 0) + 1)
        }
        for (const { n, ...labels } of byEvent.values()) events.inc(labels, n)
        for (const [action, n] of byAction) adminActions.inc({ action }, n)
      }

      /** Fills in the request's address and id when the caller did not. */
      const withRequest = (entry: AuditEntryInput) =>
        Effect.withFiber((fiber) => {
          const info = fiber.getRef(RequestInfo)
          if (info.requestId === "none" || (entry.clientAddress !== undefined && entry.requestId !== undefined))
            return Effect.succeed(entry)
          return Effect.succeed<AuditEntryInput>({
            ...entry,
            clientAddress: entry.clientAddress ?? info.clientAddress,
            requestId: entry.requestId ?? info.requestId
          })
        })

      const writeGroup = (group: ReadonlyArray<Waiting>) =>
        Effect.gen(function* () {
          const entries = group.map((w) => w.entry)
          const result = yield* Effect.exit(
            insertEntries(entries).pipe(Effect.provideService(SqlClient.SqlClient, sql))
          )
          if (result._tag === "Failure") {
            failures.inc({ reason: "database" }, group.length)
            yield* Effect.logError(`audit group of ${group.length} entries could not be written`, result.cause)
            return false
          }
          counted(entries)
          const now = performance.now()
          for (const w of group) latency.observe((now - w.enqueuedAt) / 1000)
          return true
        })

      const writer = makeGroupWriter(MAX_GROUP, writeGroup, PARALLEL_FROM)
      // On shutdown, write what is still waiting before the pool closes.
      yield* Effect.addFinalizer(() => writer.drain)

      const audit = Audit.of({
        record: (entry) =>
          Effect.flatMap(withRequest(entry), writer.submit).pipe(
            Effect.catchTag("GroupWriteFailed", () =>
              Effect.fail(new AuditWriteFailed({ message: "the audit log could not be written" }))
            )
          ),
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
          }),
        forStatement: (entry) =>
          Effect.gen(function* () {
            const start = yield* Clock.currentTimeMillis
            const complete = yield* withRequest(entry)
            return {
              rowsJson: auditRowsJson([complete]),
              committed: Effect.flatMap(Clock.currentTimeMillis, (end) =>
                Effect.sync(() => {
                  counted([complete])
                  latency.observe((end - start) / 1000)
                })
              )
            }
          })
      })
      const loops: AuditWriterShape = {
        run: (heartbeat) =>
          Effect.all(
            Array.from({ length: WRITERS }, () => writer.loop(heartbeat)),
            { concurrency: "unbounded", discard: true }
          )
      }
      return Context.make(Audit, audit).pipe(Context.add(AuditWriter, loops))
    })
  )
}

interface AuditWriterShape {
  readonly run: (heartbeat: Effect.Effect<void>) => Effect.Effect<void, unknown>
}

/** The writer loops of `Audit.record`, for the fiber that runs them (and only for it). */
export class AuditWriter extends Context.Service<AuditWriter, AuditWriterShape>()("breakwater/AuditWriter") {}

/**
 * Writes the entries `record` queues, in groups. Essential: a CLI command that records an entry
 * waits for it, so this fiber runs wherever the audit service does.
 */
export const auditWriterFiber: FiberSpec<AuditWriter> = {
  name: "audit.writer",
  // Each: it drains this process's in-memory queue of `Audit.record`.
  replicas: "each",
  essential: true,
  run: (heartbeat) => Effect.flatMap(AuditWriter, (writer) => writer.run(heartbeat))
}
