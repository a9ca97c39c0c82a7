/**
 * The breaker's shared displays as pure functions (src/plugins/circuit-breaker/views/, the layout's
 * badge, favicon and title, the dashboard's audit entries): every state in words, halted unless
 * trading is positively allowed, the UNKNOWN text each display falls back to while its page is not
 * live, one-step trips, refusals that say when to retry, and user text always escaped. Also which
 * principals get the live badge and the dashboard's panels, in what order (core/http/console-parts.ts
 * with the breaker's and the system module's contributions).
 */
import { Effect, Layer } from "effect"
import { HttpServerRequest } from "effect/http"
import { describe, expect, it } from "vitest"
import { CurrentPrincipal, type Principal } from "../../src/core/auth/access.ts"
import { AppConfig } from "../../src/core/config.ts"
import type { BreakerView } from "../../src/core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker, type CircuitBreakerShape } from "../../src/core/contracts/circuit-breaker/service.ts"
import { ConsoleParts, type DashboardPanel } from "../../src/core/http/console-parts.ts"
import { breakerPageStatus, liveStreamFor } from "../../src/plugins/circuit-breaker/console-parts.ts"
import { breakerBadge, breakerWord, faviconPath } from "../../src/plugins/circuit-breaker/views/badge.ts"
import {
  type FormProblem,
  problemMessage,
  submitButton,
  tripForm
} from "../../src/plugins/circuit-breaker/views/forms.ts"
import {
  breakerReading,
  breakerStateBox,
  countdown,
  STALE_HEADLINE
} from "../../src/plugins/circuit-breaker/views/state.ts"
import { breakerSummary, breakerSummaryConsole } from "../../src/plugins/circuit-breaker/views/summary.ts"
import { auditFeed } from "../../src/plugins/system/audit-feed.ts"
import { breakwaterPanel, dashboardPage } from "../../src/plugins/system/dashboard-page.ts"
import { liveIndicator } from "../../views/components/live-indicator.ts"
import { html } from "../../views/html.ts"
import { layout } from "../../views/layout.ts"
import { NOW, view } from "../support/breaker-views.ts"

const tripped = (overrides: Partial<BreakerView> = {}) =>
  view({
    state: "TRIPPED",
    effective_state: "TRIPPED",
    trading_allowed: false,
    tripped_at: "2026-03-02T11:30:00.000Z",
    trip_reason: "venue feed is returning stale prices",
    tripped_by: { type: "user", id: "u1", name: "Ada" },
    trip_source: "manual",
    ...overrides
  })

const quiet = (overrides: Partial<BreakerView> = {}) =>
  view({
    state: "QUIET_PERIOD",
    effective_state: "QUIET_PERIOD",
    quiet_until: "2026-03-02T12:00:42.000Z",
    ...overrides
  })

const unknown = view({ state: "UNKNOWN", effective_state: "UNKNOWN", trading_allowed: false, version: null })

/** Text of markup, tags stripped. */
const text = (markup: string) =>
  markup
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim()

/** The text of the elements marked `data-when="<when>"`. */
const whenText = (markup: string, when: "fresh" | "stale") =>
  [...markup.matchAll(new RegExp(`<(p|strong)[^>]*data-when="${when}"[^>]*>([\\s\\S]*?)</\\1>`, "g"))]
    .map((m) => text(m[2] ?? ""))
    .join(" ")

describe("breaker reading", () => {
  it("is halted unless trading is positively allowed", () => {
    expect(breakerReading(view(), NOW)).toMatchObject({
      tone: "open",
      headline: "TRADING ALLOWED",
      tradingAllowed: true
    })
    expect(breakerReading(tripped(), NOW)).toMatchObject({ tone: "tripped", headline: "TRADING HALTED" })
    expect(breakerReading(unknown, NOW)).toMatchObject({
      tone: "unknown",
      headline: "TRADING HALTED",
      label: "UNKNOWN"
    })
    expect(breakerReading(view({ trading_allowed: false }), NOW).tradingAllowed).toBe(false)
    // A scope whose own state is OPEN but whose global is tripped is halted.
    const halted = breakerReading(
      view({ scope: "venue-a", effective_state: "TRIPPED", trading_allowed: false, halted_by: "global" }),
      NOW
    )
    expect(halted.headline).toBe("TRADING HALTED")
    expect(text(halted.note?.value ?? "")).toContain("Halted by the global breaker")
  })

  it("says in words that trading is allowed in the quiet period, and when it is fully OPEN", () => {
    const r = breakerReading(quiet(), NOW)
    expect(r).toMatchObject({ tone: "quiet", headline: "QUIET PERIOD", tradingAllowed: true })
    expect(text(r.trading?.value ?? "")).toBe("Trading allowed · fully OPEN in 42s")
    expect(text(r.note?.value ?? "")).toContain("2026-03-02 12:00:42 UTC (in 42s)")
  })
})

