/**
 * The live console in a real headless Chromium against the whole application on real PostgreSQL
 * and Redis: the dashboard shows every breaker scope first and large; the navigation's badge, the
 * title and the favicon carry the global state on every page; a trip made in another browser turns
 * them red without a reload; the quiet period says trading is allowed; a refused reset keeps the
 * text and says when to retry; a trip from the dashboard takes one step, even from a page loaded
 * before the session was renewed or ended; scopes are added from the console; and when the server
 * is stopped every display says UNKNOWN — treat as halted, and recovers when it is back. Saves
 * screenshots of the dashboard and the breaker page at desktop and phone sizes.
 */
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { browserSkipReason, type OpenBrowser, openBrowser, SCREENSHOTS, signInAs } from "../support/browser.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { freePort } from "../support/processes.ts"
import { createUser, loginAsAdmin, type TestSession, testAdmin } from "../support/session.ts"

const skipReason = browserSkipReason()

const operator = { email: "olga@test.local", password: "olga-password-1234", name: "Olga" } as const
const TRIP_REASON = "venue gateway rejects every order since 02:58"
const RESET_REASON = "gateway sessions renewed and the desk confirmed fills"
/** A change reaches another page over the event stream in well under a second; CI is slow. */
const LIVE = { timeout: 10_000 }
/** The staleness limit this file sets (seconds), so the UNKNOWN test does not wait 5 s. */
const STALENESS = 2

