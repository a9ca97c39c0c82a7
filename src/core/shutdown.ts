/**
 * "The process is shutting down", as a signal long-lived responses (server-sent event streams)
 * wait on. It opens before the HTTP server drains its in-flight requests, so open streams end at
 * once instead of holding the drain for the whole grace period.
 */
import { Context, Deferred, Effect, Layer } from "effect"

export interface ShutdownShape {
  /** Completes when shutdown begins. */
  readonly started: Effect.Effect<void>
  readonly begin: Effect.Effect<void>
}

export class Shutdown extends Context.Service<Shutdown, ShutdownShape>()("breakwater/Shutdown") {
  static readonly layer = Layer.effect(
    Shutdown,
    Effect.map(Deferred.make<void>(), (signal) => ({
      started: Deferred.await(signal),
      begin: Effect.asVoid(Deferred.succeed(signal, undefined))
    }))
  )

  /**
   * Built after the HTTP server, so released before it: opens the signal first when the
   * application's scope closes.
   */
  static readonly beginOnRelease = Layer.effectDiscard(
    Effect.flatMap(Shutdown, (shutdown) => Effect.addFinalizer(() => shutdown.begin))
  )
}
