import { describe, expect, it } from "vitest"
import { html, unsafeRaw } from "../../views/html.ts"
import { layout } from "../../views/layout.ts"

describe("html", () => {
  it("escapes every interpolated value", () => {
    const evil = `<script>alert("x")</script>&'`
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>'
    )
  })

  it("embeds nested fragments and lists without escaping them twice", () => {
    const items = ["a<b", "c"].map((i) => html`<li>${i}</li>`)
    expect(html`<ul>${items}</ul>`.value).toBe("<ul><li>a&lt;b</li><li>c</li></ul>")
  })

  it("renders nothing for null, undefined and false, and numbers as text", () => {
    expect(html`${null}${undefined}${false}${0}${true}`.value).toBe("0true")
  })

  it("passes explicit raw markup through", () => {
    expect(html`${unsafeRaw("<hr>")}`.value).toBe("<hr>")
  })

  it("escapes user data in the layout (title, principal, navigation)", () => {
    const page = layout({
      title: "<t>",
      nav: [{ label: "<nav>", path: "/x" }],
      currentPath: "/x",
      user: { name: "<me>", role: "viewer" },
      csrfToken: "t<k>",
      version: "1",
      body: html`<p>ok</p>`
    }).value
    expect(page).not.toContain("<t>")
    expect(page).not.toContain("<nav>")
    expect(page).not.toContain("<me>")
    expect(page).not.toContain("t<k>")
    expect(page).toContain(`hx-headers:inherited="{&quot;X-CSRF-Token&quot;:&quot;t&lt;k&gt;&quot;}"`)
    expect(page).toContain('<a href="/x" aria-current="page">&lt;nav&gt;</a>')
  })

  it("marks only the most specific navigation entry as the current page", () => {
    const page = layout({
      title: "Users",
      nav: [
        { label: "Users", path: "/admin/users" },
        { label: "Admin", path: "/admin" }
      ],
      currentPath: "/admin/users",
      user: undefined,
      csrfToken: undefined,
      version: "1",
      body: html``
    }).value
    expect(page).toContain('<a href="/admin/users" aria-current="page">Users</a>')
    expect(page).toContain('<a href="/admin">Admin</a>')
    expect(page).not.toContain("hx-headers")
    expect(page).not.toContain('action="/logout"')
  })
})