// Two browsers, a server stopped and started again, screenshots: generous on a loaded machine.
describe.skipIf(skipReason !== undefined)("live console in Chromium", { timeout: 90_000 }, () => {
  let stores: TestStores
  let port: number
  let app: Awaited<ReturnType<typeof startAppPromise>> | undefined
  let admin: OpenBrowser
  let other: OpenBrowser
  let adminApi: TestSession
  const pageErrors: Array<string> = []

  const baseUrl = () => `http://127.0.0.1:${port}`
  const start = async () => {
    app = await startAppPromise(testEnv(stores, { PORT: String(port), SHUTDOWN_GRACE_SECONDS: "1" }))
  }
  const api = (session: TestSession, method: string, path: string, body: unknown) =>
    session.fetch(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

  const signIn = (page: Page, email: string, password: string, next = "/") =>
    signInAs(page, baseUrl(), { email, password }, next)
  /** htmx is loaded and the page's live stream is open. */
  const waitLive = async (page: Page) => {
    await page.waitForFunction(() => document.documentElement.dataset.htmx === "ready", undefined, LIVE)
    await page.waitForFunction(() => document.documentElement.dataset.live === "open", undefined, LIVE)
  }

  const badge = (page: Page) => page.locator("#breaker-badge")
  const tile = (page: Page, scope: string) => page.locator(`#tile-${scope}`)
  const favicon = (page: Page) => page.locator("#favicon").getAttribute("href")
  const visibleText = (page: Page, selector: string) =>
    page.locator(selector).evaluate((el) => (el instanceof HTMLElement ? el.innerText.replace(/\s+/g, " ").trim() : ""))

  const submitForm = async (page: Page, form: string, reason: string | undefined) => {
    if (reason !== undefined) await page.locator(`#${form}-reason`).fill(reason)
    await page.locator(`#${form}-acknowledge`).check()
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname.startsWith("/breaker/")),
      page.locator(`#${form} button[type="submit"]`).click()
    ])
    return response
  }

  /** No horizontal scrolling: the page is no wider than the window. */
  const expectNoSideways = async (page: Page, what: string) => {
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      window: window.innerWidth
    }))
    expect(widths.page, `${what}: ${widths.page}px wide in a ${widths.window}px window`).toBeLessThanOrEqual(
      widths.window
    )
  }

  const screenshots = async (name: string, path: string) => {
    await mkdir(SCREENSHOTS, { recursive: true })
    const page = await admin.context.newPage()
    try {
      for (const [width, height] of [
        [1280, 800],
        [390, 844]
      ] as const) {
        await page.emulateMedia({ colorScheme: "light" })
        await page.setViewportSize({ width, height })
        await page.goto(`${baseUrl()}${path}`)
        await waitLive(page)
        // The refresh every (re)connection makes has landed: the page is quiet.
        await page.waitForLoadState("networkidle")
        await expectNoSideways(page, `${path} at ${width}px`)
        // What an operator sees at a glance, and the whole page.
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}x${height}.png`) })
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}x${height}-full.png`), fullPage: true })
        // And in dark mode (Pico follows the system's colour scheme).
        await page.emulateMedia({ colorScheme: "dark" })
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}x${height}-dark.png`) })
      }
    } finally {
      await page.close()
    }
  }

  beforeAll(async () => {
    stores = await createTestStores()
    port = await freePort()
    await start()
    if (app === undefined) throw new Error("the app did not start")
    await createUser(app, { ...operator, role: "operator" })
    adminApi = await loginAsAdmin(baseUrl())
    for (const scope of ["venue-a", "venue-b"]) {
      const created = await api(adminApi, "POST", "/api/v1/breaker/scopes", { scope })
      expect(created.status, await created.clone().text()).toBe(201)
    }
    const limit = await api(adminApi, "PUT", "/api/v1/settings/console.staleness_seconds", {
      value: STALENESS,
      password: testAdmin.password
    })
    expect(limit.status, await limit.clone().text()).toBe(200)
    admin = await openBrowser()
    other = await openBrowser()
    admin.context.on("page", (p) => p.on("pageerror", (e) => pageErrors.push(`admin: ${e.message}`)))
    admin.page.on("pageerror", (e) => pageErrors.push(`admin: ${e.message}`))
    other.page.on("pageerror", (e) => pageErrors.push(`other: ${e.message}`))
    await signIn(admin.page, testAdmin.email, testAdmin.password)
    await signIn(other.page, operator.email, operator.password, "/breaker")
  })
  afterAll(async () => {
    await admin?.close()
    await other?.close()
    await app?.stop()
  })

  it("puts every scope first on the dashboard, and the state in the badge, the title and the favicon", async () => {
    const { page } = admin
    await waitLive(page)
    expect(await page.locator("body").getAttribute("data-staleness-seconds")).toBe(String(STALENESS))
    // The breaker comes before anything else on the page.
    const order = await page.evaluate(() =>
      Array.from(document.querySelectorAll("main section[id], main div[id]"), (e) => e.id)
    )
    expect(order.indexOf("breaker-summary-console")).toBeLessThan(order.indexOf("dashboard-breakwater"))
    expect(order.indexOf("dashboard-breakwater")).toBeLessThan(order.indexOf("dashboard-audit"))
    for (const scope of ["global", "venue-a", "venue-b"]) {
      expect(await tile(page, scope).getAttribute("data-effective-state")).toBe("OPEN")
      expect(await tile(page, scope).locator('[data-field="headline"]').textContent()).toBe("TRADING ALLOWED")
    }
    expect(await badge(page).getAttribute("data-state")).toBe("OPEN")
    expect(await visibleText(page, "#breaker-badge")).toBe("Breaker OPEN")
    expect(await badge(page).getAttribute("href")).toBe("/breaker")
    expect(await page.title()).toBe("OPEN · Dashboard · Breakwater")
    expect(await favicon(page)).toBe("/assets/favicon-open.svg")
    expect((await page.request.get(`${baseUrl()}/assets/favicon-open.svg`)).headers()["content-type"]).toContain(
      "image/svg+xml"
    )
    // Breakwater's own readiness no longer reads as the trading state.
    expect(await visibleText(page, "#dashboard-status p")).toContain("Breakwater's own readiness (not the breaker)")
    // The badge is on every page, e.g. About.
    await page.goto(`${baseUrl()}/about`)
    expect(await badge(page).getAttribute("data-state")).toBe("OPEN")
    expect(await page.title()).toBe("OPEN · About · Breakwater")
    await page.goto(`${baseUrl()}/`)
    await waitLive(page)
  })

  it("turns the dashboard, the badge, the title and the favicon red on a trip made in another browser", async () => {
    await waitLive(other.page)
    const response = await submitForm(other.page, "trip-global", TRIP_REASON)
    expect(response.status()).toBe(200)
    const { page } = admin
    await expect.poll(() => tile(page, "global").getAttribute("data-effective-state"), LIVE).toBe("TRIPPED")
    expect(await tile(page, "global").locator('[data-field="headline"]').textContent()).toBe("TRADING HALTED")
    expect(await tile(page, "global").locator('[data-field="trip-reason"]').textContent()).toBe(TRIP_REASON)
    // Every scope is halted while global is tripped.
    expect(await tile(page, "venue-a").locator('[data-field="headline"]').textContent()).toBe("TRADING HALTED")
    await expect.poll(() => badge(page).getAttribute("data-state"), LIVE).toBe("HALTED")
    expect(await visibleText(page, "#breaker-badge")).toBe("Breaker HALTED")
    expect(await badge(page).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(197, 48, 48)")
    await expect.poll(() => page.title(), LIVE).toBe("HALTED · Dashboard · Breakwater")
    expect(await favicon(page)).toBe("/assets/favicon-halted.svg")
    // The latest audit entries follow too.
    await expect
      .poll(() => page.locator('#dashboard-audit li[data-action="breaker.trip"]').count(), LIVE)
      .toBeGreaterThan(0)
    await screenshots("dashboard-halted", "/")
  })

  it("says in words that trading is allowed in the quiet period, with a countdown that ticks", async () => {
    const reset = await api(adminApi, "POST", "/api/v1/breaker/global/reset", {
      reason: RESET_REASON,
      acknowledge: true,
      password: testAdmin.password
    })
    expect(reset.status, await reset.clone().text()).toBe(200)
    const { page } = admin
    const global = tile(page, "global")
    await expect.poll(() => global.getAttribute("data-effective-state"), LIVE).toBe("QUIET_PERIOD")
    expect(await global.locator('[data-field="headline"]').textContent()).toBe("QUIET PERIOD")
    const trading = global.locator('[data-field="trading"]')
    expect(await trading.textContent()).toMatch(/^Trading allowed · fully OPEN in \d+m \d+s$/)
    await expect.poll(() => badge(page).getAttribute("data-state"), LIVE).toBe("QUIET")
    expect(await visibleText(page, "#breaker-badge")).toBe("Breaker QUIET")
    expect(await page.title()).toBe("QUIET · Dashboard · Breakwater")
    expect(await favicon(page)).toBe("/assets/favicon-quiet.svg")
    const before = await trading.textContent()
    await expect.poll(() => trading.textContent(), { timeout: 3_000 }).not.toBe(before)
  })

  it("trips from the dashboard in one step: reason and acknowledgement, no password", async () => {
    const { page } = admin
    await page.locator("#trip-details-venue-b > summary").click()
    expect(await page.locator("#trip-venue-b input[type=password]").count()).toBe(0)
    const response = await submitForm(page, "trip-venue-b", TRIP_REASON)
    expect(response.status()).toBe(200)
    await expect.poll(() => tile(page, "venue-b").getAttribute("data-state"), LIVE).toBe("TRIPPED")
    expect(await page.locator('#breaker-summary-console [data-field="notice"]').textContent()).toBe(
      "venue-b tripped: trading is halted."
    )
    expect(await tile(page, "venue-b").locator('[data-field="headline"]').textContent()).toBe("TRADING HALTED")
  })

  it("keeps every state's text at 4.5:1 contrast or more, in light and dark mode", async () => {
    const { page } = admin
    // global is QUIET_PERIOD, venue-a OPEN, venue-b TRIPPED: one tile of each solid colour.
    expect(await tile(page, "global").getAttribute("data-effective-state")).toBe("QUIET_PERIOD")
    expect(await tile(page, "venue-a").getAttribute("data-effective-state")).toBe("OPEN")
    expect(await tile(page, "venue-b").getAttribute("data-effective-state")).toBe("TRIPPED")
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme })
      // Pico eases colour changes (0.2 s): measure the colours arrived at.
      await page.waitForTimeout(500)
      const ratios = await page.evaluate(() => {
        const rgb = (value: string) => (value.match(/[\d.]+/g) ?? []).map(Number)
        const luminance = ([r = 0, g = 0, b = 0]: ReadonlyArray<number>) => {
          const [x, y, z] = [r, g, b].map((c) => {
            const v = c / 255
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4
          })
          return 0.2126 * (x ?? 0) + 0.7152 * (y ?? 0) + 0.0722 * (z ?? 0)
        }
        /** The first solid background behind an element. */
        const background = (element: Element): string => {
          for (let e: Element | null = element; e !== null; e = e.parentElement) {
            const color = getComputedStyle(e).backgroundColor
            const parts = rgb(color)
            if (parts.length === 3 || (parts[3] ?? 0) === 1) return color
          }
          return "rgb(255, 255, 255)"
        }
        const selectors = [
          "#breaker-badge strong[data-when=fresh]",
          "#breaker-badge .breaker-badge-name",
          "#tile-global .breaker-headline[data-when=fresh]",
          "#tile-global .breaker-trading",
          "#tile-venue-a .breaker-headline[data-when=fresh]",
          "#tile-venue-a .breaker-state-name",
          "#tile-venue-b .breaker-headline[data-when=fresh]",
          "#tile-venue-a details.breaker-trip-details > summary",
          "#dashboard-status .status"
        ]
        return selectors.map((selector) => {
          const element = document.querySelector(selector)
          if (element === null) return { selector, ratio: 0 }
          const [a, b] = [luminance(rgb(getComputedStyle(element).color)), luminance(rgb(background(element)))]
          return { selector, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) }
        })
      })
      for (const { selector, ratio } of ratios)
        expect(ratio, `${scheme}: ${selector} at ${ratio.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5)
    }
    await page.emulateMedia({ colorScheme: "light" })
  })

  it("keeps the form and sends it on the first click from a page loaded before the session was renewed", async () => {
    const { page } = admin
    await page.goto(`${baseUrl()}/`)
    await waitLive(page)
    const before = await page.evaluate(() => document.body.getAttribute("hx-headers:inherited"))
    // Signed out and in again in another tab: a new session (a new token) for this browser.
    await admin.context.clearCookies()
    const tab = await admin.context.newPage()
    await signIn(tab, testAdmin.email, testAdmin.password)
    await tab.close()
    await page.locator("#trip-details-venue-a > summary").click()
    const posts: Array<number> = []
    page.on("response", (r) => {
      if (r.request().method() === "POST") posts.push(r.status())
    })
    await page.locator("#trip-venue-a-reason").fill(TRIP_REASON)
    await page.locator("#trip-venue-a-acknowledge").check()
    await page.locator("#trip-venue-a button[type=submit]").click()
    await expect.poll(() => tile(page, "venue-a").getAttribute("data-state"), LIVE).toBe("TRIPPED")
    // The stale token was refused once, then the form went again with the current one, unseen.
    expect(posts).toEqual([403, 200])
    expect(await page.evaluate(() => document.body.getAttribute("hx-headers:inherited"))).not.toBe(before)
    expect(await page.locator('[data-field="client-error"]').count()).toBe(0)
  })

  it("keeps the form and says how to go on when the sign-in has ended", async () => {
    const { page } = admin
    await page.goto(`${baseUrl()}/`)
    await waitLive(page)
    const reset = await api(adminApi, "POST", "/api/v1/breaker/venue-b/reset", {
      reason: RESET_REASON,
      acknowledge: true,
      password: testAdmin.password
    })
    expect(reset.status, await reset.clone().text()).toBe(200)
    await expect.poll(() => page.locator("#trip-details-venue-b").count(), LIVE).toBe(1)
    await page.locator("#trip-details-venue-b > summary").click()
    await page.locator("#trip-venue-b-reason").fill(TRIP_REASON)
    await page.locator("#trip-venue-b-acknowledge").check()
    // Signed out elsewhere (the cookie is gone): the click is answered 401.
    await admin.context.clearCookies()
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.locator("#trip-venue-b button[type=submit]").click()
    ])
    expect(refused.status()).toBe(401)
    const error = page.locator('#trip-venue-b [data-field="client-error"]')
    await expect.poll(() => error.count(), LIVE).toBe(1)
    expect(await error.textContent()).toContain("Your sign-in has ended")
    expect(page.url()).toBe(`${baseUrl()}/`)
    expect(await page.locator("#trip-venue-b-reason").inputValue()).toBe(TRIP_REASON)
    // Signed in again (in another tab): the same click now goes through.
    const tab = await admin.context.newPage()
    await signIn(tab, testAdmin.email, testAdmin.password)
    await tab.close()
    await page.locator("#trip-venue-b button[type=submit]").click()
    await expect.poll(() => tile(page, "venue-b").getAttribute("data-state"), LIVE).toBe("TRIPPED")
  })

  it("refuses a reset made too soon with the retry time, keeping the text and the button disabled", async () => {
    const { page } = admin
    await page.goto(`${baseUrl()}/breaker`)
    await waitLive(page)
    // venue-b was reset less than a minute ago and tripped again: the page already says so.
    const button = page.locator("#reset-venue-b button[type=submit]")
    expect(await button.isDisabled()).toBe(true)
    const wait = page.locator('#reset-venue-b [data-field="reset-wait"]')
    expect(await wait.textContent()).toMatch(/next reset is possible in \d+s\.$/)
    const before = await wait.textContent()
    await expect.poll(() => wait.textContent(), { timeout: 3_000 }).not.toBe(before)
    // A page whose button was enabled anyway (say, by a clock that ran early) is refused by the server.
    await page.locator("#reset-venue-b-reason").fill(RESET_REASON)
    await page.locator("#reset-venue-b-acknowledge").check()
    await button.evaluate((el) => {
      if (el instanceof HTMLButtonElement) el.disabled = false
    })
    const [refused] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), button.click()])
    expect(refused.status()).toBe(429)
    expect(Number(refused.headers()["retry-after"])).toBeGreaterThan(0)
    const error = page.locator("#reset-venue-b-error")
    await expect.poll(() => error.count(), LIVE).toBe(1)
    expect(await error.textContent()).toMatch(/You can try again in \d+s \(at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/)
    expect(await page.locator("#reset-venue-b-reason").inputValue()).toBe(RESET_REASON)
    expect(await page.locator("#reset-venue-b button[type=submit]").isDisabled()).toBe(true)
    // The button comes back by itself when its wait is over (here: shortened).
    await page.locator("#reset-venue-b button[type=submit]").evaluate((el) => el.setAttribute("data-retry-in", "300"))
    await expect.poll(() => page.locator("#reset-venue-b button[type=submit]").isDisabled(), LIVE).toBe(false)
  })

  it("adds a scope from the breaker page, refusing a bad name inline", async () => {
    const { page } = admin
    await page.locator("#breaker-create > summary").click()
    const name = page.locator("#create-scope-name")
    await name.fill("Venue C!")
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.locator("#create-scope button[type=submit]").click()
    ])
    expect(bad.status()).toBe(400)
    await expect.poll(() => page.locator("#create-scope-error").count(), LIVE).toBe(1)
    expect(await page.locator("#create-scope-error").textContent()).toContain("1 to 63 characters")
    // Typed in lower case as the user typed, and kept.
    expect(await page.locator("#create-scope-name").inputValue()).toBe("venue c!")
    await page.locator("#create-scope-name").fill("venue-c")
    const [added] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.locator("#create-scope button[type=submit]").click()
    ])
    expect(added.status()).toBe(200)
    await expect.poll(() => page.locator("#scope-venue-c").count(), LIVE).toBe(1)
    expect(await page.locator('[data-field="notice"]').textContent()).toBe("Scope venue-c added: it is OPEN.")
    // Another browser's dashboard shows it without a reload.
    await other.page.goto(`${baseUrl()}/`)
    await waitLive(other.page)
    expect(await tile(other.page, "venue-c").count()).toBe(1)
    await screenshots("breaker", "/breaker")
    await screenshots("dashboard", "/")
  })

  it("says UNKNOWN — treat as halted everywhere when the server stops, and recovers when it is back", async () => {
    const { page } = admin
    await page.goto(`${baseUrl()}/breaker`)
    await waitLive(page)
    await waitLive(other.page)
    // global is in its quiet period (trading allowed) since the reset above.
    expect(await badge(page).getAttribute("data-state")).toBe("QUIET")
    await app?.stop()
    app = undefined
    for (const p of [page, other.page]) {
      await p.waitForFunction(() => document.documentElement.dataset.live === "stale", undefined, LIVE)
      expect(await visibleText(p, "#breaker-badge")).toBe("Breaker UNKNOWN — treat as halted")
      expect(await p.title()).toMatch(/^UNKNOWN · /)
      expect(await favicon(p)).toBe("/assets/favicon-unknown.svg")
    }
    // The breaker page: each card's banner, and the indicator says why.
    const global = page.locator("#scope-global .breaker-state")
    expect(await global.evaluate((el) => (el instanceof HTMLElement ? el.innerText : ""))).toContain(
      "UNKNOWN — treat as halted"
    )
    expect(await page.locator('#scope-global [data-field="headline"]').isVisible()).toBe(false)
    expect(await page.locator("#breaker-live").getAttribute("data-live")).toBe("stale")
    // The dashboard: every tile.
    for (const scope of ["global", "venue-a", "venue-b", "venue-c"])
      expect(await visibleText(other.page, `#tile-${scope} .breaker-state`)).toContain("UNKNOWN — treat as halted")
    // "Last confirmed … ago" keeps ticking.
    const since = page.locator("#breaker-live .live-since")
    const first = await since.textContent()
    expect(first).toMatch(/^Last confirmed \d\d:\d\d:\d\d UTC, \d+s ago\.$/)
    await expect.poll(() => since.textContent(), { timeout: 3_000 }).not.toBe(first)
    await mkdir(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: join(SCREENSHOTS, "breaker-unknown-1280x720.png") })
    // A trip while the server is down is not lost silently: the form says so and keeps the text.
    await page.locator("#trip-venue-c-reason").fill(TRIP_REASON)
    await page.locator("#trip-venue-c-acknowledge").check()
    await page.locator("#trip-venue-c button[type=submit]").click()
    const unsent = page.locator('#trip-venue-c [data-field="client-error"]')
    await expect.poll(() => unsent.count(), LIVE).toBe(1)
    expect(await unsent.textContent()).toContain("Not sent: the server did not answer")
    expect(await page.locator("#trip-venue-c-reason").inputValue()).toBe(TRIP_REASON)
    // Back: the page reconnects by itself and shows the true state again.
    await start()
    for (const p of [page, other.page]) {
      await p.waitForFunction(() => document.documentElement.dataset.live === "open", undefined, { timeout: 20_000 })
      expect(await badge(p).getAttribute("data-state")).toBe("QUIET")
      expect(await visibleText(p, "#breaker-badge")).toBe("Breaker QUIET")
      expect(await p.title()).toMatch(/^QUIET · /)
    }
    expect(await page.locator('#scope-global [data-field="headline"]').isVisible()).toBe(true)
    expect(await visibleText(page, "#scope-venue-b .breaker-state")).toContain("TRADING HALTED")
    // The same form, sent again, goes through.
    const [sent] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.locator("#trip-venue-c button[type=submit]").click()
    ])
    expect(sent.status()).toBe(200)
    await expect.poll(() => page.locator("#scope-venue-c").getAttribute("data-state"), LIVE).toBe("TRIPPED")
  })

  it("raised no script error on any page", () => {
    expect(pageErrors).toEqual([])
  })
})
