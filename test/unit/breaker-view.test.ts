/**
 * The Circuit Breaker view as a pure function: user text is escaped, a state that cannot be read is
 * shown as halted, a scope halted by `global` says so, and the forms appear only for the
 * permissions that allow them (with the password field when the sign-in is old).
 */
import { describe, expect, it } from "vitest"
import type { BreakerView, ResetRequest, Transition } from "../../src/core/contracts/circuit-breaker/model.ts"
import { type BreakerPanelData, breakerPage, breakerPanel } from "../../src/plugins/circuit-breaker/page.ts"
import { NOW, view } from "../support/breaker-views.ts"

const tripped = (overrides: Partial<BreakerView> = {}) =>
  view({
    state: "TRIPPED",
    effective_state: "TRIPPED",
    trading_allowed: false,
    halted_by: "global",
    tripped_at: "2026-03-02T11:30:00.000Z",
    trip_reason: "venue feed is returning stale prices",
    tripped_by: { type: "user", id: "u1", name: "Ada" },
    trip_source: "manual",
    trip_count_today: 1,
    ...overrides
  })

const data = (overrides: Partial<BreakerPanelData> = {}): BreakerPanelData => ({
  scopes: [view()],
  history: [],
  historyError: undefined,
  pending: [],
  pendingError: undefined,
  settings: { quiet_period_seconds: 300, reset_approvals: 1 },
  canTrip: true,
  canReset: true,
  passwordNeeded: false,
  csrfToken: "tok",
  personId: "u1",
  now: NOW,
  problem: undefined,
  ...overrides
})

/** The text of one scope's state panel, tags stripped. */
const stateText = (markup: string, scope: string) => {
  const card = markup.split(`id="scope-${scope}"`)[1] ?? ""
  const panel = /<div class="breaker-state"[^>]*>([\s\S]*?)<\/div>/.exec(card)?.[1] ?? ""
  return panel
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim()
}

