/**
 * Leases in PostgreSQL (`fiber_leases`, ADR 0022): how a fiber declared `replicas: "one"` runs in
 * one replica at a time. A lease is a row naming its holder and when it expires, by the database's
 * clock. Taking one is one atomic statement (insert, or take over a row that expired or is already
 * ours); the holder renews it every {@link LeaseTiming.renewEvery}; a replica without it tries
 * again every {@link LeaseTiming.retryEvery}, so it takes over within the TTL and a retry of a
 * holder that died or stopped (whose finalizer deleted the row: then at once).
 *
 * {@link LeasesShape.hold} runs an effect while holding the lease and interrupts it, failing with
 * {@link LeaseLost}, as soon as the lease is no longer certainly ours: a renewal finds another
 * holder (or no row), or no renewal has succeeded for `ttl − renewEvery` (the database is out of
 * reach), which leaves `renewEvery` for the effect to stop before the lease can pass to another
 * replica. That margin is the only time-based assumption: a process frozen longer than it (a
 * stopped VM, a debugger) may wake up still running the effect after another took over, so work
 * that must never overlap keeps its own lock too (retention keeps its run lock).
 *
 * The supervisor builds this service for its "one" fibers (`core/supervisor.ts`); a fiber never
 * touches its lease itself.
 */
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { Clock, Context, Duration, Effect, Layer, Option, Schedule, Schema } from "effect"
import { SqlClient, type SqlError, SqlSchema } from "effect/sql"
import { sqlErrorDetail } from "../db/sql-error.ts"

export interface LeaseTiming {
  /** How long a lease lasts after it was taken or renewed, by the database's clock. */
  readonly ttl: Duration.Duration
  /** How often the holder renews it; the holder stops `renewEvery` before it could expire. */
  readonly renewEvery: Duration.Duration
  /** How often a replica that does not hold it tries to take it. */
  readonly retryEvery: Duration.Duration
}

/**
 * Constants, not settings: every replica must agree on them, and a change needs thought about the
 * margins, not an edit in the console. 15 s to take over a dead holder's fiber is well inside what
 * retention (and the later rollups and rule evaluation) can wait.
 */
export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  ttl: Duration.seconds(15),
  renewEvery: Duration.seconds(5),
  retryEvery: Duration.seconds(5)
}

/** Who holds a lease: the host, the process id and a random suffix (two supervisors of one process differ). */
export const makeHolderId = (): string => `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`

/** The database could not be asked (no connection, an error, no answer in time). */
export class LeaseUnavailable extends Schema.TaggedError<LeaseUnavailable>()("LeaseUnavailable", {
  lease: Schema.String,
  message: Schema.String
}) {}

/** Another replica holds the lease (`holder`, when the database said who). */
export class LeaseHeld extends Schema.TaggedError<LeaseHeld>()("LeaseHeld", {
  lease: Schema.String,
  holder: Schema.UndefinedOr(Schema.String),
  expiresAt: Schema.UndefinedOr(Schema.Date)
}) {
  override get message(): string {
    const who = this.holder === undefined ? "another replica" : this.holder
    const until = this.expiresAt === undefined ? "" : ` until ${this.expiresAt.toISOString()} unless renewed`
    return `lease ${this.lease} is held by ${who}${until}`
  }
}

/** The lease was ours and no longer is (or may not be): what held it was interrupted. */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  lease: Schema.String,
  message: Schema.String
}) {}

/** A lease this process holds, and when (its clock) the request that took or renewed it was sent. */
export interface LeaseGrant {
  readonly lease: string
  readonly expiresAt: Date
  readonly confirmedAt: number
}

/** A live lease, as the database has it. */
export interface LeaseRow {
  readonly holder: string
  readonly acquiredAt: Date
  readonly expiresAt: Date
}

