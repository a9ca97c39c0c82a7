/**
 * A change shown before it is made: the value now and the value after, labelled in words. A
 * one-line value is a two-row table (`<del>` now, `<ins>` after); a value over several lines (a
 * JSON document) is a line diff where each line says whether it is removed, added or kept, so
 * nothing depends on seeing the colour. Equal values say so instead.
 */
import { type Attributes, attributes } from "../attributes.ts"
import { type Html, html } from "../html.ts"

export interface DiffData {
  /** The value now, as shown to people (e.g. `300`, or pretty-printed JSON). */
  readonly before: string
  /** The value after the change. */
  readonly after: string
  /** The label of the first row; "Now" unless given (e.g. "Now (version 3)"). */
  readonly beforeLabel?: string | undefined
  /** The label of the second row; "After" unless given. */
  readonly afterLabel?: string | undefined
  /** Shown after a one-line value, e.g. `seconds`. */
  readonly unit?: string | undefined
  readonly attributes?: Attributes | undefined
}

export interface DiffLine {
  readonly kind: "kept" | "removed" | "added"
  readonly text: string
}

/** Past this many lines on a side the diff is the whole of each side (the LCS table grows as n × m). */
const MAX_LINES = 400

/** The lines of `before` and `after` as kept, removed and added, in order (longest common subsequence). */
export const lineDiff = (before: string, after: string): ReadonlyArray<DiffLine> => {
  const a = before.split("\n")
  const b = after.split("\n")
  if (a.length > MAX_LINES || b.length > MAX_LINES)
    return [
      ...a.map((text) => ({ kind: "removed" as const, text })),
      ...b.map((text) => ({ kind: "added" as const, text }))
    ]
  // common[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const common = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      common[i]![j] = a[i] === b[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!)
  const lines: Array<DiffLine> = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      lines.push({ kind: "kept", text: a[i]! })
      i++
      j++
    } else if (common[i + 1]![j]! >= common[i]![j + 1]!) lines.push({ kind: "removed", text: a[i++]! })
    else lines.push({ kind: "added", text: b[j++]! })
  }
  while (i < a.length) lines.push({ kind: "removed", text: a[i++]! })
  while (j < b.length) lines.push({ kind: "added", text: b[j++]! })
  return lines
}

const withUnit = (value: Html, unit: string | undefined): Html =>
  unit === undefined || unit === "" ? value : html`${value} ${unit}`

const line = (l: DiffLine): Html =>
  l.kind === "kept"
    ? html`<span class="diff-kept"><span class="visually-hidden">kept: </span>  ${l.text}</span>\n`
    : l.kind === "removed"
      ? html`<del><span class="visually-hidden">removed: </span>- ${l.text}</del>\n`
      : html`<ins><span class="visually-hidden">added: </span>+ ${l.text}</ins>\n`

export const valueDiff = (d: DiffData): Html => {
  const beforeLabel = d.beforeLabel ?? "Now"
  const afterLabel = d.afterLabel ?? "After"
  if (d.before === d.after)
    return html`<p class="diff diff-none"${attributes(d.attributes)}>No difference: the value would stay ${withUnit(html`<code>${d.after}</code>`, d.unit)}.</p>`
  if (!d.before.includes("\n") && !d.after.includes("\n"))
    return html`<table class="compact diff"${attributes(d.attributes)}>
<tbody>
<tr><th scope="row">${beforeLabel}</th><td data-field="diff-before">${withUnit(html`<del>${d.before}</del>`, d.unit)}</td></tr>
<tr><th scope="row">${afterLabel}</th><td data-field="diff-after">${withUnit(html`<ins>${d.after}</ins>`, d.unit)}</td></tr>
</tbody>
</table>`
  return html`<div class="diff"${attributes(d.attributes)}>
<p><small>${beforeLabel} → ${afterLabel}: lines marked - are removed, lines marked + are added, the others stay.</small></p>
<pre class="diff-lines"><code>${lineDiff(d.before, d.after).map(line)}</code></pre>
</div>`
}
