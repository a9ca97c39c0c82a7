/**
 * `npm run bench`: runs every benchmark (or those named on the command line) and prints one table
 * of figures, the baselines measured in the same run, their ratios and the issues' targets.
 * Benchmarks are not part of `npm test`.
 */
import { audit } from "./audit.bench.ts"
import { breaker } from "./breaker.bench.ts"
import { consolePages } from "./console.bench.ts"
import type { Benchmark, Row } from "./harness.ts"
import { http } from "./http.bench.ts"
import { startup } from "./startup.bench.ts"

const all: ReadonlyArray<Benchmark> = [startup, http, audit, breaker, consolePages]

const wanted = process.argv.slice(2)
const selected = wanted.length === 0 ? all : all.filter((b) => wanted.includes(b.name))

const rows: Array<Row> = []
for (const bench of selected) {
  process.stderr.write(`running ${bench.name}…\n`)
  rows.push(...(await bench.run()))
}

const columns = ["benchmark", "figure", "baseline", "ratio", "target"] as const
const cell = (row: Row, column: (typeof columns)[number]) => row[column] ?? ""
const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)))
const line = (values: ReadonlyArray<string>) => `| ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" | ")} |`
console.log(line(columns))
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`)
for (const row of rows) console.log(line(columns.map((c) => cell(row, c))))
