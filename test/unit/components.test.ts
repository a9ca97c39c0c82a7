/**
 * The shared view components (views/components/): hostile text is escaped in every slot, a status
 * badge always says its state in words, a table without rows is its empty state, a confirmation
 * names its target, and a sparkline has a text alternative and draws sensibly from 0, 1 or equal
 * values.
 */
import { describe, expect, it } from "vitest"
import { attributes } from "../../views/attributes.ts"
import { confirmation } from "../../views/components/confirmation.ts"
import { emptyState } from "../../views/components/empty-state.ts"
import { factsTable } from "../../views/components/facts-table.ts"
import { formField, selectField } from "../../views/components/form-field.ts"
import { sparkline, sparklineText } from "../../views/components/sparkline.ts"
import { statusBadge } from "../../views/components/status-badge.ts"
import { table } from "../../views/components/table.ts"
import { html } from "../../views/html.ts"

const evil = `"><script>alert('x')</script>&`
const escaped = "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"

/** The markup holds no raw trace of the hostile text, only its escaped form. */
const expectEscaped = (markup: string, times = 1) => {
  expect(markup).not.toContain("<script")
  expect(markup).not.toContain("alert('x')")
  expect(markup.split(escaped).length - 1).toBeGreaterThanOrEqual(times)
}

describe("attributes", () => {
  it("escapes values, writes true as a bare name and leaves out false, null and undefined", () => {
    expect(
      attributes({ id: evil, hidden: true, disabled: false, title: null, lang: undefined, tabindex: 0 }).value
    ).toBe(` id="${escaped}" hidden tabindex="0"`)
  })

  it("refuses a name that is not a plain attribute name, and inline event handlers", () => {
    expect(() => attributes({ [evil]: "x" })).toThrow(/attribute name/)
    expect(() => attributes({ 'a="b"': "x" })).toThrow(/attribute name/)
    expect(() => attributes({ onclick: "alert(1)" })).toThrow(/attribute name/)
    expect(attributes({ "hx-headers:inherited": "{}", "data-field": "x" }).value).toBe(
      ' hx-headers:inherited="{}" data-field="x"'
    )
  })
})

describe("statusBadge", () => {
  it("says the state in words and gives the tone as a class", () => {
    for (const [tone, label] of [
      ["ok", "OPEN"],
      ["danger", "TRIPPED"],
      ["warning", "QUIET_PERIOD"],
      ["danger", "UNKNOWN"],
      ["ok", "up"],
      ["warning", "degraded"],
      ["danger", "down"],
      ["ok", "running"],
      ["warning", "backing-off"]
    ] as const) {
      expect(statusBadge(tone, label).value).toBe(`<span class="status ${tone}">${label}</span>`)
    }
  })

  it("always includes a word: a blank label reads unknown, in the neutral tone", () => {
    expect(statusBadge("ok", "").value).toBe('<span class="status neutral">unknown</span>')
    expect(statusBadge("danger", "   ").value).toBe('<span class="status neutral">unknown</span>')
  })

  it("escapes the label and attribute values", () => {
    const markup = statusBadge("danger", evil, { "data-field": evil }).value
    expectEscaped(markup, 2)
    expect(markup).toMatch(/^<span class="status danger" data-field="[^"]*">[^<]*<\/span>$/)
  })
})

describe("emptyState", () => {
  it("is a sentence with an optional action link, both escaped", () => {
    expect(emptyState({ message: "No API keys yet." }).value).toBe('<p class="empty-state">No API keys yet.</p>')
    const markup = emptyState({
      message: evil,
      action: { label: evil, href: `/x?${evil}` },
      attributes: { id: "audit-empty" }
    }).value
    expectEscaped(markup, 3)
    expect(markup).toMatch(/^<p class="empty-state" id="audit-empty">[^<]*<a href="\/x\?[^"]*">[^<]*<\/a><\/p>$/)
  })
})

interface Row {
  readonly name: string
  readonly state: string
}

const columns = [
  { header: "Name", cell: (r: Row) => r.name, cellAttributes: (r: Row) => ({ title: r.name }) },
  { header: "State", cell: (r: Row) => statusBadge("ok", r.state) },
  { header: "Actions", hideHeader: true, cell: () => html`<button>Go</button>` }
]

