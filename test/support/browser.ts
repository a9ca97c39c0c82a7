/**
 * A real headless Chromium for console tests: Debian's package at /usr/bin/chromium, driven by
 * playwright-core (which never downloads a browser), with a throw-away profile per launch.
 */
import { existsSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BrowserContext, chromium, type Page } from "playwright-core"

export const CHROMIUM_PATH = "/usr/bin/chromium"

/** Where browser tests save their screenshots for a reviewer (ignored by git). */
export const SCREENSHOTS = join(import.meta.dirname, "../../test-artifacts/screenshots")

// Quiet and self-contained: no GPU in CI, and nothing that phones home or updates itself mid-test
// (background traffic would show up in request waits and slow the launch).
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Containers often have a 64 MB /dev/shm, too small for the renderer; Debian's launcher means
  // to add this flag on such machines but its shm check is unreliable.
  "--disable-dev-shm-usage"
]

/** `CI` counts as set unless empty or an explicit "false"/"0", the way CI services and people write it. */
export const isCI = (): boolean => {
  const ci = process.env.CI
  return ci !== undefined && ci !== "" && ci !== "false" && ci !== "0"
}

/**
 * Why a test needing an external binary cannot run here, or undefined if it can. A developer
 * machine without it skips (with a visible warning); CI must not silently skip, so it throws.
 */
export const missingBinaryReason = (path: string, install: string): string | undefined => {
  if (existsSync(path)) return undefined
  const reason = `${path} not found; ${install}`
  if (isCI()) throw new Error(`${reason} (required under CI)`)
  console.warn(`[skip] ${reason}`)
  return reason
}

/** Undefined when Chromium is here; otherwise the reason browser tests are skipped. */
export const browserSkipReason = (): string | undefined =>
  missingBinaryReason(CHROMIUM_PATH, "install Debian's chromium: apt-get install -y chromium")

export interface OpenBrowser {
  readonly context: BrowserContext
  readonly page: Page
  /** Closes the browser and deletes its profile. */
  readonly close: () => Promise<void>
}

export const openBrowser = async (): Promise<OpenBrowser> => {
  // A fresh profile each time, so no cookie, cache or service worker leaks between runs.
  const userDataDir = await mkdtemp(join(tmpdir(), "breakwater-chromium-"))
  const removeProfile = () => rm(userDataDir, { recursive: true, force: true })
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ARGS,
      timeout: 30_000
    })
  } catch (error) {
    await removeProfile()
    throw error
  }
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    context,
    page,
    close: async () => {
      try {
        await context.close()
      } finally {
        await removeProfile()
      }
    }
  }
}

/** Runs `f` with a fresh browser page, closing the browser whatever happens. */
export const withBrowser = async <A>(f: (page: Page) => Promise<A>): Promise<A> => {
  const browser = await openBrowser()
  try {
    return await f(browser.page)
  } finally {
    await browser.close()
  }
}

/**
 * Signs in through the login form as a person would, and waits until the browser has landed on
 * `next` (the page the sign-in was asked for, `/` by default).
 */
export const signInAs = async (
  page: Page,
  baseUrl: string,
  user: { readonly email: string; readonly password: string },
  next = "/"
): Promise<void> => {
  await page.goto(next === "/" ? `${baseUrl}/login` : `${baseUrl}/login?next=${encodeURIComponent(next)}`)
  await page.getByLabel("Email").fill(user.email)
  await page.getByLabel("Password").fill(user.password)
  await Promise.all([
    page.waitForURL(`${baseUrl}${next}`, { timeout: 15_000 }),
    page.getByRole("button", { name: "Sign in" }).click()
  ])
}
