/**
 * Regression tests for the input defects of issue 9, against the whole application on real
 * PostgreSQL and Redis: hostile JSON in a trip (deep nesting that crashed the process or wedged
 * the audit chain; NUL and lone surrogates that wedged the breaker), out-of-range query and path
 * values that answered 500 or a false 503, a `next` that made the sign-in answer fail, bodies too
 * large to buffer, and the security headers. Each one answered wrongly before its fix.
 */
import { connect } from "node:net"
import { beforeAll, describe, expect, it } from "vitest"
import { loginAsAdmin, postLogin, sessionCookieOf, type TestSession, testAdmin } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp({ HTTP_MAX_FORM_BYTES: "16384", HTTP_MAX_BODY_BYTES: "262144" })
let admin: TestSession
let viewerKey: string

const REASON = "venue latency above the limit, halting while we check"

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
  const created = await admin.fetch("/api/v1/api-keys", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "desk poller", scopes: ["VIEW_CIRCUIT_BREAKER", "VIEW_AUDIT"], expiresIn: "30d" })
  })
  expect(created.status).toBe(201)
  viewerKey = ((await created.json()) as { apiKey: string }).apiKey
})

const url = (path: string) => `${testApp.app.baseUrl}${path}`
const byKey = (path: string) => fetch(url(path), { headers: { authorization: `Bearer ${viewerKey}` } })

