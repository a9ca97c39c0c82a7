/**
 * The pure parts of the administration pages: the before/after of a change (diff component), a
 * setting's value read from and written to a form (form-value), the table that stacks on a phone,
 * the confirmation's extra controls and the one-time secret, each escaping what it is given.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { allowedValues, controlOf, displayValue, formText, parseSubmitted } from "../../src/core/settings/form-value.ts"
import { confirmation } from "../../views/components/confirmation.ts"
import { lineDiff, valueDiff } from "../../views/components/diff.ts"
import { oneTimeSecret } from "../../views/components/one-time-secret.ts"
import { table } from "../../views/components/table.ts"
import { html } from "../../views/html.ts"

const evil = `<script>alert("x")</script>`

describe("lineDiff", () => {
  it("keeps common lines and marks the others removed or added, in order", () => {
    expect(lineDiff("a\nb\nc", "a\nx\nc")).toEqual([
      { kind: "kept", text: "a" },
      { kind: "removed", text: "b" },
      { kind: "added", text: "x" },
      { kind: "kept", text: "c" }
    ])
    expect(lineDiff("a", "a\nb")).toEqual([
      { kind: "kept", text: "a" },
      { kind: "added", text: "b" }
    ])
  })

  it("compares very long values as a whole instead of building a huge table", () => {
    const long = Array.from({ length: 1_000 }, (_, i) => String(i)).join("\n")
    const lines = lineDiff(long, "x")
    expect(lines.filter((l) => l.kind === "removed")).toHaveLength(1_000)
    expect(lines.at(-1)).toEqual({ kind: "added", text: "x" })
  })
})

describe("valueDiff", () => {
  it("shows a one-line change as now and after, in words, with the unit", () => {
    const markup = valueDiff({ before: "300", after: "600", unit: "seconds", beforeLabel: "Now (version 2)" }).value
    expect(markup).toContain('<th scope="row">Now (version 2)</th><td data-field="diff-before"><del>300</del> seconds')
    expect(markup).toContain('<th scope="row">After</th><td data-field="diff-after"><ins>600</ins> seconds')
  })

  it("says when there is no difference", () => {
    expect(valueDiff({ before: "1", after: "1" }).value).toContain("No difference: the value would stay <code>1</code>")
  })

  it("shows a multi-line change line by line, each line saying what happened to it, escaped", () => {
    const markup = valueDiff({ before: `{\n  "a": 1\n}`, after: `{\n  "a": "${evil}"\n}` }).value
    expect(markup).toContain('<span class="visually-hidden">kept: </span>  {')
    expect(markup).toContain('<del><span class="visually-hidden">removed: </span>-   &quot;a&quot;: 1</del>')
    expect(markup).toContain("&lt;script&gt;")
    expect(markup).not.toContain("<script>")
  })
})

describe("a setting's value in a form", () => {
  const int = { type: "integer", minimum: 0, maximum: 86_400 }
  const choice = { type: "number", enum: [1, 2] }
  const text = { type: "string", maxLength: 40 }
  const json = { type: "object", properties: {} }

  it("picks the control from the JSON Schema", () => {
    expect(controlOf(int)).toEqual({ kind: "number", integer: true, minimum: 0, maximum: 86_400 })
    expect(controlOf(choice)).toEqual({
      kind: "choice",
      options: [
        { value: "1", label: "1" },
        { value: "2", label: "2" }
      ]
    })
    expect(controlOf({ type: "boolean" })).toMatchObject({ kind: "choice" })
    expect(controlOf(text)).toEqual({ kind: "text", maxLength: 40 })
    expect(controlOf(json)).toEqual({ kind: "json" })
  })

  it("says what fits in words", () => {
    expect(allowedValues(int)).toBe("a whole number from 0 to 86400")
    expect(allowedValues(choice)).toBe("one of 1, 2")
    expect(allowedValues(text)).toBe("text of at most 40 characters")
  })

  it("reads text as JSON, except for a string setting, and says what a bad text should be", () => {
    expect(parseSubmitted(int, " 300 ")).toEqual(Result.succeed(300))
    expect(parseSubmitted(choice, "2")).toEqual(Result.succeed(2))
    expect(parseSubmitted(text, "300")).toEqual(Result.succeed("300"))
    expect(parseSubmitted(json, '{"a":1}')).toEqual(Result.succeed({ a: 1 }))
    expect(parseSubmitted(int, "abc")).toEqual(Result.fail("must be a whole number, such as 0"))
    expect(parseSubmitted(int, "")).toEqual(Result.fail("must not be empty"))
    expect(Result.isFailure(parseSubmitted(json, "{"))).toBe(true)
  })

  it("writes a value back as the form and people read it", () => {
    expect(formText(text, "a b")).toBe("a b")
    expect(formText(int, 300)).toBe("300")
    expect(formText(json, { a: 1 })).toBe('{\n  "a": 1\n}')
    expect(displayValue("")).toBe('""')
    expect(displayValue(true)).toBe("true")
  })
})

describe("table stacked on a phone", () => {
  it("labels each cell with its header, except hidden headers", () => {
    const markup = table({
      rows: [{ n: evil }],
      empty: html`none`,
      stackOnPhone: true,
      columns: [
        { header: "Name", cell: (r) => r.n },
        { header: "Actions", hideHeader: true, cell: () => "x" }
      ]
    }).value
    expect(markup).toContain('<table class="compact stack">')
    expect(markup).toContain('<td data-label="Name">&lt;script&gt;')
    expect(markup).toContain("<td>x</td>")
  })

  it("is a plain table unless asked", () => {
    const markup = table({ rows: [1], empty: html``, columns: [{ header: "N", cell: (r) => r }] }).value
    expect(markup).toContain('<table class="compact">')
    expect(markup).not.toContain("data-label")
  })
})

describe("confirmation with controls", () => {
  it("shows the controls after the question, inside the form", () => {
    const markup = confirmation({
      id: "c1",
      action: "/admin/users/u1/role",
      csrfToken: "t",
      label: "Change role",
      target: "vera@example.com",
      consequence: "Their sessions end.",
      controls: html`<select name="role"><option>viewer</option></select>`
    }).value
    expect(markup).toMatch(/<\/p>\n<select name="role">[\s\S]*<div class="confirm-buttons">/)
  })
})

describe("oneTimeSecret", () => {
  it("shows the secret once, selectable, saying it cannot be shown again, escaped", () => {
    const markup = oneTimeSecret({ heading: evil, secret: evil, instructions: evil, field: "pw" }).value
    expect(markup).toContain('<code class="secret" data-field="pw">&lt;script&gt;')
    expect(markup).toContain("shown only this once")
    expect(markup).not.toContain("<script>")
  })
})
