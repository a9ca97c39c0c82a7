/**
 * A labelled form control with its hint and its error, the way Pico styles them: the `<small>`
 * right after the control holds the error (then in red, with `aria-invalid`) and the hint, and the
 * control names both with `aria-describedby` so a screen reader reads them with the label.
 */
import { type Attributes, attributes } from "../attributes.ts"
import { type Html, html } from "../html.ts"

interface FieldBase {
  /** The control's id; the hint and the error get `<id>-hint` and `<id>-error`. */
  readonly id: string
  readonly name: string
  readonly label: string
  readonly hint?: string | undefined
  /** What is wrong with the value given, shown under the control. */
  readonly error?: string | undefined
  readonly required?: boolean | undefined
  /** More attributes of the control: `autocomplete`, `placeholder`, `maxlength`, `autofocus`, … */
  readonly attributes?: Attributes | undefined
}

export interface FormFieldData extends FieldBase {
  /** The input's type; text unless given. */
  readonly type?:
    | "text"
    | "email"
    | "password"
    | "search"
    | "url"
    | "tel"
    | "number"
    | "date"
    | "datetime-local"
    | undefined
  readonly value?: string | undefined
}

export interface SelectFieldData extends FieldBase {
  readonly options: ReadonlyArray<{ readonly value: string; readonly label: string }>
  readonly selected?: string | undefined
}

const has = (text: string | undefined): text is string => text !== undefined && text !== ""

/** `aria-describedby`, `aria-invalid` and `required` of the control. */
const controlAttributes = (d: FieldBase): Html =>
  attributes({
    required: d.required === true,
    "aria-invalid": has(d.error) ? "true" : undefined,
    "aria-describedby":
      [has(d.error) ? `${d.id}-error` : "", has(d.hint) ? `${d.id}-hint` : ""].filter((s) => s !== "").join(" ") ||
      undefined
  })

const help = (d: FieldBase): Html =>
  has(d.error) || has(d.hint)
    ? html`<small>${has(d.error) ? html`<span id="${d.id}-error" class="field-error">${d.error}</span>` : ""}${
        has(d.hint) ? html`<span id="${d.id}-hint">${d.hint}</span>` : ""
      }</small>`
    : html``

export const formField = (d: FormFieldData): Html => html`<label for="${d.id}">${d.label}</label>
<input type="${d.type ?? "text"}" id="${d.id}" name="${d.name}"${d.value === undefined ? "" : html` value="${d.value}"`}${controlAttributes(d)}${attributes(d.attributes)}>
${help(d)}`

export const selectField = (d: SelectFieldData): Html => html`<label for="${d.id}">${d.label}</label>
<select id="${d.id}" name="${d.name}"${controlAttributes(d)}${attributes(d.attributes)}>
${d.options.map((o) => html`<option value="${o.value}"${o.value === d.selected ? html` selected` : ""}>${o.label}</option>`)}
</select>
${help(d)}`

export interface TextareaFieldData extends FieldBase {
  readonly value?: string | undefined
  readonly rows?: number | undefined
}

/** A multi-line control (a JSON document, a long reason), labelled and described like the others. */
export const textareaField = (d: TextareaFieldData): Html => html`<label for="${d.id}">${d.label}</label>
<textarea id="${d.id}" name="${d.name}" rows="${d.rows ?? 4}"${controlAttributes(d)}${attributes(d.attributes)}>${d.value ?? ""}</textarea>
${help(d)}`
