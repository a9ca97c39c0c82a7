/** Facts as label and value, one per row (the About page, the dashboard's process summary). */
import { type Attributes, attributes } from "../attributes.ts"
import { type Html, html, type Interpolation } from "../html.ts"

export interface Fact {
  readonly label: string
  readonly value: Interpolation
  /** `data-field` of the value cell, for tests and scripts. */
  readonly field?: string | undefined
}

/** Rows given as `undefined` or `false` (a fact not known here) are left out. */
export const factsTable = (facts: ReadonlyArray<Fact | undefined | false>, attrs?: Attributes): Html =>
  html`<table class="compact facts"${attributes(attrs)}>
<tbody>
${facts.map((f) =>
  f === undefined || f === false
    ? ""
    : html`<tr><th scope="row">${f.label}</th><td${attributes({ "data-field": f.field })}>${f.value}</td></tr>
`
)}</tbody>
</table>`
