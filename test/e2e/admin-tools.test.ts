/**
 * The administrators' tools in a real headless Chromium (issue 11): API key presets ticking their
 * permissions, the one-time key copied with the keyboard, revoking behind a confirmation that names
 * the key; the Audit Log's filters in the viewer's time zone, bad input marked at its field; a CPU
 * profile downloaded from the Diagnostics page. Screenshots of the three pages at 1280×800 and
 * 390×844 go to test-artifacts/screenshots/ (ignored by git).
 */
import { mkdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { browserSkipReason, type OpenBrowser, openBrowser, SCREENSHOTS, signInAs } from "../support/browser.ts"
import { createTestStores } from "../support/database.ts"
import { testAdmin } from "../support/session.ts"

const skipReason = browserSkipReason()

const sizes = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 }
] as const
const ZONE = "Europe/Berlin"

describe.skipIf(skipReason !== undefined)("admin tools in Chromium", () => {
  let app: Awaited<ReturnType<typeof startAppPromise>>
  let browser: OpenBrowser
  const pageErrors: Array<string> = []

  /** The elements wider than the page, for the message of a failed check. */
  const widest = (page: Page) =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll("body *"))
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}${e.id === "" ? "" : `#${e.id}`}.${e.className}`)
        .join(", ")
    )

  const noSidewaysScroll = (page: Page) =>
    page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)

  /**
   * The current page at both sizes, laid out again at each (not reloaded: the page may be the
   * answer to a POST). What a reviewer sees without running anything.
   */
  const screenshots = async (page: Page, name: string) => {
    await mkdir(SCREENSHOTS, { recursive: true })
    for (const size of sizes) {
      await page.setViewportSize(size)
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(null))))
      await page.screenshot({ path: join(SCREENSHOTS, `${name}-${size.width}x${size.height}.png`), fullPage: true })
      expect(await noSidewaysScroll(page), `${name} at ${size.width}px: ${await widest(page)}`).toBe(true)
    }
    await page.setViewportSize(sizes[0])
  }

  /** Clicks something that submits a form; the answer to the POST once its page has loaded. */
  const submit = async (page: Page, click: () => Promise<void>) => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && r.request().resourceType() === "document"),
      page.waitForEvent("load"),
      click()
    ])
    return response
  }

  beforeAll(async () => {
    app = await startAppPromise(testEnv(await createTestStores()))
    browser = await openBrowser()
    const { page, context } = browser
    page.on("pageerror", (error) => pageErrors.push(error.message))
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.baseUrl })
    // The viewer's time zone, for the Audit Log's pickers and times.
    const cdp = await context.newCDPSession(page)
    await cdp.send("Emulation.setTimezoneOverride", { timezoneId: ZONE })
    await page.setViewportSize(sizes[0])
    await signInAs(page, app.baseUrl, testAdmin)
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await app?.stop()
  })

  it("API keys: a preset ticks its permissions, the key is copied with the keyboard, revoking asks first", async () => {
    const { page } = browser
    await page.goto(`${app.baseUrl}/admin/api-keys`)
    const form = page.locator("#create-api-key")
    const box = (name: string) => form.locator(`input[type="checkbox"][value="${name}"]`)

    // A preset ticks exactly its permissions…
    await form.getByLabel("Trading desk automation: trip breaker").check()
    expect(await box("VIEW_CIRCUIT_BREAKER").isChecked()).toBe(true)
    expect(await box("TRIP_CIRCUIT_BREAKER").isChecked()).toBe(true)
    expect(await box("RESET_CIRCUIT_BREAKER").isChecked()).toBe(false)
    // …and changing a tick afterwards makes the choice "Custom".
    await box("VIEW_DASHBOARD").check()
    expect(await form.getByLabel("Custom: only what I tick").isChecked()).toBe(true)
    await form.getByLabel("Execution service: read breaker").check()
    expect(await box("VIEW_DASHBOARD").isChecked()).toBe(false)
    expect(await box("TRIP_CIRCUIT_BREAKER").isChecked()).toBe(false)

    await form.getByLabel("Name").fill("execution service")
    const created = await submit(page, () => form.getByRole("button", { name: "Create key" }).click())
    expect(created.status()).toBe(200)
    const secret = (await page.locator("#new-api-key-secret").textContent()) ?? ""
    expect(secret).toMatch(/^bw_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/)

    // The Copy button, with the keyboard: focus it, press Enter.
    const copy = page.getByRole("button", { name: "Copy key" })
    expect(await copy.isVisible()).toBe(true)
    await copy.focus()
    await page.keyboard.press("Enter")
    await expect.poll(() => page.locator("#new-api-key-copied").textContent()).toContain("Copied to the clipboard")
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret)
    const row = page.locator("#api-keys tr", { hasText: "execution service" })
    expect(await row.locator("code[title]").first().getAttribute("title")).toBe(
      "Read the breaker's state, history and stream."
    )
    await screenshots(page, "api-keys")

    // Revoke: the confirmation names the key; Cancel changes nothing.
    await page.goto(`${app.baseUrl}/admin/api-keys`)
    await row.getByRole("button", { name: "Revoke…" }).click()
    const dialog = page.getByRole("dialog")
    expect(await dialog.textContent()).toContain("Revoke the key execution service (bw_")
    await dialog.getByRole("button", { name: "Cancel" }).click()
    expect(await dialog.isVisible()).toBe(false)
    await row.getByRole("button", { name: "Revoke…" }).click()
    const revoked = await submit(page, () => dialog.getByRole("button", { name: "Revoke execution service" }).click())
    expect(revoked.status()).toBe(303)
    expect(await page.locator("#api-keys tr", { hasText: "execution service" }).textContent()).toContain("revoked")
    expect(pageErrors).toEqual([])
  }, 60_000)

  it("Audit Log: filters in the viewer's time zone, times shown in it, bad input marked at its field", async () => {
    const { page } = browser
    await page.goto(`${app.baseUrl}/audit`)
    // The script fills in the viewer's zone and says so.
    expect(await page.locator("input[data-tz]").inputValue()).toBe(ZONE)
    expect(await page.locator("#audit-tz-hint").textContent()).toContain(`your time zone (${ZONE})`)
    // Times: in Berlin on the page, UTC on hover.
    const first = page.locator("#audit-entries time").first()
    expect(await first.getAttribute("title")).toMatch(/ UTC$/)
    expect(await first.textContent()).toMatch(/GMT\+1|CET|GMT\+2|CEST/)

    // Actor by name, action from the list, a range on the pickers.
    await page.getByLabel("Actor", { exact: true }).selectOption({ label: "Administrator (admin@test.local)" })
    await page.getByLabel("Action", { exact: true }).selectOption("api_key.*")
    await page.getByLabel("From", { exact: true }).fill("2000-01-01T00:00")
    await page.getByLabel("To", { exact: true }).fill("2100-01-01T00:00")
    await Promise.all([page.waitForURL(/\/audit\?/), page.getByRole("button", { name: "Filter" }).click()])
    const url = new URL(page.url())
    expect(url.searchParams.get("tz")).toBe(ZONE)
    expect(url.searchParams.get("action")).toBe("api_key.*")
    const actions = await page.locator("#audit-entries td code").allTextContents()
    expect(actions.filter((a) => a.startsWith("api_key.")).length).toBeGreaterThanOrEqual(2)
    expect(actions.every((a) => a.startsWith("api_key.") || !/^[a-z_]+\.[a-z_]+$/.test(a))).toBe(true)
    expect(await page.locator("#audit-entries td[data-field=actor] span").first().getAttribute("title")).toMatch(
      /^user [0-9a-f-]{36}$/
    )
    // The export link carries the same filters.
    expect(await page.getByRole("link", { name: "Export CSV" }).getAttribute("href")).toContain("tz=Europe%2FBerlin")

    // To before From: said at To, the form kept, no error page.
    await page.getByLabel("To", { exact: true }).fill("1999-01-01T00:00")
    const [refused] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === "/audit"),
      page.getByRole("button", { name: "Filter" }).click()
    ])
    expect(refused.status()).toBe(400)
    await page.waitForLoadState("load")
    expect(await page.locator("#audit-to-error").textContent()).toBe("must be later than From")
    expect(await page.getByLabel("Action", { exact: true }).inputValue()).toBe("api_key.*")
    expect(await page.getByLabel("From", { exact: true }).inputValue()).toBe("2000-01-01T00:00")
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Audit Log")
    await page.screenshot({ path: join(SCREENSHOTS, "audit-invalid-1280x800.png") })

    await page.goto(`${app.baseUrl}/audit`)
    await screenshots(page, "audit")
    expect(pageErrors).toEqual([])
  }, 60_000)

  it("Diagnostics: a CPU profile downloads from the page, and is listed as a capture", async () => {
    const { page } = browser
    await page.goto(`${app.baseUrl}/admin/diagnostics`)
    await page.getByLabel(/Seconds/).fill("1")
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 15_000 }),
      page.getByRole("button", { name: "Capture CPU profile" }).click()
    ])
    expect(download.suggestedFilename()).toMatch(/^breakwater-.+\.cpuprofile$/)
    const path = await download.path()
    const profile = JSON.parse(await readFile(path, "utf8")) as { nodes: Array<unknown>; samples: Array<number> }
    expect(profile.nodes.length).toBeGreaterThan(0)
    await page.reload()
    expect(await page.locator("#diagnostics-captures tbody tr").first().textContent()).toContain("CPU profile")
    await screenshots(page, "diagnostics")
    expect(pageErrors).toEqual([])
  }, 60_000)
})
