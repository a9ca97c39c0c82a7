/** What a list or table shows when it has nothing: one sentence, and optionally what to do about it. */
import { type Attributes, attributes } from "../attributes.ts"
import { type Html, html } from "../html.ts"

export interface EmptyStateData {
  /** A sentence saying what is empty, e.g. "No API keys yet." */
  readonly message: string
  /** A link to the obvious next step, e.g. clearing a filter. */
  readonly action?: { readonly label: string; readonly href: string } | undefined
  /** E.g. an `id` or `data-field` tests and scripts find it by. */
  readonly attributes?: Attributes | undefined
}

export const emptyState = (d: EmptyStateData): Html =>
  html`<p class="empty-state"${attributes(d.attributes)}>${d.message}${
    d.action === undefined ? "" : html` <a href="${d.action.href}">${d.action.label}</a>`
  }</p>`
