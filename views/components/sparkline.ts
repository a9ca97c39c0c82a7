/**
 * A tiny inline line chart of a series (latency history, event-loop delay), oldest first, with a
 * text alternative that says what the line shows: how many values, the lowest, the highest and
 * the latest. Values that are not finite numbers are left out. No value draws nothing and says
 * so; one value is a dot; equal values are a flat line across the middle.
 */
import { type Html, html } from "../html.ts"

export interface SparklineData {
  readonly values: ReadonlyArray<number>
  /** What is measured, e.g. "Event-loop delay p99". */
  readonly label: string
  /** Appended to each number in the text, e.g. " ms". */
  readonly unit?: string | undefined
  /** How a number is written in the text; one decimal at most unless given. */
  readonly format?: ((value: number) => string) | undefined
  readonly width?: number | undefined
  readonly height?: number | undefined
}

const oneDecimal = (n: number) => String(Math.round(n * 10) / 10)

// Not Math.min(...values): spreading a long series would overflow the stack.
const lowest = (values: ReadonlyArray<number>) => values.reduce((a, b) => (b < a ? b : a))
const highest = (values: ReadonlyArray<number>) => values.reduce((a, b) => (b > a ? b : a))

/** Coordinates with two decimals: enough for a few pixels, short in the markup. */
const coordinate = (n: number) => String(Math.round(n * 100) / 100)

/** The sentence a screen reader reads instead of the picture. */
export const sparklineText = (d: SparklineData): string => {
  const values = d.values.filter(Number.isFinite)
  const say = (n: number) => `${(d.format ?? oneDecimal)(n)}${d.unit ?? ""}`
  if (values.length === 0) return `${d.label}: no data yet`
  const latest = values[values.length - 1] ?? 0
  if (values.length === 1) return `${d.label}: 1 value, ${say(latest)}`
  return `${d.label}: ${values.length} values, lowest ${say(lowest(values))}, highest ${say(highest(values))}, latest ${say(latest)}`
}

export const sparkline = (d: SparklineData): Html => {
  const values = d.values.filter(Number.isFinite)
  const text = sparklineText(d)
  if (values.length === 0) return html`<small class="sparkline-empty">${text}</small>`
  const width = d.width ?? 120
  const height = d.height ?? 24
  const pad = 2
  const min = lowest(values)
  const max = highest(values)
  const y = (v: number) => (max === min ? height / 2 : pad + (height - 2 * pad) * (1 - (v - min) / (max - min)))
  const x = (i: number) => (values.length === 1 ? width - pad : pad + ((width - 2 * pad) * i) / (values.length - 1))
  const mark =
    values.length === 1
      ? html`<circle cx="${coordinate(x(0))}" cy="${coordinate(y(values[0] ?? 0))}" r="2" fill="currentColor"/>`
      : html`<polyline fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" points="${values
          .map((v, i) => `${coordinate(x(i))},${coordinate(y(v))}`)
          .join(" ")}"/>`
  return html`<svg class="sparkline" role="img" aria-label="${text}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><title>${text}</title>${mark}</svg>`
}
