/**
 * One setting's page (`/admin/settings/{key}`): what it is and what is in effect, the form to
 * change it, and its history with "Restore this version". Nothing is saved from the form
 * directly: it leads to a review that shows the value now and after (a diff) and asks for the
 * confirmation, a reason for the record and, when the sign-in is old, the password. A restore is
 * reviewed the same way.
 */
import { valueDiff } from "../../../views/components/diff.ts"
import { emptyState } from "../../../views/components/empty-state.ts"
import { factsTable } from "../../../views/components/facts-table.ts"
import { formField, selectField, textareaField } from "../../../views/components/form-field.ts"
import { table } from "../../../views/components/table.ts"
import { csrfInput } from "../../../views/csrf.ts"
import { formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import type { SettingControl } from "./form-value.ts"
import { lastChange, type SettingSummary, settingPath, valueInEffect, withUnit } from "./page.ts"

export interface HistoryRow {
  readonly version: number
  readonly valueText: string
  readonly changedAt: string
  readonly changedBy: string
  readonly reason: string | undefined
}

export const settingNotices = {
  saved: "Saved: the new version is in effect on every replica.",
  restored: "Restored: the earlier value is in effect again, as a new version."
} as const
export type SettingNotice = keyof typeof settingNotices

/** What a review confirms: a new value, an earlier version, or the default. */
export type ReviewKind =
  | { readonly kind: "change" }
  | { readonly kind: "restore"; readonly version: number }
  | { readonly kind: "default" }

export interface ReviewData {
  readonly what: ReviewKind
  readonly beforeText: string
  readonly afterText: string
  /** The version the change expects to replace (compare-and-set). */
  readonly expectedVersion: number
  /** The value text a change saves, posted again with the confirmation. */
  readonly submitted: string
  readonly reason: string
  readonly errors: { readonly password?: string | undefined; readonly form?: string | undefined }
  /** The change cannot be made (e.g. the version no longer fits): the review shows why, with no save. */
  readonly blocked?: boolean | undefined
}

export interface SettingPageData {
  readonly setting: SettingSummary
  readonly control: SettingControl
  readonly csrfToken: string
  /** The sign-in is older than the re-authentication window: a change asks for the password. */
  readonly passwordNeeded: boolean
  readonly notice: SettingNotice | undefined
  /** The change form's text and what is wrong with it. */
  readonly edit: { readonly text: string; readonly error: string | undefined }
  readonly review: ReviewData | undefined
  readonly history: ReadonlyArray<HistoryRow>
  /** The history shows the versions older than this one (a later page), or the newest. */
  readonly olderThan: number | undefined
  /** More versions exist before the last one shown. */
  readonly moreHistory: boolean
}

const valueField = (d: SettingPageData): Html => {
  const s = d.setting
  const hint = [`Default: ${withUnit(s.defaultText, s.unit)}.`, s.allowed === undefined ? "" : `Allowed: ${s.allowed}.`]
    .filter((t) => t !== "")
    .join(" ")
  const base = {
    id: "setting-value",
    name: "value",
    label: s.unit === undefined ? "New value" : `New value (${s.unit})`,
    hint,
    error: d.edit.error,
    required: true
  }
  const c = d.control
  switch (c.kind) {
    case "choice":
      return selectField({ ...base, options: c.options, selected: d.edit.text })
    case "number":
      return formField({
        ...base,
        type: "number",
        value: d.edit.text,
        attributes: { min: c.minimum, max: c.maximum, step: c.integer ? 1 : "any", inputmode: "numeric" }
      })
    case "text":
      return formField({ ...base, value: d.edit.text, attributes: { maxlength: c.maxLength } })
    case "json":
      return textareaField({ ...base, value: d.edit.text, rows: 8, attributes: { spellcheck: "false" } })
  }
}

const changeSection = (d: SettingPageData): Html => html`<section id="change" aria-labelledby="change-heading">
<h2 id="change-heading">Change</h2>
${
  d.setting.mayChange
    ? html`<form method="post" action="${settingPath(d.setting.key)}/review" class="stacked" data-form="review">
${csrfInput(d.csrfToken)}
${valueField(d)}
<button type="submit">Review the change</button>
</form>`
    : html`<p>Changing it needs the permission <code>${d.setting.permission}</code>, which you do not hold.</p>`
}
</section>`

const reviewHeading = (r: ReviewData): string =>
  r.what.kind === "restore"
    ? `Review: restore version ${r.what.version}`
    : r.what.kind === "default"
      ? "Review: return to the default"
      : "Review the change"

const confirmLabel = (r: ReviewData): string => {
  const next = r.expectedVersion + 1
  return r.what.kind === "restore"
    ? `Restore version ${r.what.version} as version ${next}`
    : r.what.kind === "default"
      ? `Save the default as version ${next}`
      : `Save as version ${next}`
}

const reviewSection = (r: ReviewData, d: SettingPageData): Html => {
  const s = d.setting
  const same = r.beforeText === r.afterText
  const restore = r.what.kind === "restore" ? r.what : undefined
  return html`<article id="review" class="review" aria-labelledby="review-heading">
<h2 id="review-heading" tabindex="-1" autofocus>${reviewHeading(r)}</h2>
${r.errors.form === undefined ? "" : html`<p class="form-error" role="alert" data-field="review-error">${r.errors.form}</p>`}
${valueDiff({
  before: r.beforeText,
  after: r.afterText,
  beforeLabel: r.expectedVersion === 0 ? "Now (the default)" : `Now (version ${r.expectedVersion})`,
  afterLabel: restore === undefined ? "After saving" : `After restoring version ${restore.version}`,
  unit: s.unit,
  attributes: { "data-field": "diff" }
})}
${
  r.blocked === true
    ? html`<p><a href="${settingPath(s.key)}">Back to the setting</a></p>`
    : same
      ? html`<p>There is nothing to save. <a href="${settingPath(s.key)}">Back to the setting</a></p>`
      : html`<form method="post" action="${settingPath(s.key)}${restore === undefined ? "" : "/restore"}" class="stacked" data-form="${restore === undefined ? "save" : "restore"}">
${csrfInput(d.csrfToken)}
${restore === undefined ? html`<input type="hidden" name="value" value="${r.submitted}">` : html`<input type="hidden" name="version" value="${restore.version}">`}
<input type="hidden" name="expectedVersion" value="${r.expectedVersion}">
${formField({
  id: "review-reason",
  name: "reason",
  label: "Reason (optional)",
  value: r.reason,
  hint: "Kept with the version in the history and in the audit log.",
  attributes: { maxlength: 500, autocomplete: "off" }
})}
${
  d.passwordNeeded
    ? formField({
        id: "review-password",
        name: "password",
        label: "Your password",
        type: "password",
        required: true,
        error: r.errors.password,
        hint: "You signed in more than 5 minutes ago: confirm with your password to change a setting.",
        attributes: { autocomplete: "current-password" }
      })
    : ""
}
<p class="review-buttons"><button type="submit">${confirmLabel(r)}</button> <a href="${settingPath(s.key)}">Cancel</a></p>
</form>`
}
</article>`
}

const restoreLink = (d: SettingPageData, target: string, label: string, name: string): Html =>
  d.setting.mayChange
    ? html`<a href="${settingPath(d.setting.key)}?restore=${target}#review" data-action="restore">${label}<span class="visually-hidden"> ${name}</span></a>`
    : html``

const historySection = (d: SettingPageData): Html => {
  const s = d.setting
  const latest = d.olderThan === undefined ? d.history[0]?.version : undefined
  const defaultRow = !d.moreHistory
  return html`<section id="history" aria-labelledby="history-heading">
<h2 id="history-heading">History</h2>
${
  d.history.length === 0 && d.olderThan === undefined
    ? emptyState({ message: "Never changed: the default has been in effect from the start." })
    : html`${table({
        label: "Versions of this setting",
        attributes: { id: "setting-history" },
        rows: d.history,
        rowAttributes: (h) => ({ "data-version": h.version }),
        stackOnPhone: true,
        empty: emptyState({ message: "No older versions." }),
        columns: [
          { header: "Version", cell: (h) => h.version },
          { header: "Value", cell: (h) => html`<code>${withUnit(h.valueText, s.unit)}</code>` },
          { header: "Changed", cell: (h) => formatTimestamp(new Date(h.changedAt)) },
          { header: "By", cell: (h) => h.changedBy },
          { header: "Reason", cell: (h) => (h.reason === undefined ? html`<small>none given</small>` : h.reason) },
          {
            header: "Actions",
            hideHeader: true,
            cell: (h) =>
              h.version === latest && !s.fallback
                ? html`<small>in effect</small>`
                : restoreLink(d, String(h.version), "Restore this version", `version ${h.version}`)
          }
        ]
      })}
${
  defaultRow
    ? html`<p data-field="default-row">Before any change: the default, <code>${withUnit(s.defaultText, s.unit)}</code>. ${restoreLink(d, "default", "Return to the default", "")}</p>`
    : ""
}
<p>${d.moreHistory ? html`<a href="${settingPath(s.key)}?before=${d.history[d.history.length - 1]?.version ?? 1}#history">Older versions</a> ` : ""}${
        d.olderThan === undefined ? "" : html`<a href="${settingPath(s.key)}#history">Newest versions</a>`
      }</p>`
}
</section>`
}

export const settingPage = (d: SettingPageData): Html => {
  const s = d.setting
  return html`<p><a href="/admin/settings">All settings</a></p>
<h1>Setting <code class="wrap-anywhere">${s.key}</code></h1>
${d.notice === undefined ? "" : html`<p role="status" class="notice">${settingNotices[d.notice]}</p>`}
<p>${s.description}</p>
${
  s.fallback
    ? html`<p class="form-error" role="alert">The stored value no longer fits this setting, so the default is in effect. Save a value to replace it.</p>`
    : ""
}
${factsTable(
  [
    { label: "Value in effect", value: valueInEffect(s), field: "current" },
    { label: "Default", value: html`<code>${withUnit(s.defaultText, s.unit)}</code>`, field: "default" },
    s.allowed !== undefined && { label: "Allowed", value: s.allowed },
    { label: "Last change", value: lastChange(s) },
    { label: "Module", value: s.module },
    { label: "Who may change it", value: html`<code>${s.permission}</code>` }
  ],
  { id: "setting-facts" }
)}
${d.review === undefined ? "" : reviewSection(d.review, d)}
${changeSection(d)}
${historySection(d)}`
}