describe("breaker state box", () => {
  it("carries the UNKNOWN text for a page that lost its live connection, hidden until then", () => {
    for (const v of [view(), quiet(), tripped(), unknown]) {
      const markup = breakerStateBox(v, NOW).value
      expect(whenText(markup, "stale")).toContain(STALE_HEADLINE)
      expect(whenText(markup, "fresh")).not.toContain(STALE_HEADLINE)
    }
    expect(whenText(breakerStateBox(view(), NOW).value, "fresh")).toContain("TRADING ALLOWED")
    expect(breakerStateBox(view(), NOW).value).toMatch(/^<div class="breaker-state" role="status" aria-live="polite"/)
  })

  it("escapes the scope name", () => {
    const markup = breakerStateBox(view({ scope: `<img src=x onerror=alert(1)>` }), NOW).value
    expect(markup).not.toContain("<img")
  })
})

describe("countdown", () => {
  it("renders the time left and the milliseconds the browser counts down from", () => {
    expect(countdown(NOW + 90_500, NOW).value).toBe(
      '<time datetime="2026-03-02T12:01:30.500Z" data-countdown="90500">1m 30s</time>'
    )
    expect(countdown(NOW - 5, NOW).value).toContain('data-countdown="0">0s<')
    expect(countdown(NOW + 5000, NOW, ["(in ", ")"]).value).toContain(
      'data-before="(in " data-after=")">(in 5s)</time>'
    )
  })
})

describe("breaker badge", () => {
  it("says OPEN, HALTED, QUIET or UNKNOWN, nothing read being UNKNOWN", () => {
    expect(breakerWord(view())).toBe("OPEN")
    expect(breakerWord(tripped())).toBe("HALTED")
    expect(breakerWord(view({ trading_allowed: false }))).toBe("HALTED")
    expect(breakerWord(quiet())).toBe("QUIET")
    expect(breakerWord(unknown)).toBe("UNKNOWN")
    expect(breakerWord(undefined)).toBe("UNKNOWN")
  })

  it("links to the breaker page, in words and colour, re-fetching itself on every change", () => {
    const markup = breakerBadge(tripped()).value
    expect(markup).toContain('href="/breaker"')
    expect(markup).toContain('class="breaker-badge tone-tripped"')
    expect(markup).toContain('data-state="HALTED"')
    expect(markup).toContain('hx-get="/breaker/badge" hx-trigger="breaker-changed from:body"')
    expect(whenText(markup, "fresh")).toBe("HALTED")
    expect(whenText(markup, "stale")).toBe(STALE_HEADLINE)
    expect(breakerBadge(undefined).value).toContain('class="breaker-badge tone-unknown"')
  })

  it("names a favicon per state", () => {
    expect(faviconPath("HALTED")).toBe("/assets/favicon-halted.svg")
    expect(faviconPath("QUIET")).toBe("/assets/favicon-quiet.svg")
  })
})

