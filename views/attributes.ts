/**
 * Extra attributes for a component's element (`id`, `data-*`, `aria-*`, `hx-*`, …), escaped like
 * every other value. Names come from code, never from data: a name that is not a plain attribute
 * name, or that would be an inline event handler (`on…`), is refused by throwing.
 */
import { type Html, html, join } from "./html.ts"

export type AttributeValue = string | number | boolean | null | undefined
export type Attributes = Readonly<Record<string, AttributeValue>>

const NAME = /^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)?$/

/** ` name="value"` for each attribute; `true` renders the bare name, `false`/null/undefined nothing. */
export const attributes = (attrs: Attributes | undefined): Html =>
  join(
    Object.entries(attrs ?? {}).map(([name, value]) => {
      if (!NAME.test(name) || name.startsWith("on")) throw new Error(`not an allowed attribute name: ${name}`)
      if (value === null || value === undefined || value === false) return html``
      return value === true ? html` ${name}` : html` ${name}="${value}"`
    })
  )