export interface LeasesShape {
  /** The holder id this process writes (`host:pid:random`). */
  readonly holder: string
  readonly timing: LeaseTiming
  /** One atomic attempt: takes `lease` when nobody holds it, it expired, or it is already ours (extended). */
  readonly tryAcquire: (lease: string) => Effect.Effect<LeaseGrant, LeaseHeld | LeaseUnavailable>
  /** Extends our lease; `false` when it is not ours any more (another holder took it, or its row is gone). */
  readonly renew: (lease: string) => Effect.Effect<boolean, LeaseUnavailable>
  /** Gives our lease up (deletes its row if we hold it), so another replica takes it at its next try. */
  readonly release: (lease: string) => Effect.Effect<void, LeaseUnavailable>
  /** Who holds `lease` now, if anybody does (an expired row counts as nobody). */
  readonly current: (lease: string) => Effect.Effect<Option.Option<LeaseRow>, LeaseUnavailable>
  /**
   * Stands by until this process holds `lease`: tries every `retryEvery` for as long as it takes.
   * `onRefused` sees every refusal (another holder, or the database out of reach).
   */
  readonly acquire: (
    lease: string,
    onRefused?: (refusal: LeaseHeld | LeaseUnavailable) => Effect.Effect<void>
  ) => Effect.Effect<LeaseGrant, LeaseHeld | LeaseUnavailable>
  /**
   * Runs `effect` under `grant`, renewing it, and gives the lease up when `effect` ends, fails or
   * is interrupted. Interrupts `effect` and fails with {@link LeaseLost} when the lease is lost
   * (see the module header).
   */
  readonly hold: <A, E, R>(grant: LeaseGrant, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | LeaseLost, R>
}

const ClaimRow = Schema.Struct({
  holder: Schema.String,
  expires_at: Schema.Date,
  ours: Schema.Boolean
})
const ExpiryRow = Schema.Struct({ expires_at: Schema.Date })
const CurrentRow = Schema.Struct({ holder: Schema.String, acquired_at: Schema.Date, expires_at: Schema.Date })

export class Leases extends Context.Service<Leases, LeasesShape>()("breakwater/Leases") {
  static readonly make = (options: { readonly holder?: string; readonly timing?: Partial<LeaseTiming> } = {}) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const holder = options.holder ?? makeHolderId()
      const timing: LeaseTiming = { ...DEFAULT_LEASE_TIMING, ...options.timing }
      const ttlMs = Duration.toMillis(timing.ttl)
      const stepDownAfterMs = ttlMs - Duration.toMillis(timing.renewEvery)
      if (stepDownAfterMs <= 0) return yield* Effect.die(new Error("lease timing: renewEvery must be shorter than ttl"))

      /**
       * Bounds a statement to `renewEvery` and turns what can go wrong into `LeaseUnavailable`.
       * A malformed row is a bug, a defect. A statement cut short may still have taken effect:
       * that only ever errs on the safe side (a lease we do not count as ours expires by itself).
       */
      const guarded =
        (lease: string) =>
        <A>(query: Effect.Effect<A, SqlError.SqlError | Schema.SchemaError>): Effect.Effect<A, LeaseUnavailable> =>
          query.pipe(
            Effect.catchTag("SchemaError", Effect.die),
            Effect.mapError(
              (error) => new LeaseUnavailable({ lease, message: `the database failed: ${sqlErrorDetail(error)}` })
            ),
            Effect.timeoutOrElse({
              duration: timing.renewEvery,
              orElse: () =>
                Effect.fail(
                  new LeaseUnavailable({
                    lease,
                    message: `the database did not answer within ${Duration.format(timing.renewEvery)}`
                  })
                )
            })
          )

      // The claim, and (when it was refused) who holds the row instead; the second SELECT reads the
      // statement's snapshot, so a holder that committed a moment ago may show as unknown.
      const claim = SqlSchema.findAll({
        Request: Schema.String,
        Result: ClaimRow,
        execute: (lease) => sql`WITH claimed AS (
            INSERT INTO fiber_leases AS l (name, holder, acquired_at, expires_at)
            VALUES (${lease}, ${holder}, now(), now() + ${ttlMs}::int * interval '1 millisecond')
            ON CONFLICT (name) DO UPDATE SET
              holder = excluded.holder,
              acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE excluded.acquired_at END,
              expires_at = excluded.expires_at
            WHERE l.holder = excluded.holder OR l.expires_at <= now()
            RETURNING holder, expires_at
          )
          SELECT holder, expires_at, true AS ours FROM claimed
          UNION ALL
          SELECT holder, expires_at, false AS ours FROM fiber_leases
          WHERE name = ${lease} AND NOT EXISTS (SELECT 1 FROM claimed)`
      })
      const extend = SqlSchema.findOneOption({
        Request: Schema.String,
        Result: ExpiryRow,
        execute: (lease) => sql`UPDATE fiber_leases
          SET expires_at = now() + ${ttlMs}::int * interval '1 millisecond'
          WHERE name = ${lease} AND holder = ${holder}
          RETURNING expires_at`
      })
      const live = SqlSchema.findOneOption({
        Request: Schema.String,
        Result: CurrentRow,
        execute: (lease) =>
          sql`SELECT holder, acquired_at, expires_at FROM fiber_leases WHERE name = ${lease} AND expires_at > now()`
      })