describe("breaker forms", () => {
  const refusal: FormProblem = {
    scope: "global",
    action: "reset",
    message: "the breaker global was reset 12 s ago: at most one reset per minute per scope",
    issues: [],
    reason: "</textarea><b>typed</b>",
    passwordNeeded: false,
    retryAfterSeconds: 48
  }

  it("trips in one step: a reason and an acknowledgement, never a password", () => {
    const markup = tripForm({ scope: "venue-a", csrfToken: "tok", problem: undefined, target: "#x", now: NOW }).value
    expect(markup).toContain('action="/breaker/venue-a/trip"')
    expect(markup).toContain('hx-target="#x"')
    expect(markup).toMatch(/name="reason"[^>]*required minlength="20"/)
    expect(markup).toMatch(/type="checkbox"[^>]*name="acknowledge" required/)
    expect(markup).not.toContain('type="password"')
    expect(markup).not.toContain('name="_view"')
    const fromSummary = tripForm({
      scope: "venue-a",
      csrfToken: "tok",
      problem: undefined,
      target: "#x",
      summary: true,
      now: NOW
    })
    expect(fromSummary.value).toContain('<input type="hidden" name="_view" value="summary">')
  })

  it("says when a refused form may be sent again, and keeps the typed text escaped", () => {
    const markup = problemMessage("reset-global", refusal, NOW).value
    expect(text(markup)).toMatch(/You can try again in 48s \(at 2026-03-02 12:00:48 UTC ?\); what you typed is kept\./)
    expect(markup).toContain('data-countdown="48000"')
    const form = tripForm({
      scope: "global",
      csrfToken: "t",
      problem: { ...refusal, action: "trip" },
      target: "#x",
      now: NOW
    })
    expect(form.value).toContain("&lt;/textarea&gt;&lt;b&gt;typed&lt;/b&gt;</textarea>")
  })

  it("disables a submit button until its wait is over", () => {
    expect(submitButton("Reset global", "breaker-reset", 48_000).value).toBe(
      '<button type="submit" class="breaker-reset" disabled data-retry-in="48000">Reset global</button>'
    )
    expect(submitButton("Reset global", "breaker-reset", undefined).value).not.toContain("disabled")
    expect(submitButton("Reset global", "breaker-reset", -1).value).not.toContain("disabled")
  })
})

describe("breaker summary (the dashboard's first section)", () => {
  const data = {
    scopes: [
      tripped(),
      view({ scope: "venue-a", effective_state: "TRIPPED", trading_allowed: false, halted_by: "global" }),
      quiet({ scope: "venue-b" })
    ],
    canTrip: true,
    csrfToken: "tok",
    now: NOW,
    problem: undefined
  }

  it("shows every scope large, with who halted it and why, and a trip for each scope not tripped", () => {
    const markup = breakerSummary(data).value
    expect(markup).toContain('hx-get="/breaker/summary" hx-trigger="breaker-changed from:body" hx-swap="outerMorph"')
    expect(markup).toMatch(/id="tile-global"[^>]*data-state="TRIPPED"/)
    expect(text(markup)).toContain("Tripped 2026-03-02 11:30:00 UTC by Ada")
    expect(markup).toContain("venue feed is returning stale prices")
    expect(markup).not.toContain('id="trip-global"')
    expect(markup).toContain('id="trip-venue-a"')
    expect(markup).toContain('id="trip-venue-b"')
    // The trip forms are folded, and a refresh leaves an open one as the user has it.
    expect(markup).toMatch(/<details class="breaker-trip-details" id="trip-details-venue-a" hx-morph-skip>/)
    expect(markup).toContain('hx-target="#breaker-summary-console"')
    expect(breakerSummary({ ...data, canTrip: false }).value).not.toContain("<form")
  })

  it("opens the refused trip with its message, and keeps the outcome above the refreshing tiles", () => {
    const problem: FormProblem = {
      scope: "venue-b",
      action: "trip",
      message: "invalid",
      issues: [{ path: "reason", message: "must be at least 20 characters" }],
      reason: "short",
      passwordNeeded: false
    }
    const markup = breakerSummaryConsole({ ...data, problem, notice: "venue-a tripped: trading is halted." }).value
    expect(markup).toMatch(/id="trip-details-venue-b" hx-morph-skip open>/)
    expect(markup).toContain("Reason: must be at least 20 characters")
    expect(markup).toContain(">short</textarea>")
    expect(markup.indexOf('data-field="notice"')).toBeLessThan(markup.indexOf('id="breaker-summary"'))
  })

  it("says trading is halted when no scope can be read", () => {
    expect(text(breakerSummary({ ...data, scopes: [] }).value)).toContain(
      "No breaker scope can be read: treat trading as halted."
    )
  })
})

