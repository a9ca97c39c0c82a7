/**
 * The circuit breaker contract (ARCHITECTURE.md §5): the one place that reads and changes breaker
 * state. The circuit-breaker module provides it; other modules (alert rules trip it) require it.
 * Reads never fail: a state that cannot be read is `UNKNOWN` (fail closed).
 */
import { Context, type Effect, type Stream } from "effect"
import type { Actor } from "../../audit/entry.ts"
import type {
  ApprovalClosed,
  ApprovalNotFound,
  ApprovalRefused,
  NotTripped,
  ResetRateLimited,
  ScopeExists,
  ScopeNotFound,
  StoresUnhealthy,
  VersionConflict
} from "./errors.ts"
import type {
  BreakerChange,
  BreakerRecord,
  BreakerSettings,
  BreakerView,
  ResetRequest,
  Transition,
  TripSource
} from "./model.ts"

export interface TripInput {
  readonly scope: string
  /** Checked by the caller for manual trips (≥ 20 characters); automatic trips name their rule. */
  readonly reason: string
  readonly details?: Readonly<Record<string, unknown>>
  readonly source: TripSource
  readonly actor: Actor
}

export interface TripOutcome {
  /** The state after the trip, as stored (or, when PostgreSQL was down, as published). */
  readonly record: BreakerRecord
  /** False when the breaker was already tripped: the reason was recorded, `tripped_at` kept. */
  readonly changed: boolean
  /** Committed to PostgreSQL; false means it is published and waits to be reconciled. */
  readonly persisted: boolean
  /** Published to Redis (always true without Redis: the in-process copy). */
  readonly published: boolean
}

export interface ResetInput {
  readonly scope: string
  readonly reason: string
  readonly actor: Actor
  /** Optional compare-and-set from the client; without it the version read just before is used. */
  readonly expectedVersion?: number
}

export type ResetOutcome =
  | { readonly kind: "reset"; readonly record: BreakerRecord }
  | { readonly kind: "approval_requested"; readonly request: ResetRequest }

export interface ApproveInput {
  readonly scope: string
  readonly requestId: string
  readonly actor: Actor
}

/** What one verifier pass found (for the fiber's log and the tests). */
export interface VerificationReport {
  readonly truthRead: boolean
  readonly publishedChecked: boolean
  /** Scopes whose published copy differed from the truth and was rewritten. */
  readonly repaired: ReadonlyArray<string>
  /** Trips accepted while PostgreSQL was down and written to it in this pass. */
  readonly reconciled: number
  /** Scopes whose quiet period ended in this pass. */
  readonly opened: ReadonlyArray<string>
}

export type ResetError =
  | ScopeNotFound
  | NotTripped
  | VersionConflict
  | ResetRateLimited
  | StoresUnhealthy
  /** With two approvals required, the request names no person (a system actor). */
  | ApprovalRefused

export interface CircuitBreakerShape {
  /** Every scope, `global` first; each `UNKNOWN` when it cannot be read. */
  readonly list: Effect.Effect<ReadonlyArray<BreakerView>>
  /**
   * The reading of a scope this process knows, synchronously, for the HTTP fast lane (the same
   * view object until something changes); `undefined` for a scope it does not know.
   */
  readonly readNow: (scope: string) => BreakerView | undefined
  /** One scope; `UNKNOWN` when it cannot be read (never fails for that). */
  readonly read: (scope: string) => Effect.Effect<BreakerView, ScopeNotFound>
  /** Always accepted for an existing scope; idempotent on a tripped one. */
  readonly trip: (input: TripInput) => Effect.Effect<TripOutcome, ScopeNotFound | StoresUnhealthy>
  /** A reset, or a reset request when two approvals are required. */
  readonly reset: (input: ResetInput) => Effect.Effect<ResetOutcome, ResetError>
  /** A different operator approves a pending reset request. */
  readonly approve: (
    input: ApproveInput
  ) => Effect.Effect<ResetOutcome, ResetError | ApprovalRefused | ApprovalNotFound | ApprovalClosed>
  /** Pending reset requests (all scopes when none is given). */
  readonly pendingApprovals: (scope?: string) => Effect.Effect<ReadonlyArray<ResetRequest>, StoresUnhealthy>
  /** Newest first; `before` is a transition id for the next page. */
  readonly history: (
    scope: string,
    page: { readonly limit: number; readonly before?: string }
  ) => Effect.Effect<ReadonlyArray<Transition>, ScopeNotFound | StoresUnhealthy>
  /** A new named scope, OPEN. */
  readonly createScope: (scope: string, actor: Actor) => Effect.Effect<BreakerRecord, ScopeExists | StoresUnhealthy>
  readonly settings: Effect.Effect<BreakerSettings, StoresUnhealthy>
  readonly updateSettings: (
    settings: Partial<BreakerSettings>,
    actor: Actor
  ) => Effect.Effect<BreakerSettings, StoresUnhealthy>
  /** Changes from now on, made here or by another replica (through the change channel). */
  readonly changes: Stream.Stream<BreakerChange>
  /** One verifier pass: read the truth, repair the published copy, reconcile, end quiet periods. */
  readonly verifyOnce: Effect.Effect<VerificationReport>
}

export class CircuitBreaker extends Context.Service<CircuitBreaker, CircuitBreakerShape>()(
  "breakwater/CircuitBreaker"
) {
  /** The module that provides it (for the message when none is installed). */
  static readonly providedBy = "circuit-breaker"
}
