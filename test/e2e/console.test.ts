/**
 * The console in a real headless Chromium against the whole app on real PostgreSQL and Redis:
 * what an operator sees, that navigation works, and that htmx is live and keeps the dashboard fresh.
 */
import { readFile } from "node:fs/promises"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { browserSkipReason, type OpenBrowser, openBrowser, signInAs } from "../support/browser.ts"
import { createTestStores } from "../support/database.ts"
import { testAdmin } from "../support/session.ts"

const skipReason = browserSkipReason()

const packageVersion = async (): Promise<string> => {
  const pkg: unknown = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"))
  if (typeof pkg !== "object" || pkg === null || !("version" in pkg) || typeof pkg.version !== "string") {
    throw new Error("package.json has no version")
  }
  return pkg.version
}

describe.skipIf(skipReason !== undefined)("console in Chromium", () => {
  let app: Awaited<ReturnType<typeof startAppPromise>>
  let browser: OpenBrowser
  // Uncaught script errors would mean a broken console even when the markup looks right.
  const pageErrors: Array<string> = []

  beforeAll(async () => {
    app = await startAppPromise(testEnv(await createTestStores()))
    browser = await openBrowser()
    browser.page.on("pageerror", (error) => pageErrors.push(error.message))
    // Every console page needs a signed-in user: sign in as the first administrator.
    const { page } = browser
    await signInAs(page, app.baseUrl, testAdmin)
  })
  afterAll(async () => {
    await browser?.close()
    await app?.stop()
  })

  const nav = () => browser.page.getByRole("navigation", { name: "Main" })

  it("shows the dashboard with its navigation, and htmx is loaded", async () => {
    const { page } = browser
    const response = await page.goto(`${app.baseUrl}/`)
    expect(response?.status()).toBe(200)
    expect(await page.title()).toContain("Dashboard · Breakwater")
    await expect.poll(() => nav().getByRole("link", { name: "Dashboard", exact: true }).count()).toBe(1)
    await expect.poll(() => nav().getByRole("link", { name: "About", exact: true }).count()).toBe(1)
    // app.js marks the document on DOMContentLoaded: "ready" with htmx, "missing" without.
    await page.waitForFunction(() => document.documentElement.dataset.htmx !== undefined, undefined, {
      timeout: 5_000
    })
    expect(await page.evaluate(() => document.documentElement.dataset.htmx)).toBe("ready")
    expect(pageErrors).toEqual([])
  })

  it("refreshes the dashboard status through htmx polling", async () => {
    const { page } = browser
    const section = page.locator("#dashboard-status")
    expect(await section.getAttribute("hx-get")).toBe("/dashboard/status")
    expect(await section.getAttribute("hx-trigger")).toBe("every 5s")
    // Mark the current section: an outerHTML swap replaces it with an unmarked one.
    await section.evaluate((el) => {
      if (el instanceof HTMLElement) el.dataset.stale = "yes"
    })
    const request = await page.waitForRequest((r) => new URL(r.url()).pathname === "/dashboard/status", {
      timeout: 8_000
    })
    const response = await request.response()
    expect(response?.status()).toBe(200)
    await page.waitForFunction(
      () => {
        const el = document.getElementById("dashboard-status")
        return el !== null && el.dataset.stale === undefined
      },
      undefined,
      { timeout: 3_000 }
    )
    // The swapped-in section keeps polling and still shows each store.
    expect(await section.getAttribute("hx-trigger")).toBe("every 5s")
    expect(await page.locator('#dashboard-status [data-check="database"]').count()).toBe(1)
    expect(await page.locator('#dashboard-status [data-check="redis"]').count()).toBe(1)
    expect(pageErrors).toEqual([])
  })

  it("navigates to About, which shows the version and the sampler fiber", async () => {
    const { page } = browser
    await nav().getByRole("link", { name: "About", exact: true }).click()
    await page.waitForURL(`${app.baseUrl}/about`, { timeout: 5_000 })
    expect(await page.title()).toContain("Breakwater")
    expect(await nav().getByRole("link", { name: "About", exact: true }).getAttribute("aria-current")).toBe("page")
    expect(await page.locator('[data-field="version"]').textContent()).toBe(await packageVersion())
    const sampler = page.locator('#fibers tr[data-fiber="system.sampler"]')
    expect(await sampler.count()).toBe(1)
    expect(await sampler.locator("code").textContent()).toBe("system.sampler")
    expect(pageErrors).toEqual([])
  })

  it("works under the strict Content-Security-Policy: no violation on any console page", async () => {
    const { page } = browser
    // Every violation of the page's CSP is reported in the page; collect them all.
    await page.addInitScript(() => {
      const seen: Array<string> = []
      Object.assign(window, { cspViolations: seen })
      document.addEventListener("securitypolicyviolation", (e) =>
        seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`)
      )
    })
    const consoleCsp: Array<string> = []
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) consoleCsp.push(message.text())
    })
    for (const path of ["/", "/about", "/breaker", "/admin", "/admin/users", "/admin/api-keys", "/audit"]) {
      const response = await page.goto(`${app.baseUrl}${path}`)
      expect(response?.status(), path).toBe(200)
      expect(await response?.headerValue("content-security-policy"), path).toMatch(/script-src 'self'/)
      await page.waitForFunction(() => document.documentElement.dataset.htmx === "ready", undefined, { timeout: 5_000 })
      expect(
        await page.evaluate(() => (window as unknown as { cspViolations: Array<string> }).cspViolations),
        path
      ).toEqual([])
    }
    expect(consoleCsp).toEqual([])
    expect(pageErrors).toEqual([])
  })

  it("shows the 404 page with the request id of the response", async () => {
    const { page } = browser
    const response = await page.goto(`${app.baseUrl}/no/such/page`)
    expect(response?.status()).toBe(404)
    const requestId = await response?.headerValue("x-request-id")
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("404 · Not found")
    expect(await page.locator(".error-page code").textContent()).toBe(requestId)
  })
})