describe("layout with the live breaker", () => {
  const base = {
    title: "Dashboard",
    nav: [{ label: "Dashboard", path: "/" }],
    currentPath: "/",
    user: { name: "Ada", role: "operator" },
    csrfToken: "tok",
    version: "1",
    body: html`<p>ok</p>`
  } as const

  it("carries the global state in the badge, the favicon and the title, and the stream and limit for the script", () => {
    const page = layout({
      ...base,
      status: {
        badge: breakerBadge(tripped()),
        titleWord: breakerWord(tripped()),
        favicon: faviconPath(breakerWord(tripped())),
        stream: "/api/v1/events/stream?topics=breaker",
        stalenessSeconds: 7
      }
    }).value
    expect(page).toContain('<title data-base="Dashboard · Breakwater">HALTED · Dashboard · Breakwater</title>')
    expect(page).toContain('<link rel="icon" type="image/svg+xml" href="/assets/favicon-halted.svg" id="favicon">')
    expect(page).toContain('data-live-stream="/api/v1/events/stream?topics=breaker" data-staleness-seconds="7"')
    expect(page).toMatch(/<nav aria-label="Main">\s*<ul><li><a href="\/" class="brand">.*id="breaker-badge"/)
    const unknown = { badge: breakerBadge(undefined), titleWord: "UNKNOWN", favicon: "/f.svg", stream: "/s" }
    expect(layout({ ...base, status: { ...unknown, stalenessSeconds: 5 } }).value).toContain(
      '<title data-base="Dashboard · Breakwater">UNKNOWN · Dashboard · Breakwater</title>'
    )
  })

  it("shows none of it to those who may not view the breaker", () => {
    const page = layout(base).value
    expect(page).toContain("<title>Dashboard · Breakwater</title>")
    expect(page).not.toContain("breaker-badge")
    expect(page).not.toContain("favicon")
    expect(page).not.toContain("data-live-stream")
  })
})

describe("live indicator", () => {
  it("starts as connecting, its status sentence a live region", () => {
    const markup = liveIndicator({ id: "breaker-live", stream: "/s", stalenessSeconds: 3 }).value
    expect(markup).toContain(
      'id="breaker-live" class="live-indicator" data-live-indicator data-live="connecting" data-stream="/s" data-staleness-seconds="3"'
    )
    expect(markup).toContain('<span class="live-status" aria-live="polite">Connecting to live updates…</span>')
  })
})

describe("dashboard", () => {
  const readiness = {
    status: "ready",
    checkedAt: "2026-03-02T12:00:00.000Z",
    checks: [{ name: "database", status: "up", latencyMs: 1, message: undefined }],
    uptimeSeconds: 10,
    version: "1",
    databaseMode: "PostgreSQL",
    redisMode: "Redis",
    rssBytes: undefined,
    eventLoopDelayP99Ms: undefined
  }

  it("shows the panels in the order they come, with Breakwater's readiness not reading as the trading state", () => {
    const markup = dashboardPage({
      panels: [html`<section id="first"></section>`, breakwaterPanel(readiness)],
      version: "1"
    }).value
    expect(markup.indexOf('id="first"')).toBeLessThan(markup.indexOf('id="dashboard-breakwater"'))
    expect(text(markup)).toContain("Breakwater's own readiness (not the breaker): ready")
  })

  it("lists the latest audit entries escaped, with the outcome in words, or says why it cannot", () => {
    const markup = auditFeed({
      entries: [
        {
          id: "9",
          occurredAt: "2026-03-02T11:59:00.000Z",
          actorType: "user",
          actorId: "u1",
          actorName: "<b>Eve</b>",
          action: "breaker.trip",
          resourceType: "breaker",
          resourceId: "global",
          outcome: "denied",
          reason: "<script>x()</script>",
          details: {},
          clientAddress: null,
          requestId: null
        }
      ],
      error: undefined
    }).value
    expect(markup).not.toContain("<b>Eve")
    expect(markup).not.toContain("<script>")
    expect(markup).toContain('<span class="status danger">denied</span>')
    expect(text(markup)).toContain("2026-03-02 11:59:00 UTC")
    expect(text(auditFeed({ entries: [], error: "no answer within 3 seconds" }).value)).toContain(
      "The audit log cannot be read right now: no answer within 3 seconds"
    )
  })
})

