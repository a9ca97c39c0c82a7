/** Error pages (404, 400, 403, 500): what happened, and the request id to quote to support. */
import { type Html, html } from "./html.ts"

export interface ErrorPageData {
  readonly status: number
  readonly title: string
  readonly message: string
  readonly requestId: string
  readonly issues?: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

export const errorPage = (data: ErrorPageData): Html => html`<article class="error-page">
<h1>${data.status} · ${data.title}</h1>
<p>${data.message}</p>
${
  data.issues !== undefined && data.issues.length > 0
    ? html`<ul>${data.issues.map((i) => html`<li><code>${i.path || "(request)"}</code>: ${i.message}</li>`)}</ul>`
    : ""
}
<p><small>Request id: <code>${data.requestId}</code></small></p>
<p><a href="/">Back to the dashboard</a></p>
</article>`
