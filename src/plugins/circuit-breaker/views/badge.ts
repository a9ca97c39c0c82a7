/**
 * The global breaker in one word, for the navigation of every page, the favicon and the title:
 * `OPEN`, `HALTED`, `QUIET` (the quiet period after a reset: trading allowed) or `UNKNOWN` (the
 * state cannot be confirmed: treat as halted). The badge links to the Circuit Breaker page and
 * re-fetches itself (`/breaker/badge`) whenever the page's live connection reports a change; while
 * the connection is lost for longer than the staleness limit it says `UNKNOWN — treat as halted`.
 */

import { type Html, html } from "../../../../views/html.ts"
import type { BreakerView } from "../../../core/contracts/circuit-breaker/model.ts"
import { type BreakerTone, STALE_HEADLINE } from "./state.ts"

export type BreakerWord = "OPEN" | "HALTED" | "QUIET" | "UNKNOWN"

/** Where the badge re-fetches itself (served by the circuit-breaker module). */
export const BADGE_PATH = "/breaker/badge"

/** The word for a reading of the global scope; nothing read is `UNKNOWN`. */
export const breakerWord = (v: BreakerView | undefined): BreakerWord => {
  if (v === undefined || v.state === "UNKNOWN" || v.effective_state === "UNKNOWN") return "UNKNOWN"
  if (v.effective_state === "TRIPPED" || !v.trading_allowed) return "HALTED"
  return v.effective_state === "QUIET_PERIOD" ? "QUIET" : "OPEN"
}

const tones: Readonly<Record<BreakerWord, BreakerTone>> = {
  OPEN: "open",
  HALTED: "tripped",
  QUIET: "quiet",
  UNKNOWN: "unknown"
}

const meanings: Readonly<Record<BreakerWord, string>> = {
  OPEN: "trading allowed",
  HALTED: "trading halted",
  QUIET: "quiet period after a reset, trading allowed",
  UNKNOWN: "state unknown, treat as halted"
}

/** The favicon of a state (public/favicon-<word>.svg, served by the circuit-breaker module). */
export const faviconPath = (word: BreakerWord): string => `/assets/favicon-${word.toLowerCase()}.svg`

export const breakerBadge = (v: BreakerView | undefined): Html => {
  const word = breakerWord(v)
  return html`<a href="/breaker" id="breaker-badge" class="breaker-badge tone-${tones[word]}" data-state="${word}" title="Global breaker: ${meanings[word]}. Open the Circuit Breaker page." hx-get="${BADGE_PATH}" hx-trigger="breaker-changed from:body" hx-swap="outerMorph" data-live-refresh><span class="breaker-badge-name">Breaker</span> <strong data-when="fresh">${word}</strong><strong data-when="stale">${STALE_HEADLINE}</strong></a>`
}
