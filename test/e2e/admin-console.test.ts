/**
 * Administration in a real headless Chromium (issue 11): adding a user in the console and signing
 * in as them from another browser; changing a role and disabling, each after a confirmation that
 * names the user; the last administrator's refusal said in their row; a setting changed through
 * its diff, seen in its history and in the API, then an earlier version restored. Screenshots of
 * the users and settings pages at desktop and phone sizes go to test-artifacts/screenshots/.
 */
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { browserSkipReason, type OpenBrowser, openBrowser, SCREENSHOTS, signInAs } from "../support/browser.ts"
import { createTestStores } from "../support/database.ts"
import { createUser, testAdmin } from "../support/session.ts"

const skipReason = browserSkipReason()

const sizes = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 }
] as const

const KEY = "breaker.quiet_period_seconds"

describe.skipIf(skipReason !== undefined)("administration in Chromium", () => {
  let app: Awaited<ReturnType<typeof startAppPromise>>
  let admin: OpenBrowser
  const pageErrors: Array<string> = []

  const signIn = (page: Page, email: string, password: string) => signInAs(page, app.baseUrl, { email, password })

  /** Clicks a button that submits a form; the answer to the POST, once the page it leads to has loaded. */
  const submit = async (page: Page, click: () => Promise<void>) => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && r.request().resourceType() === "document"),
      page.waitForEvent("load"),
      click()
    ])
    return response
  }

  const row = (page: Page, email: string) => page.locator(`#users tr[data-user="${email}"]`)

  /** The API's view of the setting, from the signed-in browser. */
  const apiSetting = async (page: Page) =>
    page.evaluate(async (key) => {
      const response = await fetch("/api/v1/settings", { headers: { accept: "application/json" } })
      const body = (await response.json()) as { settings: Array<{ key: string; value: unknown; version: number }> }
      return body.settings.find((s) => s.key === key)
    }, KEY)

  const noSidewaysScroll = (page: Page) =>
    page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)

  const screenshots = async (page: Page, name: string) => {
    await mkdir(SCREENSHOTS, { recursive: true })
    for (const size of sizes) {
      // No reload: the page may be the answer to a form (a refusal, a password shown once).
      await page.setViewportSize({ width: size.width, height: size.height })
      expect(await noSidewaysScroll(page), `${name} at ${size.width}px`).toBe(true)
      expect(await page.evaluate(() => (window as unknown as { cspViolations: Array<string> }).cspViolations)).toEqual(
        []
      )
      await page.screenshot({ path: join(SCREENSHOTS, `${name}-${size.width}x${size.height}.png`), fullPage: true })
    }
    await page.setViewportSize({ width: 1280, height: 800 })
  }

  beforeAll(async () => {
    app = await startAppPromise(testEnv(await createTestStores()))
    await createUser(app, { email: "otto@test.local", role: "operator", password: "otto-password-1234", name: "Otto" })
    admin = await openBrowser()
    admin.page.on("pageerror", (error) => pageErrors.push(error.message))
    // Every violation of the console's Content-Security-Policy is collected in the page.
    await admin.page.addInitScript(() => {
      const seen: Array<string> = []
      Object.assign(window, { cspViolations: seen })
      document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`))
    })
    await admin.page.setViewportSize({ width: 1280, height: 800 })
    await signIn(admin.page, testAdmin.email, testAdmin.password)
  })
  afterAll(async () => {
    await admin?.close()
    await app?.stop()
  })

  it("adds a user, shows their password once, and they sign in with it in another browser", async () => {
    const { page } = admin
    await page.goto(`${app.baseUrl}/admin/users`)
    const form = page.locator("#add-user")
    await form.getByLabel("Email").fill("nina@test.local")
    await form.getByLabel("Name").fill("Nina Operator")
    await form.getByLabel("Role").selectOption("operator")
    const response = await submit(page, () => form.getByRole("button", { name: "Add user" }).click())
    expect(response.status()).toBe(201)
    const secret = page.locator('[data-field="one-time-password"]')
    expect(await page.locator("#one-time-password").textContent()).toContain("shown only this once")
    const password = (await secret.textContent()) ?? ""
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    await screenshots(page, "users-added")
    expect(await row(page, "nina@test.local").locator('[data-field="role-name"]').textContent()).toBe("operator")

    // Shown once: the page loaded again does not carry it.
    await page.goto(`${app.baseUrl}/admin/users`)
    expect(await page.locator('[data-field="one-time-password"]').count()).toBe(0)
    expect(await page.content()).not.toContain(password)

    const nina = await openBrowser()
    try {
      await signIn(nina.page, "nina@test.local", password)
      expect(await nina.page.locator(".principal").textContent()).toBe("Nina Operator · operator")
    } finally {
      await nina.close()
    }
    expect(pageErrors).toEqual([])
  })

  it("keeps the add form when the email is taken, naming the field", async () => {
    const { page } = admin
    await page.goto(`${app.baseUrl}/admin/users`)
    const form = page.locator("#add-user")
    await form.getByLabel("Email").fill("NINA@test.local")
    await form.getByLabel("Name").fill("Nina Again")
    await form.getByLabel("Role").selectOption("admin")
    const response = await submit(page, () => form.getByRole("button", { name: "Add user" }).click())
    expect(response.status()).toBe(409)
    expect(await page.locator("#add-user-email-error").textContent()).toContain("already exists")
    expect(await page.locator("#add-user-email").getAttribute("aria-invalid")).toBe("true")
    expect(await page.locator("#add-user-email").inputValue()).toBe("NINA@test.local")
    expect(await page.locator("#add-user-name").inputValue()).toBe("Nina Again")
    expect(await page.locator("#add-user-role").inputValue()).toBe("admin")
    // The error is where the browser put the focus: the page scrolled to the form.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("add-user-error")
  })

  it("changes a role and disables a user, each after a confirmation that names them", async () => {
    const { page } = admin
    const otto = await openBrowser()
    try {
      await signIn(otto.page, "otto@test.local", "otto-password-1234")
      await page.goto(`${app.baseUrl}/admin/users`)
      const ottoRow = row(page, "otto@test.local")

      await ottoRow.getByRole("button", { name: "Change role…" }).click()
      const roleDialog = page.locator('[id^="confirm-role-"]:popover-open')
      await roleDialog.waitFor()
      expect(await roleDialog.textContent()).toContain("Change the role of otto@test.local?")
      await roleDialog.getByLabel("New role").selectOption("viewer")
      const changed = await submit(page, () =>
        roleDialog.getByRole("button", { name: "Change role of otto@test.local" }).click()
      )
      expect(changed.status()).toBe(303)
      expect(await page.locator("p.notice").textContent()).toContain("Role changed")
      expect(await ottoRow.locator('[data-field="role-name"]').textContent()).toBe("viewer")

      // Cancel asks nothing and changes nothing.
      await ottoRow.getByRole("button", { name: "Disable…" }).click()
      const disableDialog = page.locator('[id^="confirm-disable-"]:popover-open')
      await disableDialog.waitFor()
      expect(await disableDialog.textContent()).toContain("Disable otto@test.local?")
      await disableDialog.getByRole("button", { name: "Cancel" }).click()
      await disableDialog.waitFor({ state: "detached" })
      expect(await ottoRow.locator('[data-field="state"]').textContent()).toBe("enabled")

      await ottoRow.getByRole("button", { name: "Disable…" }).click()
      const disabled = await submit(page, () =>
        page
          .locator('[id^="confirm-disable-"]:popover-open')
          .getByRole("button", { name: "Disable otto@test.local" })
          .click()
      )
      expect(disabled.status()).toBe(303)
      expect(await ottoRow.locator('[data-field="state"]').textContent()).toBe("disabled")
      expect(await ottoRow.getByRole("button", { name: "Enable" }).count()).toBe(1)

      // Otto's session ended with the role change; he cannot sign in while disabled.
      await otto.page.goto(`${app.baseUrl}/`)
      expect(new URL(otto.page.url()).pathname).toBe("/login")
    } finally {
      await otto.close()
    }
    expect(pageErrors).toEqual([])
  })

  it("refuses to demote or disable the last administrator, saying so in their row", async () => {
    const { page } = admin
    await page.goto(`${app.baseUrl}/admin/users`)
    const me = row(page, testAdmin.email)
    await me.getByRole("button", { name: "Change role…" }).click()
    const dialog = page.locator('[id^="confirm-role-"]:popover-open')
    expect(await dialog.textContent()).toContain("This is you")
    await dialog.getByLabel("New role").selectOption("viewer")
    const refused = await submit(page, () =>
      dialog.getByRole("button", { name: `Change role of ${testAdmin.email}` }).click()
    )
    expect(refused.status()).toBe(409)
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Users")
    const refusal = me.locator('[data-field="refusal"]')
    expect(await refusal.textContent()).toContain(`${testAdmin.email} is the last enabled administrator`)
    expect(await refusal.textContent()).toContain("Nothing was changed")
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-field"))).toBe("refusal")
    expect(await me.locator('[data-field="role-name"]').textContent()).toBe("admin")
    await screenshots(page, "users-refused")

    await me.getByRole("button", { name: "Disable…" }).click()
    const disable = await submit(page, () =>
      page
        .locator('[id^="confirm-disable-"]:popover-open')
        .getByRole("button", { name: `Disable ${testAdmin.email}` })
        .click()
    )
    expect(disable.status()).toBe(409)
    expect(await row(page, testAdmin.email).locator('[data-field="refusal"]').textContent()).toContain(
      "last enabled administrator"
    )
    expect(await row(page, testAdmin.email).locator('[data-field="state"]').textContent()).toBe("enabled")
    expect(pageErrors).toEqual([])
  })

  it("saves the users page at desktop and phone sizes", async () => {
    await admin.page.goto(`${app.baseUrl}/admin/users`)
    await screenshots(admin.page, "users")
  })

  it("changes a setting through its diff, shows it in the history and the API, then restores an earlier version", async () => {
    const { page } = admin
    await page.goto(`${app.baseUrl}/admin/settings`)
    expect(await page.getByRole("heading", { level: 2, name: "circuit-breaker" }).count()).toBe(1)
    expect(await page.getByRole("heading", { level: 2, name: "core" }).count()).toBe(1)
    const listed = page.locator(`tr[data-setting="${KEY}"]`)
    expect(await listed.textContent()).toContain("How long a scope stays in QUIET_PERIOD")
    expect(await listed.locator('[data-field="value"]').textContent()).toBe("300 seconds")
    await listed.getByRole("link", { name: KEY, exact: true }).click()
    await page.waitForURL(`**/admin/settings/${KEY}`)

    const change = async (value: string, reason: string, version: number) => {
      await page.getByLabel("New value (seconds)").fill(value)
      const reviewed = await submit(page, () => page.getByRole("button", { name: "Review the change" }).click())
      expect(reviewed.status()).toBe(200)
      const diff = page.locator('[data-field="diff"]')
      expect(await diff.locator('[data-field="diff-before"]').textContent()).toContain("seconds")
      expect(await diff.locator('[data-field="diff-after"] ins').textContent()).toBe(value)
      // Nothing is saved by the review.
      expect((await apiSetting(page))?.version).toBe(version - 1)
      await page.getByLabel("Reason (optional)").fill(reason)
      const saved = await submit(page, () => page.getByRole("button", { name: `Save as version ${version}` }).click())
      expect(saved.status()).toBe(303)
      expect(await page.locator("p.notice").textContent()).toContain("Saved")
    }

    await change("600", "longer quiet period after the venue outage", 1)
    const diffBefore = await page.locator('#setting-facts [data-field="current"]').textContent()
    expect(diffBefore).toContain("600 seconds")
    expect(await apiSetting(page)).toMatchObject({ value: 600, version: 1 })
    const first = page.locator('#setting-history tr[data-version="1"]')
    expect(await first.textContent()).toContain("longer quiet period after the venue outage")
    expect(await first.textContent()).toContain("Administrator")

    await change("900", "trying fifteen minutes", 2)
    expect(await apiSetting(page)).toMatchObject({ value: 900, version: 2 })

    // Restore version 1: reviewed as 900 → 600, then saved as version 3.
    await page
      .locator('#setting-history tr[data-version="1"]')
      .getByRole("link", { name: "Restore this version" })
      .click()
    await page.waitForURL(/restore=1/)
    expect(await page.getByRole("heading", { level: 2, name: "Review: restore version 1" }).count()).toBe(1)
    expect(await page.locator('[data-field="diff-before"] del').textContent()).toBe("900")
    expect(await page.locator('[data-field="diff-after"] ins').textContent()).toBe("600")
    await screenshots(page, "setting-review")
    const restored = await submit(page, () =>
      page.getByRole("button", { name: "Restore version 1 as version 3" }).click()
    )
    expect(restored.status()).toBe(303)
    expect(await page.locator("p.notice").textContent()).toContain("Restored")
    expect(await apiSetting(page)).toMatchObject({ value: 600, version: 3 })
    expect(await page.locator('#setting-history tr[data-version="3"]').textContent()).toContain("restored version 1")
    expect(pageErrors).toEqual([])
  })

  it("keeps a value that does not fit, naming the problem", async () => {
    const { page } = admin
    await page.goto(`${app.baseUrl}/admin/settings/${KEY}`)
    // Past the maximum: the browser's own check would stop it, so send it past the field's limits.
    await page.locator("#setting-value").evaluate((input) => input.removeAttribute("max"))
    await page.getByLabel("New value (seconds)").fill("99999")
    const response = await submit(page, () => page.getByRole("button", { name: "Review the change" }).click())
    expect(response.status()).toBe(400)
    expect(await page.locator("#setting-value").inputValue()).toBe("99999")
    expect(await page.locator("#setting-value-error").textContent()).toMatch(/86400/)
    expect(await apiSetting(page)).toMatchObject({ value: 600, version: 3 })
  })

  it("saves the settings pages at desktop and phone sizes", async () => {
    await admin.page.goto(`${app.baseUrl}/admin/settings`)
    await screenshots(admin.page, "settings")
    await admin.page.goto(`${app.baseUrl}/admin/settings/${KEY}`)
    await screenshots(admin.page, "setting")
    expect(pageErrors).toEqual([])
  })
})
