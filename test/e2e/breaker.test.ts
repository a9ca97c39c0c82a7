/**
 * The Circuit Breaker page in a real headless Chromium against the whole application on real
 * PostgreSQL and Redis: an administrator trips and resets from the console and sees the state
 * change in place; changes made elsewhere (another operator's browser, the JSON API, a four-eyes
 * request) reach the open page over server-sent events without a reload; an old sign-in is asked
 * for the password; a viewer sees the states but no forms.
 */
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { browserSkipReason, type OpenBrowser, openBrowser, signInAs } from "../support/browser.ts"
import { createUser, login, loginAsAdmin, type TestSession, testAdmin } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const skipReason = browserSkipReason()

const operator = { email: "otto@test.local", password: "otto-password-1234", name: "Otto" } as const
const viewer = { email: "vera@test.local", password: "vera-password-1234", name: "Vera" } as const

const TRIP_REASON = "exchange gateway rejects orders with stale sessions"
const RESET_REASON = "gateway sessions renewed and order flow verified by the desk"
/** How long a change may take to reach another page over SSE (it is sub-second; CI is slow). */
const LIVE = { timeout: 10_000 }

describe.skipIf(skipReason !== undefined)("circuit breaker console in Chromium", () => {
  const testApp = useTestApp()
  let admin: OpenBrowser
  let other: OpenBrowser
  let adminApi: TestSession
  const pageErrors: Array<string> = []
  /** Documents the admin page loaded since it opened /breaker: a reload or a navigation would count. */
  let navigations = 0

  const api = (session: TestSession, method: string, path: string, body: unknown) =>
    session.fetch(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

  const signIn = (page: Page, email: string, password: string) =>
    signInAs(page, testApp.app.baseUrl, { email, password }, "/breaker")

  /** Waits until htmx is loaded and the page's event stream is connected. */
  const waitLive = async (page: Page) => {
    await page.waitForFunction(() => document.documentElement.dataset.htmx === "ready", undefined, LIVE)
    await page.waitForSelector('#breaker-live[data-live="open"]', LIVE)
  }

  const card = (page: Page, scope: string) => page.locator(`#scope-${scope}`)
  const stateOf = (page: Page, scope: string) => card(page, scope).getAttribute("data-state")
  const headlineOf = (page: Page, scope: string) => card(page, scope).locator('[data-field="headline"]').textContent()

  /** The page was neither reloaded nor navigated since the marker was set. */
  const expectSamePage = async (page: Page) => {
    expect(await page.evaluate(() => (window as unknown as { breakerMarker?: string }).breakerMarker)).toBe("kept")
    expect(navigations).toBe(0)
  }

  /** Fills and submits a trip or reset form; answers the htmx post's response. */
  const submit = async (page: Page, form: string, reason: string | undefined, password?: string) => {
    if (reason !== undefined) await page.locator(`#${form}-reason`).fill(reason)
    await page.locator(`#${form}-acknowledge`).check()
    if (password !== undefined) await page.locator(`#${form}-password`).fill(password)
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.startsWith("/breaker/")),
      page.locator(`#${form} button[type="submit"]`).click()
    ])
    return response
  }

  beforeAll(async () => {
    const { app } = testApp
    await createUser(app, { ...operator, role: "operator" })
    await createUser(app, { ...viewer, role: "viewer" })
    adminApi = await loginAsAdmin(app.baseUrl)
    for (const scope of ["venue-a", "venue-b"]) {
      const created = await api(adminApi, "POST", "/api/v1/breaker/scopes", { scope })
      expect(created.status, await created.clone().text()).toBe(201)
    }
    admin = await openBrowser()
    other = await openBrowser()
    admin.page.on("pageerror", (error) => pageErrors.push(`admin: ${error.message}`))
    other.page.on("pageerror", (error) => pageErrors.push(`other: ${error.message}`))
    await signIn(admin.page, testAdmin.email, testAdmin.password)
  })
  afterAll(async () => {
    await admin?.close()
    await other?.close()
  })

  it("shows every scope OPEN with trading allowed, and connects to live updates", async () => {
    const { page } = admin
    await waitLive(page)
    expect(await page.title()).toContain("Circuit Breaker · Breakwater")
    const nav = page.getByRole("navigation", { name: "Main" })
    expect(await nav.getByRole("link", { name: "Circuit Breaker" }).getAttribute("aria-current")).toBe("page")
    for (const scope of ["global", "venue-a", "venue-b"]) {
      expect(await stateOf(page, scope)).toBe("OPEN")
      expect(await headlineOf(page, scope)).toBe("TRADING ALLOWED")
    }
    expect(await card(page, "global").locator('[role="status"]').count()).toBe(1)
    // From here on, any reload or navigation of this page would be noticed.
    await page.evaluate(() => {
      ;(window as unknown as { breakerMarker: string }).breakerMarker = "kept"
    })
    // Document loads only: htmx's own history bookkeeping (replaceState) is not a navigation.
    page.on("load", () => navigations++)
  })

  it("trips global from the form and shows TRIPPED in place, with who and why", async () => {
    const { page } = admin
    const response = await submit(page, "trip-global", TRIP_REASON)
    expect(response.status()).toBe(200)
    await expect.poll(() => stateOf(page, "global"), LIVE).toBe("TRIPPED")
    expect(await headlineOf(page, "global")).toBe("TRADING HALTED")
    const global = card(page, "global")
    expect(await global.locator('[data-field="trip-reason"]').textContent()).toBe(TRIP_REASON)
    expect(await global.locator('[data-field="tripped-by"]').textContent()).toBe("Administrator")
    expect(await global.locator('[data-field="trip-source"]').textContent()).toBe("manual")
    expect(await page.locator('[data-field="notice"]').textContent()).toContain("global tripped")
    // A tripped global halts every scope, and the page says why.
    expect(await card(page, "venue-a").getAttribute("data-effective-state")).toBe("TRIPPED")
    expect(await headlineOf(page, "venue-a")).toBe("TRADING HALTED")
    expect(await card(page, "venue-a").locator('[data-field="note"]').textContent()).toContain(
      "Halted by the global breaker"
    )
    // The trip form gave way to the reset form; the history has the trip.
    expect(await page.locator("#trip-global").count()).toBe(0)
    expect(await page.locator("#reset-global").count()).toBe(1)
    await expect
      .poll(() => page.locator('#breaker-transitions tr[data-kind="trip"][data-scope="global"]').count(), LIVE)
      .toBe(1)
    await expectSamePage(page)
  })

  it("refuses a reason that is only spaces, next to the form, keeping the page", async () => {
    const { page } = admin
    const response = await submit(page, "trip-venue-a", " ".repeat(25))
    expect(response.status()).toBe(400)
    const error = page.locator("#trip-venue-a-error")
    await expect.poll(() => error.count(), LIVE).toBe(1)
    expect(await error.textContent()).toContain("at least 20 characters")
    expect(await page.locator("#trip-venue-a-reason").getAttribute("aria-invalid")).toBe("true")
    expect(await stateOf(page, "venue-a")).toBe("OPEN")
    await expectSamePage(page)
  })

  it("resets global from the console into its quiet period", async () => {
    const { page } = admin
    const response = await submit(page, "reset-global", RESET_REASON)
    expect(response.status()).toBe(200)
    await expect.poll(() => stateOf(page, "global"), LIVE).toBe("QUIET_PERIOD")
    expect(await headlineOf(page, "global")).toBe("QUIET PERIOD")
    expect(await card(page, "global").locator('[data-field="quiet-until"] time').count()).toBe(1)
    expect(await headlineOf(page, "venue-a")).toBe("TRADING ALLOWED")
    await expectSamePage(page)
  })

  it("shows another operator's trip from their own browser without a reload", async () => {
    await signIn(other.page, operator.email, operator.password)
    await waitLive(other.page)
    const response = await submit(other.page, "trip-venue-a", TRIP_REASON)
    expect(response.status()).toBe(200)
    const { page } = admin
    await expect.poll(() => stateOf(page, "venue-a"), LIVE).toBe("TRIPPED")
    expect(await headlineOf(page, "venue-a")).toBe("TRADING HALTED")
    expect(await card(page, "venue-a").locator('[data-field="tripped-by"]').textContent()).toBe("Otto")
    await expectSamePage(page)
  })

  it("shows a reset made through the JSON API without a reload, keeping what the user is typing", async () => {
    const { page } = admin
    const draft = "half-written reason for tripping global"
    await page.locator("#trip-global-reason").fill(draft)
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    const ops = await login(testApp.app.baseUrl, operator.email, operator.password)
    const response = await api(ops, "POST", "/api/v1/breaker/venue-a/reset", {
      reason: RESET_REASON,
      acknowledge: true
    })
    expect(response.status, await response.clone().text()).toBe(200)
    await expect.poll(() => stateOf(page, "venue-a"), LIVE).toBe("QUIET_PERIOD")
    expect(await headlineOf(page, "venue-a")).toBe("QUIET PERIOD")
    expect(await page.locator("#trip-global-reason").inputValue()).toBe(draft)
    await page.locator("#trip-global-reason").fill("")
    await expectSamePage(page)
  })

  it("four eyes: another operator's reset request appears live and is approved from the page", async () => {
    const settings = await api(adminApi, "PUT", "/api/v1/breaker/settings", { reset_approvals: 2 })
    expect(settings.status, await settings.clone().text()).toBe(200)
    try {
      const ops = await login(testApp.app.baseUrl, operator.email, operator.password)
      const trip = await api(ops, "POST", "/api/v1/breaker/venue-b/trip", { reason: TRIP_REASON, acknowledge: true })
      expect(trip.status, await trip.clone().text()).toBe(200)
      const { page } = admin
      await expect.poll(() => stateOf(page, "venue-b"), LIVE).toBe("TRIPPED")
      const request = await api(ops, "POST", "/api/v1/breaker/venue-b/reset", {
        reason: RESET_REASON,
        acknowledge: true
      })
      expect(request.status, await request.clone().text()).toBe(202)
      const row = page.locator('#breaker-pending tr[data-scope="venue-b"]')
      await expect.poll(() => row.count(), LIVE).toBe(1)
      expect(await stateOf(page, "venue-b")).toBe("TRIPPED")
      const id = await row.getAttribute("data-request")
      const response = await submit(page, `approve-${id}`, undefined)
      expect(response.status()).toBe(200)
      await expect.poll(() => stateOf(page, "venue-b"), LIVE).toBe("QUIET_PERIOD")
      expect(await row.count()).toBe(0)
      expect(await page.locator('[data-field="notice"]').textContent()).toContain("approved")
      await expectSamePage(page)
    } finally {
      await api(adminApi, "PUT", "/api/v1/breaker/settings", { reset_approvals: 1 })
    }
  })

  it("trips in one step with an old sign-in, and asks for the password to reset", async () => {
    await testApp.query(
      "UPDATE sessions SET authenticated_at = now() - interval '10 minutes' WHERE user_id = (SELECT id FROM users WHERE email = $1)",
      [testAdmin.email]
    )
    const { page } = admin
    // Halting is the safe direction: no password, however old the sign-in.
    const tripped = await submit(page, "trip-venue-a", TRIP_REASON)
    expect(tripped.status()).toBe(200)
    await expect.poll(() => stateOf(page, "venue-a"), LIVE).toBe("TRIPPED")
    expect(await page.locator('[id^="trip-"][id$="-password"]').count()).toBe(0)
    // A reset asks for it: a new scope (its creation needs the password too), tripped, then reset.
    const created = await api(adminApi, "POST", "/api/v1/breaker/scopes", {
      scope: "venue-c",
      password: testAdmin.password
    })
    expect(created.status, await created.clone().text()).toBe(201)
    await expect.poll(() => card(page, "venue-c").count(), LIVE).toBe(1)
    expect((await submit(page, "trip-venue-c", TRIP_REASON)).status()).toBe(200)
    await expect.poll(() => stateOf(page, "venue-c"), LIVE).toBe("TRIPPED")
    // Re-rendered since the sign-in aged: the reset form shows the field.
    await expect.poll(() => page.locator("#reset-venue-c-password").count(), LIVE).toBe(1)
    const wrong = await submit(page, "reset-venue-c", RESET_REASON, "not the password")
    expect(wrong.status()).toBe(403)
    await expect.poll(() => page.locator("#reset-venue-c-error").textContent(), LIVE).toContain("password is wrong")
    expect(await page.locator("#reset-venue-c-reason").inputValue()).toBe(RESET_REASON)
    const accepted = await submit(page, "reset-venue-c", undefined, testAdmin.password)
    expect(accepted.status()).toBe(200)
    await expect.poll(() => stateOf(page, "venue-c"), LIVE).toBe("QUIET_PERIOD")
    await expectSamePage(page)
  })

  it("shows a viewer every state, updated live, but no trip, reset or approve form", async () => {
    const { page } = other
    await other.context.clearCookies()
    await signIn(page, viewer.email, viewer.password)
    await waitLive(page)
    expect(await stateOf(page, "global")).toBe("QUIET_PERIOD")
    expect(await stateOf(page, "venue-a")).toBe("TRIPPED")
    expect(await headlineOf(page, "venue-a")).toBe("TRADING HALTED")
    expect(await page.locator("form[data-form]").count()).toBe(0)
    expect(await page.locator("textarea, input[type=checkbox]").count()).toBe(0)
    // The viewer's page follows a change like anyone's.
    const trip = await api(adminApi, "POST", "/api/v1/breaker/global/trip", {
      reason: TRIP_REASON,
      acknowledge: true,
      password: testAdmin.password
    })
    expect(trip.status, await trip.clone().text()).toBe(200)
    await expect.poll(() => stateOf(page, "global"), LIVE).toBe("TRIPPED")
    expect(await page.locator("form[data-form]").count()).toBe(0)
  })

  it("works without JavaScript: a post redirects to the page, a refusal answers the page with the message", async () => {
    const ops = await login(testApp.app.baseUrl, operator.email, operator.password)
    const short = await ops.postForm("/breaker/venue-b/trip", { reason: "too short", acknowledge: "on" })
    expect(short.status).toBe(400)
    const page = await short.text()
    expect(page).toContain("<h1>Circuit Breaker</h1>")
    expect(page).toMatch(/id="trip-venue-b-error"[\s\S]*at least 20 characters/)
    expect(page).toContain(">too short</textarea>")
    const unacknowledged = await ops.postForm("/breaker/venue-b/trip", { reason: TRIP_REASON })
    expect(unacknowledged.status).toBe(400)
    expect(await unacknowledged.text()).toContain("must be checked: acknowledge the consequences")
    const tripped = await ops.postForm("/breaker/venue-b/trip", { reason: TRIP_REASON, acknowledge: "on" })
    expect(tripped.status).toBe(303)
    expect(tripped.headers.get("location")).toBe("/breaker?notice=tripped&scope=venue-b")
    const after = await (await ops.fetch("/breaker?notice=tripped&scope=venue-b")).text()
    expect(after).toContain("venue-b tripped: trading is halted.")
    expect(after).toMatch(/id="scope-venue-b"[^>]*data-state="TRIPPED"/)
  })

  it("raised no script error on any page", () => {
    expect(pageErrors).toEqual([])
  })
})
