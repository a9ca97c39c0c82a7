/**
 * The console's page shell: header with navigation and the signed-in user, main content, footer.
 * A page may also carry a status a module contributes (the global breaker, for those allowed to
 * view it): a badge in the navigation, the first word of the title and the favicon, kept live by
 * public/app.js over the page's event stream; when that stream is lost for longer than the
 * staleness limit the badge says so (its `data-when="stale"` text).
 */
import { csrfInput } from "./csrf.ts"
import { type Html, html } from "./html.ts"

export interface NavLink {
  readonly label: string
  readonly path: string
}

/** A state every page carries (the global breaker), and how the page keeps it live. */
export interface LayoutStatus {
  /** The navigation's badge: a link, in words and colour. */
  readonly badge: Html
  /** The title's first word (`HALTED · Dashboard · Breakwater`), so a tab says it. */
  readonly titleWord: string
  /** The favicon that shows the state. */
  readonly favicon: string
  /** The event stream the page's script follows. */
  readonly stream: string
  /** Seconds without that stream after which every live display says it cannot confirm its state. */
  readonly stalenessSeconds: number
}

export interface LayoutData {
  readonly title: string
  readonly nav: ReadonlyArray<NavLink>
  readonly currentPath: string
  /** The signed-in user (name and role), if any. */
  readonly user: { readonly name: string; readonly role: string | undefined } | undefined
  /** The session's CSRF token: sent by every htmx request and the logout form. */
  readonly csrfToken: string | undefined
  readonly version: string
  readonly body: Html
  /** The live badge, favicon and title state; absent when no module shows this principal one. */
  readonly status?: LayoutStatus | undefined
}

const matches = (link: NavLink, currentPath: string) =>
  link.path === "/" ? currentPath === "/" : currentPath === link.path || currentPath.startsWith(`${link.path}/`)

/** The entry for this page: the most specific match (`/admin/users` is Users, not Admin). */
const currentLink = (nav: ReadonlyArray<NavLink>, currentPath: string): NavLink | undefined =>
  nav.filter((link) => matches(link, currentPath)).sort((a, b) => b.path.length - a.path.length)[0]

export const layout = (data: LayoutData): Html => {
  const status = data.status
  const title = `${data.title} · Breakwater`
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title${status === undefined ? "" : html` data-base="${title}"`}>${status === undefined ? title : `${status.titleWord} · ${title}`}</title>
${status === undefined ? "" : html`<link rel="icon" type="image/svg+xml" href="${status.favicon}" id="favicon">`}
<link rel="stylesheet" href="/assets/pico.classless.min.css?v=${data.version}">
<link rel="stylesheet" href="/assets/app.css?v=${data.version}">
<script src="/assets/htmx.min.js?v=${data.version}" defer></script>
<script src="/assets/app.js?v=${data.version}" defer></script>
</head>
<body${data.csrfToken === undefined ? "" : html` hx-headers:inherited="${JSON.stringify({ "X-CSRF-Token": data.csrfToken })}"`}${status === undefined ? "" : html` data-live-stream="${status.stream}" data-staleness-seconds="${status.stalenessSeconds}"`}>
<a href="#main" class="skip-link">Skip to main content</a>
<header>
<nav aria-label="Main">
<ul><li><a href="/" class="brand"><strong>Breakwater</strong></a></li>${status === undefined ? "" : html`<li class="page-status-item">${status.badge}</li>`}${data.nav.length === 0 ? "" : html`<li class="nav-toggle-item"><button type="button" class="nav-toggle secondary outline" aria-expanded="false" aria-controls="nav-links" hidden>Menu</button></li>`}</ul>
<ul id="nav-links">
${data.nav.map(
  (link) =>
    html`<li><a href="${link.path}"${link === currentLink(data.nav, data.currentPath) ? html` aria-current="page"` : ""}>${link.label}</a></li>`
)}
${
  data.user === undefined
    ? ""
    : html`<li><small class="principal" data-role="${data.user.role ?? ""}">${data.user.name}${data.user.role === undefined ? "" : html` · ${data.user.role}`}</small></li>`
}
${
  data.csrfToken === undefined
    ? ""
    : html`<li><form method="post" action="/logout" class="logout">${csrfInput(data.csrfToken)}<button type="submit" class="secondary outline">Log out</button></form></li>`
}
</ul>
</nav>
</header>
<main id="main" tabindex="-1">
${data.body}
</main>
<footer><small>Breakwater ${data.version}</small></footer>
</body>
</html>`
}
