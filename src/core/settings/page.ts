/**
 * The Settings page (`/admin/settings`): every setting the installed modules declare, grouped by
 * module, each with its description, the value in effect, its default and its last change. A
 * setting's own page (setting-page.ts) changes it and lists its history.
 */
import { emptyState } from "../../../views/components/empty-state.ts"
import { statusBadge } from "../../../views/components/status-badge.ts"
import { table } from "../../../views/components/table.ts"
import { formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"

/** A setting as the pages show it: values already written for people. */
export interface SettingSummary {
  readonly module: string
  readonly key: string
  readonly description: string
  readonly unit: string | undefined
  /** Who may change it. */
  readonly permission: string
  readonly mayChange: boolean
  readonly valueText: string
  readonly defaultText: string
  /** The latest stored version; 0 when it was never changed. */
  readonly version: number
  readonly changedAt: string | undefined
  readonly changedBy: string | undefined
  readonly reason: string | undefined
  /** The latest stored value no longer fits: the default is in effect. */
  readonly fallback: boolean
  /** What values fit, in words. */
  readonly allowed: string | undefined
}

export interface SettingsPageData {
  readonly settings: ReadonlyArray<SettingSummary>
}

export const settingPath = (key: string) => `/admin/settings/${encodeURIComponent(key)}`

/** A value with its unit, as one piece of text. */
export const withUnit = (text: string, unit: string | undefined): string =>
  unit === undefined || text.includes("\n") ? text : `${text} ${unit}`

/** The value in effect, and in words whether it is the default, a stored version, or a fallback. */
export const valueInEffect = (s: SettingSummary): Html =>
  html`<code data-field="value">${withUnit(s.valueText, s.unit)}</code> ${
    s.fallback
      ? statusBadge("warning", "default: stored value invalid")
      : s.version === 0
        ? html`<small>(the default)</small>`
        : html`<small>(version ${s.version})</small>`
  }`

/** The last change in words: never, or version, time, who and why. */
export const lastChange = (s: SettingSummary): Html =>
  s.version === 0 || s.changedAt === undefined
    ? html`never changed`
    : html`version ${s.version}, ${formatTimestamp(new Date(s.changedAt))}${s.changedBy === undefined ? "" : html` by ${s.changedBy}`}${
        s.reason === undefined ? "" : html`<br><small>${s.reason}</small>`
      }`

const group = (
  module: string,
  settings: ReadonlyArray<SettingSummary>
): Html => html`<section id="module-${module}" aria-labelledby="module-${module}-heading">
<h2 id="module-${module}-heading">${module}</h2>
${table({
  label: `Settings of ${module}`,
  attributes: { "data-module": module },
  rows: settings,
  rowAttributes: (s) => ({ "data-setting": s.key }),
  stackOnPhone: true,
  empty: emptyState({ message: "No settings." }),
  columns: [
    {
      header: "Setting",
      cell: (s) => html`<a href="${settingPath(s.key)}"><code>${s.key}</code></a><br><small>${s.description}</small>`
    },
    { header: "Value in effect", cell: valueInEffect },
    { header: "Default", cell: (s) => html`<code>${withUnit(s.defaultText, s.unit)}</code>` },
    { header: "Last change", cell: lastChange },
    {
      header: "Actions",
      hideHeader: true,
      cell: (s) =>
        html`<a href="${settingPath(s.key)}#change" data-action="change">${s.mayChange ? "Change" : "Details"}<span class="visually-hidden"> ${s.key}</span></a>`
    }
  ]
})}
</section>`

export const settingsPage = (data: SettingsPageData): Html => {
  const modules = [...new Set(data.settings.map((s) => s.module))].sort()
  return html`<h1>Settings</h1>
<p>The runtime settings of the installed modules. A change takes effect at once on every replica, is kept as a new version and is recorded in the audit log. Open a setting to change it or to restore an earlier version.</p>
${
  modules.length === 0
    ? emptyState({ message: "No installed module declares a setting." })
    : html`<p>Modules: ${modules.map((m, i) => html`${i === 0 ? "" : " · "}<a href="#module-${m}">${m}</a>`)}</p>
${modules.map((m) =>
  group(
    m,
    data.settings.filter((s) => s.module === m)
  )
)}`
}`
}
