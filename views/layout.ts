/** The console's page shell: header with navigation, main content, footer. */
import { type Html, html } from "./html.ts"

export interface NavLink {
  readonly label: string
  readonly path: string
}

export interface LayoutData {
  readonly title: string
  readonly nav: ReadonlyArray<NavLink>
  readonly currentPath: string
  /** Display name of the signed-in principal, if any. */
  readonly principalName: string | undefined
  readonly version: string
  readonly body: Html
}

const isCurrent = (link: NavLink, currentPath: string) =>
  link.path === "/" ? currentPath === "/" : currentPath === link.path || currentPath.startsWith(`${link.path}/`)

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
<body>
<header>
<nav aria-label="Main">
<ul><li><a href="/" class="brand"><strong>Breakwater</strong></a></li></ul>
<ul>
${data.nav.map(
  (link) =>
    html`<li><a href="${link.path}"${isCurrent(link, data.currentPath) ? html` aria-current="page"` : ""}>${link.label}</a></li>`
)}
${data.principalName === undefined ? "" : html`<li><small class="principal">${data.principalName}</small></li>`}
</ul>
</nav>
</header>
<main id="main">
${data.body}
</main>
<footer><small>Breakwater ${data.version}</small></footer>
</body>
</html>`
