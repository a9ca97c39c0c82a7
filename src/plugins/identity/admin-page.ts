/** The admin landing page: links to the administration pages the user may open. */
import { emptyState } from "../../../views/components/empty-state.ts"
import { type Html, html } from "../../../views/html.ts"

export interface AdminLink {
  readonly label: string
  readonly path: string
  readonly description: string
}

export const adminPage = (links: ReadonlyArray<AdminLink>): Html => html`<h1>Administration</h1>
${
  links.length === 0
    ? emptyState({ message: "There is nothing here you may administer." })
    : html`<ul class="admin-links">${links.map(
        (l) => html`<li><a href="${l.path}">${l.label}</a>: ${l.description}</li>`
      )}</ul>`
}`
