/**
 * A data table: a header per column, a row per item, and an empty state instead of the table when
 * there are no rows. It scrolls sideways inside its own box (`.table-scroll`, focusable so a
 * keyboard can scroll it too) so a wide table never widens the page on a phone; with `stackOnPhone` it becomes a card per row there instead, each
 * cell labelled with its column's header (app.css `table.stack`).
 */
import { type Attributes, attributes } from "../attributes.ts"
import { type Html, html, type Interpolation } from "../html.ts"

export interface Column<Row> {
  readonly header: string
  /** The header is read by screen readers but not shown (e.g. a column of buttons). */
  readonly hideHeader?: boolean | undefined
  readonly cell: (row: Row) => Interpolation
  /** Attributes of the cell, e.g. `{ "data-field": "state" }`. */
  readonly cellAttributes?: ((row: Row) => Attributes) | undefined
}

export interface TableData<Row> {
  readonly columns: ReadonlyArray<Column<Row>>
  readonly rows: ReadonlyArray<Row>
  /** Shown instead of the table when there is no row (usually an `emptyState`). */
  readonly empty: Html
  /** Attributes of the `<table>`, e.g. its `id`. */
  readonly attributes?: Attributes | undefined
  /** Attributes of each row, e.g. `{ "data-user": row.email }`. */
  readonly rowAttributes?: ((row: Row) => Attributes) | undefined
  /** What it lists ("Users"), naming its scroll box for screen readers and keyboard users. */
  readonly label?: string | undefined
  /** On a narrow screen, show each row as a card of labelled cells instead of scrolling sideways. */
  readonly stackOnPhone?: boolean | undefined
}

const header = <Row>(c: Column<Row>): Html =>
  c.hideHeader === true
    ? html`<th scope="col"><span class="visually-hidden">${c.header}</span></th>`
    : html`<th scope="col">${c.header}</th>`

export const table = <Row>(d: TableData<Row>): Html =>
  d.rows.length === 0
    ? d.empty
    : html`<div class="table-scroll" tabindex="0" role="region" aria-label="${d.label ?? "Table"}"><table class="${d.stackOnPhone === true ? "compact stack" : "compact"}"${attributes(d.attributes)}>
<thead><tr>${d.columns.map(header)}</tr></thead>
<tbody>
${d.rows.map(
  (row) =>
    html`<tr${attributes(d.rowAttributes?.(row))}>${d.columns.map(
      (c) =>
        html`<td${attributes(d.stackOnPhone === true && c.hideHeader !== true ? { "data-label": c.header } : undefined)}${attributes(c.cellAttributes?.(row))}>${c.cell(row)}</td>`
    )}</tr>
`
)}</tbody>
</table></div>`