describe("which pages carry the live badge", () => {
  const principal = (permissions: ReadonlyArray<string>): Principal => ({
    kind: "user",
    id: "u1",
    name: "Ada",
    permissions: new Set(permissions)
  })
  const breaker: CircuitBreakerShape = {
    readNow: () => view(),
    list: Effect.succeed([view()]),
    read: () => Effect.succeed(view()),
    trip: () => Effect.die("unused"),
    reset: () => Effect.die("unused"),
    approve: () => Effect.die("unused"),
    pendingApprovals: () => Effect.succeed([]),
    history: () => Effect.succeed([]),
    createScope: () => Effect.die("unused"),
    settings: Effect.succeed({ quiet_period_seconds: 300, reset_approvals: 1 }),
    updateSettings: () => Effect.die("unused"),
    changes: Effect.die("unused") as never,
    verifyOnce: Effect.die("unused")
  }

  /** Console parts with the breaker's status and three panels (breaker 0, readiness 900, audit 950). */
  const parts = (env: Record<string, string> = {}) =>
    Effect.gen(function* () {
      const consoleParts = yield* ConsoleParts
      const panel = (id: string, order: number, permission: string): DashboardPanel => ({
        id,
        order,
        permissions: [permission],
        render: Effect.succeed(html`<section id="${id}"></section>`)
      })
      yield* consoleParts.addPanels("system", [
        panel("audit", 950, "VIEW_AUDIT"),
        panel("breakwater", 900, "VIEW_DASHBOARD")
      ])
      yield* consoleParts.addPanels("circuit-breaker", [
        { ...panel("breaker", 0, "VIEW_CIRCUIT_BREAKER"), feature: "CIRCUIT_BREAKER" }
      ])
      yield* consoleParts.addStatus({
        ...breakerPageStatus,
        render: (p) => Effect.provideService(breakerPageStatus.render(p), CircuitBreaker, breaker)
      })
      return consoleParts
    }).pipe(Effect.provide(ConsoleParts.layer.pipe(Layer.provide(AppConfig.layerFrom({ LOG_LEVEL: "error", ...env })))))
  const run = <A>(effect: Effect.Effect<A, unknown>) => Effect.runPromise(effect)
  const panelIds = (p: Principal, env?: Record<string, string>) =>
    run(
      Effect.flatMap(parts(env), (c) => c.panelsFor(p)).pipe(
        Effect.map((panels) => panels.map((h) => /id="([^"]+)"/.exec(h.value)?.[1])),
        Effect.provideService(CurrentPrincipal, p),
        Effect.provideService(HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(new Request("http://x/")))
      )
    )

  it("only for a principal who may view the breaker, while its feature is on", async () => {
    const statusFor = (p: Principal | undefined, env?: Record<string, string>) =>
      run(Effect.flatMap(parts(env), (c) => c.statusFor(p)))
    expect(await statusFor(undefined)).toBeUndefined()
    expect(await statusFor(principal(["VIEW_DASHBOARD"]))).toBeUndefined()
    expect(await statusFor(principal(["VIEW_CIRCUIT_BREAKER"]), { FEATURE_CIRCUIT_BREAKER: "false" })).toBeUndefined()
    const shown = await statusFor(principal(["VIEW_DASHBOARD", "VIEW_CIRCUIT_BREAKER"]))
    expect(shown).toMatchObject({
      titleWord: "OPEN",
      favicon: "/assets/favicon-open.svg",
      stream: "/api/v1/events/stream?topics=breaker"
    })
    expect(shown?.badge.value).toContain('data-state="OPEN"')
  })

  it("puts the breaker's panel first and leaves out what the viewer may not see", async () => {
    expect(await panelIds(principal(["VIEW_DASHBOARD", "VIEW_CIRCUIT_BREAKER", "VIEW_AUDIT"]))).toEqual([
      "breaker",
      "breakwater",
      "audit"
    ])
    expect(await panelIds(principal(["VIEW_DASHBOARD"]))).toEqual(["breakwater"])
    expect(
      await panelIds(principal(["VIEW_DASHBOARD", "VIEW_CIRCUIT_BREAKER"]), { FEATURE_CIRCUIT_BREAKER: "false" })
    ).toEqual(["breakwater"])
  })

  it("refuses two panels with one id", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.flatMap(parts(), (c) =>
        c.addPanels("other", [{ id: "audit", order: 1, permissions: [], render: Effect.succeed(undefined) }])
      )
    )
    expect(JSON.stringify(exit)).toContain("dashboard panel audit is declared by both system and other")
  })

  it("follows the breaker's own stream when the event stream is not allowed", () => {
    expect(liveStreamFor(principal(["VIEW_CIRCUIT_BREAKER"]))).toBe("/api/v1/breaker/stream")
  })
})
