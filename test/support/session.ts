/**
 * Signed-in HTTP clients for tests: sign in through `POST /login` like a browser, keep the
 * session cookie, and send the CSRF token with every state change. `testAdmin` is the first
 * administrator every test app gets (`testEnv` sets BREAKWATER_ADMIN_*).
 */
import { Context, Effect, Redacted } from "effect"
import type { Actor } from "../../src/core/audit/entry.ts"
import type { Role } from "../../src/core/auth/roles.ts"
import { SESSION_COOKIE } from "../../src/core/auth/sessions.ts"
import { type User, Users } from "../../src/core/auth/users.ts"
import type { RunningApp } from "./app.ts"

export const testAdmin = { email: "admin@test.local", password: "test-admin-password" } as const

const testActor: Actor = { type: "system", id: "system:test", name: "test" }

export interface TestSession {
  readonly baseUrl: string
  /** `__Host-breakwater_session=…`, ready for a `cookie` header. */
  readonly cookie: string
  readonly csrfToken: string
  /** `fetch` with the session cookie, not following redirects; state changes carry `X-CSRF-Token`. */
  readonly fetch: (path: string, init?: RequestInit) => Promise<Response>
  /** Posts an HTML form the way a browser does: urlencoded, with the `_csrf` field. */
  readonly postForm: (path: string, fields?: Readonly<Record<string, string>>) => Promise<Response>
}

/** The session cookie's value from a response's `Set-Cookie` headers, if it sets one. */
export const sessionCookieOf = (response: Response): string | undefined => {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";")
    if (pair?.startsWith(`${SESSION_COOKIE}=`)) return pair.slice(SESSION_COOKIE.length + 1)
  }
  return undefined
}

/** The CSRF token a console page carries on `<body hx-headers:inherited=…>`. */
export const csrfTokenOf = (page: string): string | undefined => {
  const match = /hx-headers:inherited="([^"]*)"/.exec(page)
  if (match?.[1] === undefined) return undefined
  const json = match[1].replaceAll("&quot;", '"').replaceAll("&amp;", "&")
  const parsed: unknown = JSON.parse(json)
  return typeof parsed === "object" && parsed !== null && "X-CSRF-Token" in parsed
    ? String(parsed["X-CSRF-Token"])
    : undefined
}

/** A client for an existing session cookie value (the token is read from a console page). */
export const sessionFor = async (baseUrl: string, cookieValue: string): Promise<TestSession> => {
  const cookie = `${SESSION_COOKIE}=${cookieValue}`
  // Any console page renders the token; a 404 page does too, whatever modules are installed.
  const page = await fetch(`${baseUrl}/no-such-page-for-the-csrf-token`, {
    headers: { cookie, accept: "text/html" },
    redirect: "manual"
  })
  const csrfToken = csrfTokenOf(await page.text())
  if (csrfToken === undefined) throw new Error(`no CSRF token on the page (status ${page.status}): not signed in?`)
  const send = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    headers.set("cookie", cookie)
    const method = (init.method ?? "GET").toUpperCase()
    if (method !== "GET" && method !== "HEAD" && !headers.has("x-csrf-token")) headers.set("x-csrf-token", csrfToken)
    return fetch(`${baseUrl}${path}`, { redirect: "manual", ...init, headers })
  }
  return {
    baseUrl,
    cookie,
    csrfToken,
    fetch: send,
    postForm: (path, fields = {}) =>
      fetch(`${baseUrl}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrfToken, ...fields })
      })
  }
}

/** Posts the login form; the raw response (303 on success, 401 with the form again otherwise). */
export const postLogin = (baseUrl: string, email: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${baseUrl}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ email, password })
  })

/** Signs in through `POST /login`; throws if the sign-in is refused. */
export const login = async (baseUrl: string, email: string, password: string): Promise<TestSession> => {
  const response = await postLogin(baseUrl, email, password)
  const value = sessionCookieOf(response)
  if (response.status !== 303 || value === undefined)
    throw new Error(`sign-in as ${email} refused: ${response.status} ${await response.text()}`)
  return sessionFor(baseUrl, value)
}

/** Signs in as the test app's first administrator. */
export const loginAsAdmin = (baseUrl: string): Promise<TestSession> =>
  login(baseUrl, testAdmin.email, testAdmin.password)

/** Creates a user directly through the Users service (audited as the `test` system actor). */
export const createUser = (
  app: RunningApp,
  user: { readonly email: string; readonly role: Role; readonly password: string; readonly name?: string }
): Promise<User> =>
  Effect.runPromise(
    Context.get(app.context, Users).create(
      { email: user.email, role: user.role, displayName: user.name, password: Redacted.make(user.password) },
      testActor
    )
  )

/** Creates a user and signs in as them. */
export const loginAsNewUser = async (
  app: RunningApp,
  user: { readonly email: string; readonly role: Role; readonly password?: string }
): Promise<TestSession & { readonly user: User }> => {
  const password = user.password ?? `${user.role}-password-1234`
  const created = await createUser(app, { email: user.email, role: user.role, password })
  return { ...(await login(app.baseUrl, user.email, password)), user: created }
}
