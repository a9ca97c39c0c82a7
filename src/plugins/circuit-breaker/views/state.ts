/**
 * A breaker scope's state as an operator must read it: large, in words and in colour, halted
 * unless the effective state positively allows trading (fail closed). The Circuit Breaker page and
 * the dashboard show the same box. It also holds what it says when the page's live connection has
 * been lost for longer than the staleness limit — `UNKNOWN — treat as halted` — which the
 * stylesheet shows instead of the last state received while `<html data-live="stale">`
 * (public/app.js sets it): a page that cannot confirm the state never shows a frozen green banner.
 */

import { formatDuration, formatTimestamp } from "../../../../views/format.ts"
import { type Html, html } from "../../../../views/html.ts"
import type { BreakerView } from "../../../core/contracts/circuit-breaker/model.ts"

export type BreakerTone = "open" | "quiet" | "tripped" | "unknown"

export interface BreakerReading {
  readonly tone: BreakerTone
  /** The large line: `TRADING HALTED`, `TRADING ALLOWED` or `QUIET PERIOD`. */
  readonly headline: string
  /** The state word shown under it: `OPEN`, `TRIPPED`, `QUIET_PERIOD`, `UNKNOWN`. */
  readonly label: string
  /** Whether trading is allowed: only for an effective `OPEN` or `QUIET_PERIOD`. */
  readonly tradingAllowed: boolean
  /** A line under the headline saying in words whether trading is allowed, when the headline does not. */
  readonly trading: Html | undefined
  readonly note: Html | undefined
}

/** What a display shows while it cannot confirm the state. */
export const STALE_HEADLINE = "UNKNOWN — treat as halted"

/** A timestamp in UTC, machine-readable too. */
export const timeOf = (iso: string | null): Html => {
  if (iso === null) return html`—`
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? html`${iso}` : html`<time datetime="${iso}">${formatTimestamp(date)}</time>`
}

/**
 * Time left until `untilMs`, counting down in the browser (public/app.js): the element carries the
 * milliseconds left when it was rendered, so the browser's clock need not agree with the server's.
 * `around` puts words around the figure inside the element, e.g. `["(in ", ")"]`.
 */
export const countdown = (untilMs: number, now: number, around: readonly [string, string] = ["", ""]): Html => {
  const left = Math.max(0, untilMs - now)
  const [before, after] = around
  return html`<time datetime="${new Date(untilMs).toISOString()}" data-countdown="${Math.round(left)}"${before === "" ? "" : html` data-before="${before}"`}${after === "" ? "" : html` data-after="${after}"`}>${before}${formatDuration(left / 1000)}${after}</time>`
}

const parsed = (iso: string | null): number | undefined => {
  if (iso === null) return undefined
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : ms
}

/** The reading of one scope: what the operator must believe. */
export const breakerReading = (v: BreakerView, now: number): BreakerReading => {
  if (v.state === "UNKNOWN" || v.effective_state === "UNKNOWN")
    return {
      tone: "unknown",
      headline: "TRADING HALTED",
      label: "UNKNOWN",
      tradingAllowed: false,
      trading: undefined,
      note: html`<strong>State unknown — treat as tripped.</strong>`
    }
  const haltedElsewhere = v.halted_by !== null && v.halted_by !== v.scope
  if (v.effective_state === "TRIPPED" || v.state === "TRIPPED" || !v.trading_allowed)
    return {
      tone: "tripped",
      headline: "TRADING HALTED",
      label: v.effective_state,
      tradingAllowed: false,
      trading: undefined,
      note: haltedElsewhere
        ? html`Halted by the <strong>${v.halted_by}</strong> breaker: while global is tripped every scope is halted.
This scope's own state is <code>${v.state}</code>.`
        : undefined
    }
  if (v.effective_state === "QUIET_PERIOD") {
    const until = parsed(v.quiet_until)
    const left = until === undefined ? "" : html` ${countdown(until, now, ["(in ", ")"])}`
    return {
      tone: "quiet",
      headline: "QUIET PERIOD",
      label: "QUIET_PERIOD",
      tradingAllowed: true,
      trading: html`Trading allowed${until === undefined ? "" : html` · fully OPEN in ${countdown(until, now)}`}`,
      note: html`A reset was made recently. The quiet period ends at <span data-field="quiet-until">${timeOf(v.quiet_until)}</span>${left}, then <code>OPEN</code>; a new trip ends it at once.`
    }
  }
  return {
    tone: "open",
    headline: "TRADING ALLOWED",
    label: "OPEN",
    tradingAllowed: true,
    trading: undefined,
    note: undefined
  }
}

/**
 * The box: headline, the words on trading, the state and a note; the part shown while the state
 * cannot be confirmed is hidden until then. A polite live region: a change is read out.
 */
export const breakerStateBox = (v: BreakerView, now: number): Html => {
  const r = breakerReading(v, now)
  return html`<div class="breaker-state" role="status" aria-live="polite" aria-atomic="true" aria-label="${v.scope} breaker state">
<p class="breaker-headline" data-field="headline" data-when="fresh">${r.headline}</p>
${r.trading === undefined ? "" : html`<p class="breaker-trading" data-field="trading" data-when="fresh">${r.trading}</p>`}
<p class="breaker-state-name" data-when="fresh">State: <strong data-field="state">${r.label}</strong></p>
${r.note === undefined ? "" : html`<p class="breaker-note" data-field="note" data-when="fresh">${r.note}</p>`}
<p class="breaker-headline" data-when="stale">${STALE_HEADLINE}</p>
<p class="breaker-note" data-when="stale">This page has no live connection: it cannot confirm the state of ${v.scope}.</p>
</div>`
}