describe("table", () => {
  it("shows the empty state, and no table, when there are no rows", () => {
    const markup = table<Row>({
      columns,
      rows: [],
      empty: emptyState({ message: "Nothing here." }),
      attributes: { id: "things" }
    }).value
    expect(markup).toBe('<p class="empty-state">Nothing here.</p>')
  })

  it("renders headers, one row per item with its attributes, inside a scrolling box", () => {
    const markup = table<Row>({
      columns,
      rows: [
        { name: "a", state: "running" },
        { name: "b", state: "running" }
      ],
      empty: emptyState({ message: "Nothing here." }),
      attributes: { id: "things" },
      rowAttributes: (r) => ({ "data-thing": r.name }),
      label: "Things"
    }).value
    // The scroll box is reachable by keyboard and named for screen readers.
    expect(
      markup.startsWith(
        '<div class="table-scroll" tabindex="0" role="region" aria-label="Things"><table class="compact" id="things">'
      )
    ).toBe(true)
    expect(markup).toContain('<th scope="col">Name</th><th scope="col">State</th>')
    // A column of buttons keeps a header for screen readers.
    expect(markup).toContain('<th scope="col"><span class="visually-hidden">Actions</span></th>')
    expect(markup.match(/<tr data-thing="[ab]">/g)).toHaveLength(2)
    expect(markup).toContain('<td title="a">a</td><td><span class="status ok">running</span></td>')
    expect(markup).not.toContain("Nothing here.")
  })

  it("escapes hostile text in headers, cells, cell and row attributes", () => {
    const markup = table<Row>({
      columns: [
        { header: evil, cell: (r) => r.name, cellAttributes: (r) => ({ title: r.name }) },
        { header: "State", hideHeader: true, cell: (r) => r.state }
      ],
      rows: [{ name: evil, state: evil }],
      empty: emptyState({ message: "none" }),
      rowAttributes: (r) => ({ "data-thing": r.name })
    }).value
    expectEscaped(markup, 5)
  })
})

describe("factsTable", () => {
  it("renders label and value rows, leaves out unknown facts, and escapes both", () => {
    const markup = factsTable(
      [{ label: "Version", value: "1.0", field: "version" }, undefined, false, { label: evil, value: evil }],
      { id: "about" }
    ).value
    expect(markup).toContain('<table class="compact facts" id="about">')
    expect(markup).toContain('<tr><th scope="row">Version</th><td data-field="version">1.0</td></tr>')
    expect(markup.match(/<tr>/g)).toHaveLength(2)
    expectEscaped(markup, 2)
  })
})

describe("formField", () => {
  it("ties the label, the hint and the error to the input", () => {
    const markup = formField({
      id: "key-name",
      name: "name",
      label: "Name",
      hint: "What the key is for.",
      error: "Must not be empty.",
      required: true,
      attributes: { maxlength: 100 }
    }).value
    expect(markup).toContain('<label for="key-name">Name</label>')
    expect(markup).toContain(
      '<input type="text" id="key-name" name="name" required aria-invalid="true" aria-describedby="key-name-error key-name-hint" maxlength="100">'
    )
    expect(markup).toContain('<span id="key-name-error" class="field-error">Must not be empty.</span>')
    expect(markup).toContain('<span id="key-name-hint">What the key is for.</span>')
  })

  it("without hint or error has no description, no invalid mark and no helper text", () => {
    const markup = formField({ id: "pw", name: "password", label: "Password", type: "password" }).value
    expect(markup).toContain('<input type="password" id="pw" name="password">')
    expect(markup).not.toContain("aria-")
    expect(markup).not.toContain("<small")
  })

  it("escapes hostile text in every slot", () => {
    const markup = formField({
      id: "f",
      name: "f",
      label: evil,
      value: evil,
      hint: evil,
      error: evil,
      attributes: { placeholder: evil }
    }).value
    expectEscaped(markup, 5)
  })

  it("renders a select with its options, the chosen one selected, all escaped", () => {
    const markup = selectField({
      id: "outcome",
      name: "outcome",
      label: "Outcome",
      options: [
        { value: "", label: "any" },
        { value: evil, label: evil }
      ],
      selected: evil,
      hint: "Filter by result."
    }).value
    expect(markup).toContain('<select id="outcome" name="outcome" aria-describedby="outcome-hint">')
    expect(markup).toContain('<option value="">any</option>')
    expect(markup).toContain(`<option value="${escaped}" selected>${escaped}</option>`)
    expectEscaped(markup, 2)
  })
})

