/**
 * Says whether a page is live: public/app.js keeps its `data-live` (`connecting`, `open`,
 * `reconnecting`, `stale`, `signed-out`, `unsupported`) and its words current, and ticks "last
 * confirmed … ago" once the connection is lost. Only the status sentence is a live region (it
 * changes with the state, not every second). It may name the page's stream and staleness limit for
 * a page whose layout carries none.
 */
import { type Html, html } from "../html.ts"

export interface LiveIndicatorData {
  readonly id: string
  /** The page's event stream, when the layout does not name one. */
  readonly stream?: string | undefined
  /** Seconds without a live connection after which every breaker display says UNKNOWN. */
  readonly stalenessSeconds?: number | undefined
}

export const liveIndicator = (
  d: LiveIndicatorData
): Html => html`<p id="${d.id}" class="live-indicator" data-live-indicator data-live="connecting"${d.stream === undefined ? "" : html` data-stream="${d.stream}"`}${d.stalenessSeconds === undefined ? "" : html` data-staleness-seconds="${d.stalenessSeconds}"`}>
<small><span class="live-status" aria-live="polite">Connecting to live updates…</span> <span class="live-since"></span></small>
</p>`
