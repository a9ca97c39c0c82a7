/**
 * The supervised fibers as a table: where each runs (every replica, or one at a time under a
 * lease), its state (a fiber on standby names the replica holding its lease), restarts, last
 * success, last failure.
 */
import { emptyState } from "../../../views/components/empty-state.ts"
import { statusBadge } from "../../../views/components/status-badge.ts"
import { table } from "../../../views/components/table.ts"
import { formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"

export interface FiberRow {
  readonly name: string
  readonly state: string
  readonly replicas: "each" | "one"
  readonly leaseHolder: string | undefined
  readonly restarts: number
  readonly lastSuccessAt: number | undefined
  readonly lastFailure: { readonly at: number; readonly message: string } | undefined
}

const stateBadge = (state: string): Html =>
  statusBadge(state === "running" ? "ok" : state === "backing-off" ? "warning" : "neutral", state)

export const fibersTable = (fibers: ReadonlyArray<FiberRow>): Html =>
  table({
    label: "Supervised fibers",
    attributes: { id: "fibers" },
    rows: fibers,
    rowAttributes: (f) => ({ "data-fiber": f.name }),
    stackOnPhone: true,
    empty: emptyState({ message: "No background fibers are running." }),
    columns: [
      { header: "Fiber", cell: (f) => html`<code>${f.name}</code>` },
      { header: "Runs on", cell: (f) => (f.replicas === "one" ? "one replica at a time" : "every replica") },
      {
        header: "State",
        cell: (f) =>
          f.state === "standby" && f.leaseHolder !== undefined
            ? html`${stateBadge(f.state)} <small>lease held by <code>${f.leaseHolder}</code></small>`
            : stateBadge(f.state)
      },
      { header: "Restarts", cell: (f) => f.restarts },
      { header: "Last success", cell: (f) => formatTimestamp(f.lastSuccessAt) },
      {
        header: "Last failure",
        cell: (f) =>
          f.lastFailure === undefined ? "—" : html`${formatTimestamp(f.lastFailure.at)}: ${f.lastFailure.message}`
      }
    ]
  })