/** `{"a":{"a":…}}`, `levels` deep, as text (building it as a value would need the same recursion). */
const nestedJson = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`

const postRaw = (path: string, body: string) =>
  admin.fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body })

const errorOf = async (res: Response) =>
  (
    (await res.json()) as {
      error: { code: string; message: string; issues?: Array<{ path: string; message: string }> }
    }
  ).error

/** What must not move when an input is refused: the scope and its history. */
const breakerState = async (scope: string) => {
  const [row] = await testApp.query<{ state: string; version: string }>(
    "SELECT state, version FROM breaker_scope WHERE scope = $1",
    [scope]
  )
  const [history] = await testApp.query<{ n: string }>(
    "SELECT count(*) AS n FROM breaker_transition WHERE scope = $1",
    [scope]
  )
  return { row, transitions: history?.n }
}

describe("hostile JSON in a trip", () => {
  it("refuses details nested 6,000 levels with a 400 naming the body, and the process keeps serving (defect 1)", async () => {
    const before = await breakerState("global")
    const res = await postRaw(
      "/api/v1/breaker/global/trip",
      `{"reason":${JSON.stringify(REASON)},"acknowledge":true,"details":${nestedJson(6000)}}`
    )
    expect(res.status).toBe(400)
    expect((await errorOf(res)).message).toMatch(/nests deeper than 32 levels/)
    expect(await breakerState("global")).toEqual(before)
    // The fast lane's read (a verified key) and the normal path both still answer.
    for (let i = 0; i < 3; i++) expect((await byKey("/api/v1/breaker/global")).status).toBe(200)
    expect((await fetch(url("/healthz"))).status).toBe(200)
  })

  it("refuses details 3,000 levels deep or over 16 KB at decode, naming `details` (defect 2)", async () => {
    const before = await breakerState("global")
    const deep = await postRaw(
      "/api/v1/breaker/global/trip",
      `{"reason":${JSON.stringify(REASON)},"acknowledge":true,"details":${nestedJson(3000)}}`
    )
    expect(deep.status).toBe(400)
    const seventeen = await postRaw(
      "/api/v1/breaker/global/trip",
      `{"reason":${JSON.stringify(REASON)},"acknowledge":true,"details":${nestedJson(17)}}`
    )
    expect(seventeen.status).toBe(400)
    expect((await errorOf(seventeen)).issues).toEqual([
      { path: "details", message: "must nest at most 16 levels deep" }
    ])
    const big = await postRaw(
      "/api/v1/breaker/global/trip",
      JSON.stringify({ reason: REASON, acknowledge: true, details: { blob: "x".repeat(20_000) } })
    )
    expect(big.status).toBe(400)
    expect((await errorOf(big)).issues?.[0]?.path).toBe("details")
    expect(await breakerState("global")).toEqual(before)
    // Nothing deep reached the audit log: the sealer keeps sealing.
    const [pending] = await testApp.query<{ n: string }>("SELECT count(*) AS n FROM audit_pending")
    expect(Number(pending?.n)).toBeLessThan(1000)
  })

  it.each([
    ["a NUL in the reason", { reason: `${REASON}\u0000`, acknowledge: true }, "reason"],
    ["a lone surrogate in the reason", { reason: `${REASON}\ud800`, acknowledge: true }, "reason"],
    ["a NUL in details", { reason: REASON, acknowledge: true, details: { note: "a\u0000b" } }, "details.note"],
    ["a lone surrogate in a details key", { reason: REASON, acknowledge: true, details: { "k\udc00": 1 } }, "details"]
  ])("refuses %s with a 400 naming the field, and leaves the breaker as it was (defect 3)", async (_, body, path) => {
    const before = await breakerState("global")
    const res = await postRaw("/api/v1/breaker/global/trip", JSON.stringify(body))
    expect(res.status).toBe(400)
    const error = await errorOf(res)
    expect(error.issues?.map((i) => i.path)).toEqual([path])
    expect(error.message).not.toMatch(/database|unreachable|unavailable/i)
    expect(await breakerState("global")).toEqual(before)
    const read = await admin.fetch("/api/v1/breaker/global")
    expect(read.status).toBe(200)
    expect(((await read.json()) as { state: string }).state).not.toBe("UNKNOWN")
  })

  it("still trips and resets normally after refused input (the breaker is not wedged)", async () => {
    await admin.fetch("/api/v1/breaker/scopes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scope: "hardening-venue" })
    })
    await postRaw(
      "/api/v1/breaker/hardening-venue/trip",
      JSON.stringify({ reason: `${REASON}\u0000`, acknowledge: true })
    )
    const trip = await postRaw(
      "/api/v1/breaker/hardening-venue/trip",
      JSON.stringify({ reason: REASON, acknowledge: true })
    )
    expect(trip.status).toBe(200)
    expect(((await trip.json()) as { persisted: boolean }).persisted).toBe(true)
    const reset = await postRaw(
      "/api/v1/breaker/hardening-venue/reset",
      JSON.stringify({ reason: "latency back to normal, checked by the desk", acknowledge: true })
    )
    expect(reset.status).toBe(200)
  })
})

describe("query and path values out of range (defect 6)", () => {
  it.each([
    "/api/v1/audit?cursor=9223372036854775808",
    "/audit?cursor=9223372036854775808",
    "/api/v1/audit?from=%2B275760-09-13T00:00:00Z",
    "/api/v1/audit?to=-000001-01-01T00:00:00Z",
    "/api/v1/audit?from=0000-12-31T23:00:00Z",
    "/api/v1/audit?action=a%00b",
    "/api/v1/breaker/global/history?before=abc",
    "/api/v1/breaker/global/history?before=99999999999999999999",
    "/api/v1/breaker/%00/history",
    "/api/v1/breaker/global/approvals/%00/approve"
  ])("%s answers 400, never 500 or 503", async (path) => {
    const post = path.endsWith("/approve")
    const res = await admin.fetch(path, {
      headers: { accept: "application/json", "content-type": "application/json" },
      ...(post ? { method: "POST", body: JSON.stringify({ acknowledge: true }) } : {})
    })
    expect(res.status, await res.clone().text()).toBe(400)
  })

  it("reads invalid UTF-8 in a query as URLs are read (U+FFFD); in a path it matches no route", async () => {
    const query = await admin.fetch("/audit?actor=%ED%A0%80x")
    expect(query.status).toBe(200)
    // A path whose escapes are not UTF-8 names no route.
    const path = await admin.fetch("/api/v1/breaker/%ED%A0%80", { headers: { accept: "application/json" } })
    expect(path.status).toBe(404)
  })

  it("refuses an API key name with U+0000 as a 400 naming `name`", async () => {
    const res = await admin.fetch("/api/v1/api-keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "a\u0000b", scopes: ["VIEW_DASHBOARD"], expiresIn: "30d" })
    })
    expect(res.status).toBe(400)
    expect((await errorOf(res)).issues?.map((i) => i.path)).toEqual(["name"])
  })

  it("refuses email=a%00b on POST /login as a 400 naming the field (it was a 500)", async () => {
    const res = await fetch(url("/login"), {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "email=a%00b&password=whatever-it-is"
    })
    expect(res.status).toBe(400)
    expect(await res.text()).toContain("email")
  })

  it("redirects a signed-in GET /login?next=/%C4%80 to the encoded path", async () => {
    const res = await admin.fetch("/login?next=/%C4%80")
    expect(res.status).toBe(303)
    expect(res.headers.get("location")).toBe("/%C4%80")
  })

  it("signs in with next=/Ā: 303 to the encoded path, with the session cookie", async () => {
    const res = await fetch(url("/login"), {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email: testAdmin.email, password: testAdmin.password, next: "/\u0100?x=\u00e9" })
    })
    expect(res.status).toBe(303)
    expect(res.headers.get("location")).toBe("/%C4%80?x=%C3%A9")
    expect(sessionCookieOf(res)).toBeDefined()
  })
})

/** Sends a request line, headers and part of a body on a raw socket; resolves with the status line. */
const rawRequest = (head: string, bodyPart: string) =>
  new Promise<{ statusLine: string; ms: number }>((resolve, reject) => {
    const started = performance.now()
    const target = new URL(testApp.app.baseUrl)
    const socket = connect(Number(target.port), target.hostname, () => socket.write(`${head}\r\n\r\n${bodyPart}`))
    let received = ""
    socket.setEncoding("latin1")
    socket.on("data", (chunk: string) => {
      received += chunk
      const end = received.indexOf("\r\n")
      if (end >= 0) {
        resolve({ statusLine: received.slice(0, end), ms: performance.now() - started })
        socket.destroy()
      }
    })
    socket.on("error", reject)
    setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within 5 s; got ${JSON.stringify(received)}`))
    }, 5000)
  })