      const tryAcquire = Effect.fn("Leases.tryAcquire")(function* (lease: string) {
        yield* Effect.annotateCurrentSpan({ lease, holder })
        const confirmedAt = yield* Clock.currentTimeMillis
        const [row] = yield* guarded(lease)(claim(lease))
        if (row?.ours === true) return { lease, expiresAt: row.expires_at, confirmedAt } satisfies LeaseGrant
        return yield* new LeaseHeld({ lease, holder: row?.holder, expiresAt: row?.expires_at })
      })

      const renew = Effect.fn("Leases.renew")(function* (lease: string) {
        yield* Effect.annotateCurrentSpan({ lease, holder })
        return Option.isSome(yield* guarded(lease)(extend(lease)))
      })

      const release = Effect.fn("Leases.release")(function* (lease: string) {
        yield* Effect.annotateCurrentSpan({ lease, holder })
        yield* guarded(lease)(sql`DELETE FROM fiber_leases WHERE name = ${lease} AND holder = ${holder}`)
      })

      const current = Effect.fn("Leases.current")(function* (lease: string) {
        const row = yield* guarded(lease)(live(lease))
        return Option.map(
          row,
          (r): LeaseRow => ({ holder: r.holder, acquiredAt: r.acquired_at, expiresAt: r.expires_at })
        )
      })

      const acquire: LeasesShape["acquire"] = (lease, onRefused = () => Effect.void) =>
        tryAcquire(lease).pipe(Effect.tapError(onRefused), Effect.retry(Schedule.spaced(timing.retryEvery)))

      const hold = <A, E, R>(grant: LeaseGrant, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | LeaseLost, R> =>
        Effect.suspend(() => {
          const lease = grant.lease
          let confirmedAt = grant.confirmedAt
          let unreachable = false

          const renewOnce = Effect.gen(function* () {
            const sentAt = yield* Clock.currentTimeMillis
            const result = yield* Effect.result(renew(lease))
            if (result._tag === "Failure") {
              if (unreachable) return
              unreachable = true
              return yield* Effect.logWarning(
                `lease ${lease} could not be renewed (${result.failure.message}); retrying, and stopping its fiber if it cannot be renewed in time`
              )
            }
            if (!result.success)
              return yield* new LeaseLost({
                lease,
                message: `lease ${lease} is no longer ours (another replica took it, or its row was removed)`
              })
            confirmedAt = sentAt
            if (unreachable) {
              unreachable = false
              yield* Effect.logInfo(`lease ${lease} renewed again`)
            }
          })
          const renewing = Effect.sleep(timing.renewEvery).pipe(Effect.andThen(renewOnce), Effect.forever)

          // Stops the effect once the last confirmed renewal is `ttl − renewEvery` old.
          const watchdog = Effect.gen(function* () {
            while (true) {
              const now = yield* Clock.currentTimeMillis
              const due = confirmedAt + stepDownAfterMs
              if (now >= due)
                return yield* new LeaseLost({
                  lease,
                  message: `lease ${lease} could not be renewed for ${Duration.format(Duration.millis(now - confirmedAt))}: stopped before it could expire`
                })
              yield* Effect.sleep(Duration.millis(due - now))
            }
          })

          // Runs as a finalizer (uninterruptible); the statement's time bound still holds, as the
          // bound races it in a fiber of its own.
          const giveUp = release(lease).pipe(
            Effect.catch((error) =>
              Effect.logWarning(`lease ${lease} could not be released (${error.message}); it expires by itself`)
            )
          )
          return Effect.raceFirst(effect, Effect.raceFirst(renewing, watchdog)).pipe(Effect.ensuring(giveUp))
        })

      return Leases.of({ holder, timing, tryAcquire, renew, release, current, acquire, hold })
    })

  static readonly layer = (options: { readonly holder?: string; readonly timing?: Partial<LeaseTiming> } = {}) =>
    Layer.effect(Leases, Leases.make(options))
}
