/**
 * HTML templating for views: `html` escapes every interpolated value unless it is already `Html`
 * (the output of another `html` call) or marked with {@link unsafeRaw}, which should be rare and
 * never hold user data.
 */
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!)

/** A fragment of HTML that is safe to embed as is. */
export class Html {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  toString(): string {
    return this.value
  }
}

export type Interpolation = Html | string | number | boolean | null | undefined | ReadonlyArray<Interpolation>

const render = (value: Interpolation): string => {
  if (value === null || value === undefined || value === false) return ""
  if (value instanceof Html) return value.value
  if (Array.isArray(value)) return value.map(render).join("")
  return escapeHtml(String(value))
}

export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<Interpolation>): Html => {
  let out = strings[0] ?? ""
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "")
  return new Html(out)
}

/** Marks trusted markup (never user data) as HTML. */
export const unsafeRaw = (markup: string): Html => new Html(markup)

/** Joins fragments. */
export const join = (parts: ReadonlyArray<Html>, separator = ""): Html =>
  new Html(parts.map((p) => p.value).join(separator))
