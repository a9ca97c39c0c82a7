/**
 * Signing in and out in a real headless Chromium: the `__Host-` Secure session cookie works on
 * http://127.0.0.1 (a secure context for Chromium), a failed sign-in shows the generic refusal,
 * htmx sends the session's CSRF token from `<body hx-headers:inherited>`, and the navigation
 * shows only what the role may open.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAppPromise, testEnv } from "../support/app.ts"
import { browserSkipReason, type OpenBrowser, openBrowser } from "../support/browser.ts"
import { createTestStores } from "../support/database.ts"
import { createUser, testAdmin } from "../support/session.ts"

const skipReason = browserSkipReason()

describe.skipIf(skipReason !== undefined)("identity in Chromium", () => {
  let app: Awaited<ReturnType<typeof startAppPromise>>
  let browser: OpenBrowser
  const pageErrors: Array<string> = []

  beforeAll(async () => {
    app = await startAppPromise(testEnv(await createTestStores()))
    await createUser(app, { email: "vera@test.local", role: "viewer", password: "vera-password-1234", name: "Vera" })
    browser = await openBrowser()
    browser.page.on("pageerror", (error) => pageErrors.push(error.message))
  })
  afterAll(async () => {
    await browser?.close()
    await app?.stop()
  })

  const nav = () => browser.page.getByRole("navigation", { name: "Main" })

  const signIn = async (email: string, password: string) => {
    const { page } = browser
    await page.getByLabel("Email").fill(email)
    await page.getByLabel("Password").fill(password)
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === "/login" && r.request().method() === "POST"),
      page.getByRole("button", { name: "Sign in" }).click()
    ])
    await page.waitForLoadState("domcontentloaded")
    return response
  }

  it("sends an anonymous visitor to sign in, and refuses a wrong password with the generic message", async () => {
    const { page } = browser
    await page.goto(`${app.baseUrl}/about`)
    expect(new URL(page.url()).pathname).toBe("/login")
    expect(new URL(page.url()).searchParams.get("next")).toBe("/about")
    const response = await signIn(testAdmin.email, "not the password")
    expect(response.status()).toBe(401)
    expect(await page.locator("#login-error").textContent()).toContain("email or password is wrong")
    expect((await browser.context.cookies()).filter((c) => c.name.startsWith("__Host-"))).toEqual([])
  })

  it("signs in with the __Host- Secure cookie and returns to the page asked for", async () => {
    const { page } = browser
    const response = await signIn(testAdmin.email, testAdmin.password)
    expect(response.status()).toBe(303)
    await page.waitForURL(`${app.baseUrl}/about`, { timeout: 15_000 })
    const [cookie] = (await browser.context.cookies()).filter((c) => c.name === "__Host-breakwater_session")
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/" })
    expect(await page.evaluate(() => document.cookie)).toBe("") // HttpOnly: invisible to scripts
    expect(await page.locator(".principal").textContent()).toBe("Administrator · admin")
    await expect.poll(() => nav().getByRole("link", { name: "Admin", exact: true }).count()).toBe(1)
    expect(await nav().getByRole("link", { name: "Users", exact: true }).count()).toBe(1)
    expect(pageErrors).toEqual([])
  })

  it("has htmx send the session's CSRF token with a state change", async () => {
    const { page } = browser
    await page.goto(`${app.baseUrl}/admin`)
    await page.waitForFunction(() => document.documentElement.dataset.htmx === "ready", undefined, { timeout: 15_000 })
    // A button like any htmx form control: it inherits nothing but what <body> declares inheritable.
    await page.evaluate(() => {
      const button = document.createElement("button")
      button.id = "htmx-probe"
      button.setAttribute("hx-post", "/admin/users/00000000-0000-4000-8000-000000000000/end-sessions")
      button.setAttribute("hx-target", "#main")
      button.textContent = "probe"
      document.getElementById("main")?.append(button)
      const htmx = (window as unknown as { htmx: { process: (e: Element) => void } }).htmx
      htmx.process(button)
    })
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === "POST" && r.url().includes("/end-sessions")),
      page.locator("#htmx-probe").click()
    ])
    const token = await page.locator("input[name=_csrf]").first().getAttribute("value")
    expect(request.headers()["x-csrf-token"]).toBe(token)
    // Past the CSRF check: the unknown user is a 404, not a 403.
    expect((await request.response())?.status()).toBe(404)
  })

  it("signs out: the session ends and pages send to sign in again", async () => {
    const { page } = browser
    await page.goto(`${app.baseUrl}/`)
    await Promise.all([page.waitForURL(`${app.baseUrl}/login`), page.getByRole("button", { name: "Log out" }).click()])
    expect((await browser.context.cookies()).filter((c) => c.name === "__Host-breakwater_session")).toEqual([])
    await page.goto(`${app.baseUrl}/`)
    expect(new URL(page.url()).pathname).toBe("/login")
  })

  it("shows a viewer neither Admin nor Users, and refuses /admin", async () => {
    const { page } = browser
    await page.goto(`${app.baseUrl}/login`)
    await signIn("vera@test.local", "vera-password-1234")
    await page.waitForURL(`${app.baseUrl}/`, { timeout: 15_000 })
    expect(await page.locator(".principal").textContent()).toBe("Vera · viewer")
    await expect.poll(() => nav().getByRole("link", { name: "Dashboard", exact: true }).count()).toBe(1)
    expect(await nav().getByRole("link", { name: "Admin", exact: true }).count()).toBe(0)
    expect(await nav().getByRole("link", { name: "Users", exact: true }).count()).toBe(0)
    const refused = await page.goto(`${app.baseUrl}/admin`)
    expect(refused?.status()).toBe(403)
    expect(pageErrors).toEqual([])
  })
})
