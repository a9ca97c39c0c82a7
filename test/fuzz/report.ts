/**
 * What a fuzz run tells: the answers counted by status (overall, by principal, by route), and the
 * failures, one per kind × route × status, each with what was sent, what came back and how to
 * replay the run.
 */
import type { FuzzCase } from "./fuzz-case.ts"
import type { PrincipalName } from "./state.ts"

export type FailureKind = "5xx" | "crash" | "no answer" | "readiness changed" | "partial write"

export interface Failure {
  readonly kind: FailureKind
  readonly run: number
  readonly route: string
  readonly principal: PrincipalName
  /** The status code, or what happened instead. */
  readonly status: string
  /** The request as sent (long values cut). */
  readonly request: string
  readonly requestId: string | undefined
  readonly details: ReadonlyArray<string>
  /** Bytes sent: the smallest example of a failure is kept. */
  readonly size: number
  readonly input: FuzzCase
}

export const formatFailure = (f: Failure): string =>
  [
    `${f.kind}: ${f.route} as ${f.principal} → ${f.status} (run ${f.run}${f.requestId === undefined ? "" : `, request id ${f.requestId}`})`,
    f.request,
    ...f.details.map((d) => `  ${d.replaceAll("\n", "\n  ")}`),
    `  generated input: ${JSON.stringify(f.input).slice(0, 1500)}`
  ].join("\n")

/** Failures by kind, route and status: the first (then the smallest) example of each, and a count. */
export class FailureLog {
  private readonly byKey = new Map<string, { example: Failure; count: number }>()
  last: Failure | undefined

  add(failure: Failure): void {
    this.last = failure
    const key = `${failure.kind} ${failure.route} ${failure.status}`
    const seen = this.byKey.get(key)
    if (seen === undefined) this.byKey.set(key, { example: failure, count: 1 })
    else {
      seen.count++
      if (failure.size < seen.example.size) seen.example = failure
    }
  }

  get size(): number {
    return this.byKey.size
  }

  format(): string {
    return [...this.byKey.values()]
      .map(({ example, count }) => `${formatFailure(example)}\n  (${count} case${count === 1 ? "" : "s"} like it)`)
      .join("\n\n")
  }
}

const statusClass = (status: string) => (/^\d{3}$/.test(status) ? `${status[0]}xx` : status)

/** Answers counted by status code, overall, by principal and by route. */
export class Counts {
  private readonly total = new Map<string, number>()
  private readonly byPrincipal = new Map<string, Map<string, number>>()
  private readonly byRoute = new Map<string, Map<string, number>>()
  cases = 0

  count(route: string, principal: string, status: string): void {
    this.cases++
    const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1)
    bump(this.total, status)
    const p = this.byPrincipal.get(principal) ?? new Map<string, number>()
    bump(p, statusClass(status))
    this.byPrincipal.set(principal, p)
    const r = this.byRoute.get(route) ?? new Map<string, number>()
    bump(r, status)
    this.byRoute.set(route, r)
  }

  /** Moves one count from `from` to `to` (an answer judged after it was counted). */
  recount(route: string, principal: string, from: string, to: string): void {
    const move = (map: Map<string, number> | undefined, a: string, b: string) => {
      if (map === undefined) return
      map.set(a, (map.get(a) ?? 1) - 1)
      if (map.get(a) === 0) map.delete(a)
      map.set(b, (map.get(b) ?? 0) + 1)
    }
    move(this.total, from, to)
    move(this.byPrincipal.get(principal), statusClass(from), statusClass(to))
    move(this.byRoute.get(route), from, to)
  }

  format(header: string): string {
    const sorted = (map: Map<string, number>) =>
      [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => `${k}×${n}`)
    const width = Math.max(0, ...[...this.byRoute.keys()].map((r) => r.length))
    return [
      header,
      "by status:",
      ...[...this.total.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([s, n]) => `  ${s.padEnd(9)} ${n}`),
      "by principal:",
      ...[...this.byPrincipal.entries()].map(([p, m]) => `  ${p.padEnd(12)} ${sorted(m).join("  ")}`),
      "by route:",
      ...[...this.byRoute.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([r, m]) => `  ${r.padEnd(width)}  ${sorted(m).join(" ")}`)
    ].join("\n")
  }
}
