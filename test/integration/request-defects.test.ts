/**
 * No request can kill the process (issue 9): a defect thrown on any request path — a JSON route, a
 * page, after reading a body, inside the HTTP fast lane, in the middle of a streamed answer — is
 * answered 500 with the request id (or, once an answer has begun, ends that answer), logged at
 * error level with its cause, and the process keeps serving. Handlers that throw are injected as
 * a module of their own next to the real ones.
 */
import { Effect, Layer, Schema, Stream } from "effect"
import { HttpServerResponse } from "effect/http"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { decodeJson } from "../../src/core/http/decode.ts"
import { page } from "../../src/core/http/page.ts"
import { defineModule } from "../../src/core/module.ts"
import { modules } from "../../src/modules.ts"
import { html } from "../../views/html.ts"
import { startAppPromise, testEnv } from "../support/app.ts"
import { createTestStores } from "../support/database.ts"
import { loginAsAdmin, type TestSession } from "../support/session.ts"

const boom = (where: string) => {
  throw new RangeError(`injected defect: ${where}`)
}

const defects = defineModule({
  name: "defects",
  layer: Layer.empty,
  routes: [
    {
      method: "GET",
      path: "/api/v1/test/defect",
      access: "VIEW_DASHBOARD",
      summary: "throws",
      handler: Effect.sync(() => boom("json route"))
    },
    {
      method: "GET",
      path: "/test/defect-page",
      access: "VIEW_DASHBOARD",
      summary: "throws while rendering",
      handler: Effect.flatMap(
        Effect.sync(() => boom("page")),
        () => page("never", html`never`)
      )
    },
    {
      method: "POST",
      path: "/api/v1/test/defect-after-body",
      access: "VIEW_DASHBOARD",
      summary: "reads a body, then throws",
      handler: Effect.flatMap(decodeJson(Schema.Struct({ n: Schema.Number })), () =>
        Effect.sync(() => boom("after the body"))
      )
    },
    {
      method: "GET",
      path: "/api/v1/test/defect-fast/:x",
      access: "VIEW_DASHBOARD",
      summary: "the fast lane's read throws",
      handler: Effect.succeed(HttpServerResponse.jsonUnsafe({ normal: true })),
      fast: Effect.succeed(() => boom("fast lane"))
    },
    {
      method: "GET",
      path: "/api/v1/test/defect-stream",
      access: "VIEW_DASHBOARD",
      summary: "throws in the middle of a streamed answer",
      handler: Effect.succeed(
        HttpServerResponse.stream(
          Stream.concat(
            Stream.make(new TextEncoder().encode("first chunk\n")),
            Stream.fromEffect(Effect.sync(() => boom("stream")))
          ),
          { contentType: "text/plain" }
        )
      )
    }
  ]
})

let app: Awaited<ReturnType<typeof startAppPromise>>
let admin: TestSession
let key: string
const logged: Array<string> = []

beforeAll(async () => {
  const write = process.stdout.write.bind(process.stdout)
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    logged.push(String(chunk))
    return write(chunk)
  })
  app = await startAppPromise(testEnv(await createTestStores(), { LOG_LEVEL: "error" }), [...modules, defects])
  admin = await loginAsAdmin(app.baseUrl)
  const created = await admin.fetch("/api/v1/api-keys", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "defect key", scopes: ["VIEW_DASHBOARD"], expiresIn: "7d" })
  })
  key = ((await created.json()) as { apiKey: string }).apiKey
})
afterAll(async () => {
  await app?.stop()
  vi.restoreAllMocks()
})

/** The process still serves, and the defect was logged at error level with its cause. */
const stillServingAndLogged = async (where: string) => {
  expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200)
  await new Promise((resolve) => setImmediate(resolve))
  const line = logged
    .join("")
    .split("\n")
    .find((l) => l.includes(`injected defect: ${where}`))
  expect(line, `a log line for ${where}`).toBeDefined()
  expect(JSON.parse(line ?? "{}")).toMatchObject({ level: "error" })
}

const expect500WithRequestId = async (res: Response, requestId: string) => {
  expect(res.status).toBe(500)
  expect(res.headers.get("x-request-id")).toBe(requestId)
  expect(await res.text()).toContain(requestId)
}

describe("a defect on a request path", () => {
  it("in a JSON route: 500 with the request id", async () => {
    const res = await admin.fetch("/api/v1/test/defect", { headers: { "x-request-id": "defect-json" } })
    await expect500WithRequestId(res, "defect-json")
    await stillServingAndLogged("json route")
  })

  it("in a page: the 500 error page with the request id", async () => {
    const res = await admin.fetch("/test/defect-page", { headers: { "x-request-id": "defect-page" } })
    expect(res.headers.get("content-type")).toContain("text/html")
    await expect500WithRequestId(res, "defect-page")
    await stillServingAndLogged("page")
  })

  it("after reading a body: 500 with the request id", async () => {
    const res = await admin.fetch("/api/v1/test/defect-after-body", {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "defect-body" },
      body: JSON.stringify({ n: 1 })
    })
    await expect500WithRequestId(res, "defect-body")
    await stillServingAndLogged("after the body")
  })

  it("in the fast lane: 500 with the request id, outside the Effect pipeline", async () => {
    const headers = { authorization: `Bearer ${key}` }
    // The first request verifies the key (normal path); the next ones are the lane's.
    expect((await fetch(`${app.baseUrl}/api/v1/test/defect-fast/x`, { headers })).status).toBe(200)
    const res = await fetch(`${app.baseUrl}/api/v1/test/defect-fast/x`, {
      headers: { ...headers, "x-request-id": "defect-fast" }
    })
    await expect500WithRequestId(res, "defect-fast")
    await stillServingAndLogged("fast lane")
  })

  it("in the middle of a streamed answer: the answer ends, the process serves on", async () => {
    // Depending on how far the answer got, the client sees a cut body or a closed connection.
    const outcome = await admin
      .fetch("/api/v1/test/defect-stream")
      .then((res) => res.text())
      .then(
        (text) => `complete: ${text}`,
        () => "cut"
      )
    expect(outcome).toBe("cut")
    await stillServingAndLogged("stream")
  })
})