describe("circuit breaker view", () => {
  it("escapes a reason, a name and history text that hold markup", () => {
    const evil = `<script>alert("x")</script> and enough characters`
    const transition: Transition = {
      id: "t1",
      scope: "global",
      kind: "trip",
      from_state: "OPEN",
      to_state: "TRIPPED",
      version: 4,
      source: "manual",
      actor: { type: "user", id: "u2", name: "<img src=x onerror=alert(1)>" },
      reason: evil,
      details: {},
      at: "2026-03-02T11:30:00.000Z"
    }
    const markup = breakerPanel(
      data({
        scopes: [tripped({ trip_reason: evil, tripped_by: { type: "user", id: "u2", name: "<b>Eve</b>" } })],
        history: [transition]
      })
    ).value
    expect(markup).not.toContain("<script>")
    expect(markup).not.toContain("<img")
    expect(markup).not.toContain("<b>Eve")
    expect(markup).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
    expect(markup).toContain("&lt;b&gt;Eve&lt;/b&gt;")
  })

  it("gives back the typed reason of a refused form escaped, never as markup", () => {
    const markup = breakerPanel(
      data({
        problem: {
          scope: "global",
          action: "trip",
          message: "invalid request: reason: must be at least 20 characters",
          issues: [{ path: "reason", message: "must be at least 20 characters" }],
          reason: "</textarea><script>x()</script>",
          passwordNeeded: false
        }
      })
    ).value
    expect(markup).toContain("&lt;/textarea&gt;&lt;script&gt;x()&lt;/script&gt;</textarea>")
    expect(markup).toMatch(/id="trip-global-reason"[^>]*aria-invalid="true"/)
    expect(markup).toContain('role="alert"')
  })

  it("still says why a form was refused when its scope is not on the page", () => {
    const markup = breakerPanel(
      data({
        problem: {
          scope: "gone",
          action: "trip",
          message: "no breaker scope named gone",
          issues: [],
          reason: "",
          passwordNeeded: false
        }
      })
    ).value
    expect(markup).toMatch(/id="breaker-error"[\s\S]*no breaker scope named gone/)
  })

  it("shows UNKNOWN as halted, with the warning to treat it as tripped", () => {
    const markup = breakerPanel(
      data({
        scopes: [
          view({
            state: "UNKNOWN",
            effective_state: "UNKNOWN",
            trading_allowed: false,
            version: null,
            warning: "PostgreSQL and Redis cannot be read"
          })
        ]
      })
    ).value
    expect(stateText(markup, "global")).toContain("TRADING HALTED")
    expect(stateText(markup, "global")).toContain("UNKNOWN")
    expect(stateText(markup, "global")).toContain("State unknown — treat as tripped")
    expect(markup).not.toContain("TRADING ALLOWED")
    expect(markup).toContain("PostgreSQL and Redis cannot be read")
    expect(markup).toContain('class="breaker-scope tone-unknown"')
  })

  it("shows halted whenever trading is not allowed, whatever the state word says", () => {
    const markup = breakerPanel(data({ scopes: [view({ trading_allowed: false })] })).value
    expect(stateText(markup, "global")).toContain("TRADING HALTED")
  })

  it("shows OPEN as trading allowed, TRIPPED with who, when and why, QUIET_PERIOD with its end", () => {
    const markup = breakerPanel(
      data({
        scopes: [
          tripped(),
          view({ scope: "venue-a" }),
          view({
            scope: "venue-b",
            state: "QUIET_PERIOD",
            effective_state: "QUIET_PERIOD",
            quiet_until: "2026-03-02T12:04:30.000Z"
          })
        ]
      })
    ).value
    expect(stateText(markup, "global")).toContain("TRADING HALTED")
    expect(markup).toContain("venue feed is returning stale prices")
    expect(markup).toContain("Ada")
    expect(markup).toContain("2026-03-02 11:30:00 UTC")
    expect(stateText(markup, "venue-a")).toContain("TRADING ALLOWED")
    expect(stateText(markup, "venue-b")).toContain("QUIET PERIOD")
    expect(stateText(markup, "venue-b")).toContain("2026-03-02 12:04:30 UTC (in 4m 30s)")
  })

  it("says when a scope is halted by global", () => {
    const markup = breakerPanel(
      data({
        scopes: [
          tripped(),
          view({ scope: "venue-a", effective_state: "TRIPPED", trading_allowed: false, halted_by: "global" })
        ]
      })
    ).value
    expect(stateText(markup, "venue-a")).toContain("TRADING HALTED")
    expect(stateText(markup, "venue-a")).toContain("Halted by the global breaker")
    expect(stateText(markup, "global")).not.toContain("Halted by the")
  })

  it("offers trip on an open scope and reset on a tripped one, only with the permissions", () => {
    const both = breakerPanel(data({ scopes: [tripped(), view({ scope: "venue-a" })] })).value
    expect(both).toContain('action="/breaker/global/reset"')
    expect(both).not.toContain('action="/breaker/global/trip"')
    expect(both).toContain('action="/breaker/venue-a/trip"')
    expect(both).toMatch(/name="reason"[^>]*required minlength="20"/)
    expect(both).toMatch(/type="checkbox"[^>]*name="acknowledge" required/)
    expect(both).toContain('name="_csrf" value="tok"')
    expect(both).not.toContain('type="password"')
    const viewer = breakerPanel(
      data({ scopes: [tripped(), view({ scope: "venue-a" })], canTrip: false, canReset: false })
    ).value
    expect(viewer).not.toContain("<form")
  })

  it("asks for the password to reset when the sign-in is old, never to trip", () => {
    const open = breakerPanel(data({ passwordNeeded: true })).value
    expect(open).toContain('id="trip-global"')
    expect(open).not.toContain('name="password"')
    const halted = breakerPanel(data({ passwordNeeded: true, scopes: [tripped()] })).value
    expect(halted).toMatch(/type="password" id="reset-global-password" name="password" required/)
    expect(halted).not.toContain('id="trip-global-password"')
  })

  it("lists pending approvals with Approve for another operator's request only", () => {
    const request = (id: string, by: string): ResetRequest => ({
      id,
      scope: "global",
      base_version: 4,
      requested_by: { type: "user", id: by, name: by },
      reason: "the venue confirmed prices are fresh again",
      requested_at: "2026-03-02T11:50:00.000Z",
      expires_at: "2026-03-02T12:05:00.000Z",
      status: "pending",
      approved_by: null,
      approved_at: null
    })
    // r3: requested with an API key of u1's, which acts as u1.
    const byKey: ResetRequest = {
      ...request("r3", "k1"),
      requested_by: { type: "api_key", id: "k1", name: "desk (key of u1)", person: "u1" }
    }
    const markup = breakerPanel(
      data({ scopes: [tripped()], pending: [request("r1", "u2"), request("r2", "u1"), byKey], personId: "u1" })
    ).value
    expect(markup).toContain('action="/breaker/global/approvals/r1/approve"')
    expect(markup).not.toContain('action="/breaker/global/approvals/r2/approve"')
    expect(markup).not.toContain('action="/breaker/global/approvals/r3/approve"')
    expect(markup).toContain("Your request: another operator must approve it.")
  })

  it("wires the page to the event stream and the panel to refresh itself", () => {
    const markup = breakerPage({
      ...data(),
      notice: undefined,
      streamUrl: "/api/v1/breaker/stream",
      assets: { css: "/assets/breaker.css?v=1", js: "/assets/breaker.js?v=1" }
    }).value
    expect(markup).toContain('data-stream="/api/v1/breaker/stream"')
    expect(markup).toContain('hx-trigger="breaker-changed from:body"')
    expect(markup).toContain('<script src="/assets/breaker.js?v=1" defer></script>')
    expect(markup).toMatch(/class="breaker-state" role="status" aria-live="polite"/)
  })
})
