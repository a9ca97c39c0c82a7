/**
 * The latest audit entries on the dashboard, newest first, one line each: when, who, what, on
 * what, the outcome in words and colour, and why. It re-fetches itself on every breaker change and
 * every 15 s (the audit log has no event topic), and says so when the log cannot be read.
 */
import type { Tone } from "../../../views/components/status-badge.ts"
import { statusBadge } from "../../../views/components/status-badge.ts"
import { formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import type { AuditEntry } from "../../core/audit/entry.ts"

export const AUDIT_FEED_PATH = "/dashboard/audit"
/** Entries the dashboard shows. */
export const AUDIT_FEED_SIZE = 8

export interface AuditFeedData {
  readonly entries: ReadonlyArray<AuditEntry>
  /** Why the entries cannot be shown. */
  readonly error: string | undefined
}

const outcomeTones: Readonly<Record<AuditEntry["outcome"], Tone>> = {
  success: "ok",
  failure: "warning",
  denied: "danger"
}

const shorten = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

const entry = (e: AuditEntry): Html => {
  const when = Date.parse(e.occurredAt)
  return html`<li data-audit="${e.id}" data-action="${e.action}">
<time datetime="${e.occurredAt}">${Number.isNaN(when) ? e.occurredAt : formatTimestamp(when)}</time>
<strong title="${e.actorType} ${e.actorId}">${e.actorName}</strong>
<code>${e.action}</code>
${e.resourceId === null ? html`<span>${e.resourceType}</span>` : html`<span>${e.resourceType} <code>${e.resourceId}</code></span>`}
${statusBadge(outcomeTones[e.outcome], e.outcome)}
${e.reason === null || e.reason === "" ? "" : html`<q>${shorten(e.reason, 160)}</q>`}
</li>`
}

export const auditFeed = (
  d: AuditFeedData
): Html => html`<section id="dashboard-audit" aria-labelledby="dashboard-audit-title" hx-get="${AUDIT_FEED_PATH}" hx-trigger="breaker-changed from:body, every 15s" hx-swap="outerMorph">
<h2 id="dashboard-audit-title">Latest audit entries</h2>
${d.error === undefined ? "" : html`<p class="breaker-warning" data-field="audit-error">The audit log cannot be read right now: ${d.error}</p>`}
${
  d.entries.length === 0 && d.error === undefined
    ? html`<p class="empty-state">No audit entries yet.</p>`
    : html`<ol class="audit-feed">${d.entries.map(entry)}</ol>`
}
<p><a href="/audit">The whole audit log</a></p>
</section>`
