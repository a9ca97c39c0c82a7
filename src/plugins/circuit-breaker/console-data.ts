/**
 * What the breaker's console shows, read for the current principal: the breaker page's panel
 * (every scope, recent history, pending approvals, settings, which forms to offer) and the
 * dashboard's summary. The page shows what it has rather than wait long for a secondary read.
 */
import { Clock, Effect } from "effect"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import { REAUTH_WINDOW_MINUTES } from "../../core/auth/reauth.ts"
import type { BreakerView } from "../../core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import type { BreakerPanelData, FormProblem } from "./page.ts"
import type { BreakerSummaryData } from "./views/summary.ts"

/** Rows of the history table: the newest transitions of all scopes together. */
const HISTORY_ROWS = 20
/** The page shows what it has rather than wait long for history or approvals. */
const SECONDARY_READ_TIMEOUT = "3 seconds"

const messageOf = (error: { readonly _tag: string }): string =>
  error._tag === "TimeoutError"
    ? `no answer within ${SECONDARY_READ_TIMEOUT}`
    : "message" in error && typeof error.message === "string"
      ? error.message
      : error._tag

/** A secondary read (history, approvals, settings): its value, or why the page goes without it. */
const orUnavailable = <A, E extends { readonly _tag: string }>(read: Effect.Effect<A, E>) =>
  read.pipe(
    Effect.timeout(SECONDARY_READ_TIMEOUT),
    Effect.map((value) => ({ value, error: undefined })),
    Effect.catch((error) => Effect.succeed({ value: undefined, error: messageOf(error) }))
  )

const recentHistory = (breaker: CircuitBreaker["Service"], scopes: ReadonlyArray<BreakerView>) =>
  Effect.forEach(
    scopes,
    (v) =>
      breaker
        .history(v.scope, { limit: HISTORY_ROWS })
        .pipe(Effect.catchTag("ScopeNotFound", () => Effect.succeed([]))),
    { concurrency: 4 }
  ).pipe(
    Effect.map((lists) =>
      lists
        .flat()
        .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
        .slice(0, HISTORY_ROWS)
    )
  )

export const panelData = (problem?: FormProblem) =>
  Effect.gen(function* () {
    const breaker = yield* CircuitBreaker
    const principal = yield* CurrentPrincipal
    const now = yield* Clock.currentTimeMillis
    const scopes = yield* breaker.list
    const [history, pending, settings] = yield* Effect.all(
      [
        orUnavailable(recentHistory(breaker, scopes)),
        orUnavailable(breaker.pendingApprovals()),
        orUnavailable(breaker.settings)
      ],
      { concurrency: "unbounded" }
    )
    const session = principal.session
    const data: BreakerPanelData = {
      canCreateScope: principal.permissions.has("MANAGE_SYSTEM_CONFIG"),
      scopes,
      history: history.value ?? [],
      historyError: history.error,
      pending: pending.value ?? [],
      pendingError: pending.error,
      settings: settings.value,
      canTrip: principal.permissions.has("TRIP_CIRCUIT_BREAKER"),
      canReset: principal.permissions.has("RESET_CIRCUIT_BREAKER"),
      passwordNeeded:
        session !== undefined && now - session.authenticatedAt.getTime() >= REAUTH_WINDOW_MINUTES * 60_000,
      csrfToken: session?.csrfToken ?? "",
      personId: principal.person ?? principal.id,
      now,
      problem
    }
    return data
  })

/** The dashboard's summary of every scope (views/summary.ts). */
export const summaryData = (problem?: FormProblem) =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    const data: BreakerSummaryData = {
      scopes: yield* (yield* CircuitBreaker).list,
      canTrip: principal.permissions.has("TRIP_CIRCUIT_BREAKER"),
      csrfToken: principal.session?.csrfToken ?? "",
      now: yield* Clock.currentTimeMillis,
      problem
    }
    return data
  })