describe("confirmation", () => {
  const data = {
    id: "confirm-revoke-k1",
    action: "/admin/api-keys/k1/revoke",
    csrfToken: "tok",
    label: "Revoke",
    prompt: "Revoke the key",
    target: "deploy pipeline (bw_k1_…)",
    confirmLabel: "Revoke deploy pipeline",
    consequence: "Requests with it are refused.",
    formAttributes: { "data-form": "revoke" }
  }

  it("opens a popover whose form names the target and posts with the CSRF token, without script", () => {
    const markup = confirmation(data).value
    expect(markup).toContain(
      '<button type="button" class="confirm-open" popovertarget="confirm-revoke-k1">Revoke…</button>'
    )
    expect(markup).toContain('<div popover id="confirm-revoke-k1" class="confirm" role="dialog"')
    expect(markup).toContain('<form method="post" action="/admin/api-keys/k1/revoke" data-form="revoke">')
    expect(markup).toContain('<input type="hidden" name="_csrf" value="tok">')
    expect(markup).toContain("Revoke the key <strong>deploy pipeline (bw_k1_…)</strong>? Requests with it are refused.")
    expect(markup).toContain('<button type="submit" class="confirm-danger">Revoke deploy pipeline</button>')
    expect(markup).toMatch(/popovertarget="confirm-revoke-k1" popovertargetaction="hide" autofocus>Cancel</)
    expect(markup).not.toContain("<script")
    expect(markup).not.toContain("hx-confirm")
  })

  it("names the target on the confirm button unless told otherwise", () => {
    const { confirmLabel: _, prompt: __, ...plain } = data
    const markup = confirmation(plain).value
    expect(markup).toContain("Revoke <strong>deploy pipeline (bw_k1_…)</strong>?")
    expect(markup).toContain('class="confirm-danger">Revoke deploy pipeline (bw_k1_…)</button>')
  })

  it("while unavailable is a disabled button saying why, with no popover", () => {
    const markup = confirmation({ ...data, unavailable: "Confirm with your password first" }).value
    expect(markup).toMatch(/data-form="revoke"[\s\S]*?disabled title="Confirm with your password first">Revoke</)
    expect(markup).not.toContain("popover")
  })

  it("escapes hostile text in every slot", () => {
    const markup = confirmation({
      ...data,
      id: evil,
      action: evil,
      csrfToken: evil,
      label: evil,
      prompt: evil,
      target: evil,
      confirmLabel: evil,
      consequence: evil,
      formAttributes: { "data-form": evil }
    }).value
    expectEscaped(markup, 10)
    expect(confirmation({ ...data, unavailable: evil, label: evil }).value).not.toContain("<script")
  })
})

describe("sparkline", () => {
  const points = (markup: string) => /points="([^"]*)"/.exec(markup)?.[1]?.split(" ") ?? []

  it("draws a line with a text alternative: count, lowest, highest, latest", () => {
    const markup = sparkline({ values: [3, 1, 4, 1.25, 5], label: "Event-loop delay p99", unit: " ms" }).value
    const text = "Event-loop delay p99: 5 values, lowest 1 ms, highest 5 ms, latest 5 ms"
    expect(markup).toContain(`role="img" aria-label="${text}"`)
    expect(markup).toContain(`<title>${text}</title>`)
    expect(points(markup)).toHaveLength(5)
    expect(markup).not.toContain("NaN")
    // Higher values are drawn higher (smaller y): the 5 is at the top, the 1s at the bottom.
    const ys = points(markup).map((p) => Number(p.split(",")[1]))
    expect(Math.min(...ys)).toBe(ys[4])
    expect(Math.max(...ys)).toBe(ys[1])
  })

  it("with no value draws nothing and says there is no data", () => {
    const markup = sparkline({ values: [], label: "Latency" }).value
    expect(markup).toBe('<small class="sparkline-empty">Latency: no data yet</small>')
    expect(sparklineText({ values: [Number.NaN, Number.POSITIVE_INFINITY], label: "Latency" })).toBe(
      "Latency: no data yet"
    )
  })

  it("with one value draws a dot and says the value", () => {
    const markup = sparkline({ values: [42], label: "Latency", unit: " ms", width: 100, height: 20 }).value
    expect(markup).toContain('aria-label="Latency: 1 value, 42 ms"')
    expect(markup).toContain('<circle cx="98" cy="10" r="2"')
    expect(markup).not.toContain("<polyline")
    expect(markup).not.toContain("NaN")
  })

  it("with equal values draws a flat line across the middle", () => {
    const markup = sparkline({ values: [7, 7, 7], label: "Latency", width: 100, height: 20 }).value
    expect(markup).not.toContain("NaN")
    expect(points(markup)).toEqual(["2,10", "50,10", "98,10"])
    expect(markup).toContain('aria-label="Latency: 3 values, lowest 7, highest 7, latest 7"')
  })

  it("leaves out values that are not finite numbers, and copes with a long series", () => {
    expect(sparklineText({ values: [1, Number.NaN, 3], label: "x" })).toBe("x: 2 values, lowest 1, highest 3, latest 3")
    const long = Array.from({ length: 200_000 }, (_, i) => i % 10)
    expect(sparklineText({ values: long, label: "x" })).toBe("x: 200000 values, lowest 0, highest 9, latest 9")
  })

  it("escapes the label and the unit, and uses the given number format", () => {
    const markup = sparkline({ values: [1, 2], label: evil, unit: evil, format: (n) => n.toFixed(2) }).value
    expectEscaped(markup, 2)
    expect(markup).toContain("lowest 1.00")
  })
})
