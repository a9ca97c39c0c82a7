/** The console's page shell: header with navigation and the signed-in user, main content, footer. */
import { csrfInput } from "./csrf.ts"
import { type Html, html } from "./html.ts"

export interface NavLink {
  readonly label: string
  readonly path: string
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
}

const matches = (link: NavLink, currentPath: string) =>
  link.path === "/" ? currentPath === "/" : currentPath === link.path || currentPath.startsWith(`${link.path}/`)

/** The entry for this page: the most specific match (`/admin/users` is Users, not Admin). */
const currentLink = (nav: ReadonlyArray<NavLink>, currentPath: string): NavLink | undefined =>
  nav.filter((link) => matches(link, currentPath)).sort((a, b) => b.path.length - a.path.length)[0]

export const layout = (data: LayoutData): Html => html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${data.title} · Breakwater</title>
<link rel="stylesheet" href="/assets/pico.classless.min.css?v=${data.version}">
<link rel="stylesheet" href="/assets/app.css?v=${data.version}">
<script src="/assets/htmx.min.js?v=${data.version}" defer></script>
<script src="/assets/app.js?v=${data.version}" defer></script>
</head>
<body${data.csrfToken === undefined ? "" : html` hx-headers:inherited="${JSON.stringify({ "X-CSRF-Token": data.csrfToken })}"`}>
<header>
<nav aria-label="Main">
<ul><li><a href="/" class="brand"><strong>Breakwater</strong></a></li></ul>
<ul>
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
<main id="main">
${data.body}
</main>
<footer><small>Breakwater ${data.version}</small></footer>
</body>
</html>`