describe("bodies too large (defect 5)", () => {
  it("answers 413 to an anonymous POST /login declaring 450 MB, before the body is sent", async () => {
    const host = new URL(testApp.app.baseUrl).host
    const answer = await rawRequest(
      `POST /login HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${450 * 1024 * 1024}`,
      "email=a"
    )
    expect(answer.statusLine).toMatch(/^HTTP\/1\.1 413 /)
  })

  it("answers 413 to a chunked form body over the form limit, reading no more than the limit", async () => {
    const host = new URL(testApp.app.baseUrl).host
    const chunk = "x".repeat(32 * 1024)
    const answer = await rawRequest(
      `POST /login HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked`,
      `${chunk.length.toString(16)}\r\nemail=${chunk}\r\n`
    )
    expect(answer.statusLine).toMatch(/^HTTP\/1\.1 413 /)
  })

  it("gives the API the larger limit: a 100 KB JSON body is read, a 300 KB one refused", async () => {
    const padded = (bytes: number) => JSON.stringify({ scope: "x".repeat(bytes), password: "" })
    const small = await postRaw("/api/v1/breaker/scopes", padded(100 * 1024))
    expect(small.status).toBe(400) // read and decoded: the scope name is too long
    const big = await postRaw("/api/v1/breaker/scopes", padded(300 * 1024))
    expect(big.status).toBe(413)
    expect((await errorOf(big)).code).toBe("payload_too_large")
  })
})

describe("security headers (defect 8)", () => {
  const expectSecurityHeaders = (res: Response, what: string) => {
    expect(res.headers.get("content-security-policy"), what).toMatch(/script-src 'self'/)
    expect(res.headers.get("content-security-policy"), what).toMatch(/frame-ancestors 'none'/)
    expect(res.headers.get("x-frame-options"), what).toBe("DENY")
    expect(res.headers.get("x-content-type-options"), what).toBe("nosniff")
    expect(res.headers.get("referrer-policy"), what).toBe("same-origin")
  }

  it("are on every kind of answer: page, JSON, error, redirect, static asset, fast lane", async () => {
    const answers: Array<[string, Response]> = [
      ["page", await admin.fetch("/breaker")],
      ["JSON", await admin.fetch("/api/v1/system")],
      ["404", await fetch(url("/no-such-page"))],
      ["401 JSON", await fetch(url("/api/v1/audit"))],
      ["redirect", await fetch(url("/breaker"), { redirect: "manual" })],
      ["asset", await fetch(url("/assets/app.css"))],
      ["probe", await fetch(url("/readyz"))]
    ]
    await byKey("/api/v1/breaker/global")
    answers.push(["fast lane", await byKey("/api/v1/breaker/global")])
    for (const [what, res] of answers) expectSecurityHeaders(res, what)
  })

  it("marks every authenticated answer no-store, JSON included; static assets stay cacheable", async () => {
    for (const path of ["/api/v1/api-keys", "/api/v1/audit", "/api/v1/system", "/breaker", "/no-such-page"])
      expect((await admin.fetch(path)).headers.get("cache-control"), path).toBe("no-store")
    expect((await byKey("/api/v1/audit")).headers.get("cache-control")).toBe("no-store")
    expect((await fetch(url("/assets/app.css"))).headers.get("cache-control")).toMatch(/max-age/)
  })
})

describe("API keys on the API only (console routes take sessions)", () => {
  it("a bearer key on a console page is not a sign-in", async () => {
    const res = await fetch(url("/breaker"), { redirect: "manual", headers: { authorization: `Bearer ${viewerKey}` } })
    expect(res.status).toBe(303)
    expect(res.headers.get("location")).toMatch(/^\/login/)
  })
})

describe("sign-in while the request body is hostile", () => {
  it("refuses a NUL in the email before any sign-in attempt is counted or audited", async () => {
    const before = await testApp.query<{ n: string }>("SELECT count(*) AS n FROM login_failures")
    const res = await postLogin(testApp.app.baseUrl, "nobody\u0000@test.local", "x")
    expect(res.status).toBe(400)
    expect(await testApp.query<{ n: string }>("SELECT count(*) AS n FROM login_failures")).toEqual(before)
  })
})
