/**
 * Every console page, as an administrator sees it, at 1440 × 900 and 390 × 844, in light and dark
 * mode: no horizontal scrolling of the page, zero serious or critical axe-core violations (contrast
 * included), a skip link first in the tab order that lands on the main content, and a visible
 * focus ring. A screenshot of each is saved under test-artifacts/screenshots/ (ignored by git) for
 * a reviewer to look at without running anything.
 */
import { mkdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { browserSkipReason, type OpenBrowser, openBrowser, SCREENSHOTS, signInAs } from "../support/browser.ts"
import { createTestStores } from "../support/database.ts"
import { testAdmin } from "../support/session.ts"

const skipReason = browserSkipReason()
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")

const sizes = [
  { width: 1440, height: 900 },
  { width: 390, height: 844 }
] as const
const schemes = ["light", "dark"] as const

interface Violation {
  readonly id: string
  readonly impact: string | null
  readonly help: string
  readonly nodes: ReadonlyArray<{
    readonly target: ReadonlyArray<string>
    readonly failureSummary?: string | undefined
  }>
}

const axe = async (page: Page): Promise<ReadonlyArray<Violation>> => {
  // Evaluated through the DevTools protocol: the console's CSP rightly refuses inline scripts.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource)
  return page.evaluate(async () => {
    const run = (window as unknown as { axe: { run: (o: object) => Promise<{ violations: Array<Violation> }> } }).axe
      .run
    const result = await run({ resultTypes: ["violations"] })
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary }))
      }))
  })
}

const describeViolations = (violations: ReadonlyArray<Violation>) =>
  violations
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(" ")}: ${n.failureSummary ?? ""}`).join("\n")}`
    )
    .join("\n")

describe.skipIf(skipReason !== undefined)("every console page: layout and accessibility", () => {
  let app: Awaited<ReturnType<typeof startAppPromise>>
  let browser: OpenBrowser
  let pages: ReadonlyArray<string>

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true })
    app = await startAppPromise(testEnv(await createTestStores()))
    browser = await openBrowser()
    const { page } = browser
    await signInAs(page, app.baseUrl, testAdmin)
    // Every page the navigation offers an administrator (the most it offers anyone).
    const links = await page
      .getByRole("navigation", { name: "Main" })
      .locator("a[href^='/']")
      .evaluateAll((as) => as.map((a) => new URL((a as HTMLAnchorElement).href).pathname))
    // …and the administration pages the /admin overview links to.
    await page.goto(`${app.baseUrl}/admin`)
    const admin = await page
      .locator("main a[href^='/admin/']")
      .evaluateAll((as) => as.map((a) => new URL((a as HTMLAnchorElement).href).pathname))
    pages = [...new Set([...links, ...admin.filter((p) => p.split("/").length === 3)])]
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await app?.stop()
  })

  const name = (path: string) => (path === "/" ? "dashboard" : path.slice(1).replaceAll("/", "-"))

  it("the navigation offers the pages an administrator needs", () => {
    for (const path of ["/", "/breaker", "/audit", "/admin/users", "/admin/api-keys", "/admin/settings"])
      expect(pages).toContain(path)
  })

  for (const scheme of schemes)
    for (const size of sizes)
      it(`${scheme} mode at ${size.width} × ${size.height}: no horizontal scroll, no serious axe violation`, async () => {
        const { page } = browser
        await page.emulateMedia({ colorScheme: scheme })
        await page.setViewportSize(size)
        const problems: Array<string> = []
        for (const path of [...pages, "/no-such-page"]) {
          await page.goto(`${app.baseUrl}${path}`)
          await page.waitForLoadState("load")
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
          if (overflow > 0) problems.push(`${path}: the page scrolls sideways by ${overflow} px`)
          const violations = await axe(page)
          if (violations.length > 0) problems.push(`${path}:\n${describeViolations(violations)}`)
          await page.screenshot({
            path: `${SCREENSHOTS}/${name(path)}-${size.width}x${size.height}-${scheme}.png`,
            fullPage: true
          })
        }
        expect(problems.join("\n\n")).toBe("")
      }, 180_000)

  it("the sign-in page passes too, in both modes", async () => {
    const context = await browser.context.browser()?.newContext()
    const page = context === undefined ? await browser.context.newPage() : await context.newPage()
    try {
      for (const scheme of schemes) {
        await page.emulateMedia({ colorScheme: scheme })
        await page.goto(`${app.baseUrl}/login`)
        expect(describeViolations(await axe(page))).toBe("")
        await page.screenshot({ path: `${SCREENSHOTS}/login-390x844-${scheme}.png` })
      }
    } finally {
      await page.close()
    }
  })

  it("on a phone the navigation folds behind Menu, with the breaker badge still in sight", async () => {
    const { page } = browser
    await page.emulateMedia({ colorScheme: "light" })
    await page.setViewportSize(sizes[1])
    await page.goto(`${app.baseUrl}/`)
    const menu = page.getByRole("button", { name: "Menu" })
    const users = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users", exact: true })
    await expect.poll(() => menu.isVisible()).toBe(true)
    expect(await users.isVisible()).toBe(false)
    expect(await page.locator(".breaker-badge").first().isVisible()).toBe(true)
    await menu.click()
    expect(await menu.getAttribute("aria-expanded")).toBe("true")
    await Promise.all([page.waitForURL(`${app.baseUrl}/admin/users`), users.click()])
    // On a desktop there is no Menu: every link is in sight.
    await page.setViewportSize(sizes[0])
    expect(await page.getByRole("button", { name: "Menu" }).isVisible()).toBe(false)
    expect(await users.isVisible()).toBe(true)
  })

  it("a skip link comes first and lands on the main content; focus is visible", async () => {
    const { page } = browser
    await page.setViewportSize(sizes[0])
    await page.emulateMedia({ colorScheme: "light" })
    for (const path of pages) {
      await page.goto(`${app.baseUrl}${path}`)
      await page.keyboard.press("Tab")
      const first = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null
        const style = el === null ? undefined : getComputedStyle(el)
        return {
          text: el?.textContent?.trim(),
          href: el?.getAttribute("href"),
          visible: el !== null && el.getBoundingClientRect().height > 0,
          ring: style !== undefined && (style.outlineStyle !== "none" || style.boxShadow !== "none")
        }
      })
      expect(first, path).toMatchObject({ text: "Skip to main content", href: "#main", visible: true, ring: true })
      await page.keyboard.press("Enter")
      expect(await page.evaluate(() => location.hash), path).toBe("#main")
      expect(await page.evaluate(() => document.querySelector("main")?.id), path).toBe("main")
    }
  })
})
