/**
 * A state told in words and in colour: `statusBadge("danger", "TRIPPED")`. The tone picks the
 * colour (app.css `.status.<tone>`); the label is what is read, so the state never depends on
 * seeing the colour. A blank label reads "unknown", in the neutral tone.
 */
import { type Attributes, attributes } from "../attributes.ts"
import { type Html, html } from "../html.ts"

/** ok: working or allowed · warning: degraded, waiting, retrying · danger: down, halted, refused · neutral: unknown, ended. */
export type Tone = "ok" | "warning" | "danger" | "neutral"

export const statusBadge = (tone: Tone, label: string, attrs?: Attributes): Html => {
  const blank = label.trim() === ""
  return html`<span class="status ${blank ? "neutral" : tone}"${attributes(attrs)}>${blank ? "unknown" : label}</span>`
}
