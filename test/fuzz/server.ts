/**
 * The server under fuzz: Breakwater as a child process (so a crash is a real, visible exit, not a
 * rejected promise in the test's own process), restarted on the same stores when a case killed
 * it, and a raw HTTP client. The client is `node:http` rather than `fetch` because the fuzz suite
 * must send what `fetch` would normalise away: `..` segments, raw `%` sequences, bytes that are
 * not UTF-8, a missing or duplicated content type.
 */
import { Agent, request as httpRequest } from "node:http"
import { testEnv } from "../support/app.ts"
import type { TestStores } from "../support/database.ts"
import { type Child, freePort, spawnBreakwater, waitFor } from "../support/processes.ts"

const START_TIMEOUT_MS = 60_000

/**
 * The limits the server runs with (set explicitly, at their defaults): the body limits of API
 * routes and of forms and public routes, and Node's limit on a request's head (line and headers).
 */
export const LIMITS = { apiBody: 1_048_576, formBody: 65_536, head: 16_384 } as const

export interface RawRequest {
  readonly method: string
  /** Sent as given: already percent-encoded where it should be, raw where it should not. */
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer | undefined
}

export type RawOutcome =
  | {
      readonly kind: "answer"
      readonly status: number
      readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
      /** At most {@link BODY_KEEP} characters; a streaming answer (server-sent events) is not read. */
      readonly body: string
    }
  | { readonly kind: "error"; readonly message: string }
  /** Node's client would not send it (e.g. a header value it considers invalid): not a case. */
  | { readonly kind: "unsent"; readonly message: string }

const BODY_KEEP = 4000

export interface FuzzServer {
  readonly baseUrl: () => string
  readonly port: () => number
  readonly child: () => Child
  readonly running: () => boolean
  /** Starts a new process on the same stores (after a crash); resolves once it answers `/healthz`. */
  readonly restart: () => Promise<void>
  readonly send: (request: RawRequest, timeoutMs: number) => Promise<RawOutcome>
  /** `status` of `GET /readyz`, or why it could not be read. */
  readonly readiness: () => Promise<string>
  readonly stop: () => Promise<void>
}

/** The lines of the child's output that mention `needle` (e.g. a request id), at most `max`. */
export const linesMentioning = (child: Child, needle: string, max = 5): ReadonlyArray<string> =>
  needle === ""
    ? []
    : `${child.stdout()}\n${child.stderr()}`
        .split("\n")
        .filter((line) => line.includes(needle))
        .slice(0, max)
        .map((line) => line.slice(0, 2000))

/** The end of the child's output, for a crash report. */
export const outputTail = (child: Child, chars = 4000): string => {
  const all = `${child.stdout()}${child.stderr() === "" ? "" : `\n--- stderr ---\n${child.stderr()}`}`
  return all.length <= chars ? all : `…${all.slice(-chars)}`
}

export const startFuzzServer = async (stores: TestStores): Promise<FuzzServer> => {
  let port = 0
  let child: Child | undefined
  let agent = new Agent({ keepAlive: true, maxSockets: 1 })

  const start = async () => {
    port = await freePort()
    // Warn level: no request lines (10,000 of them), but every logged error, with its request id.
    child = spawnBreakwater({
      ...testEnv(stores),
      PORT: String(port),
      HTTP_MAX_BODY_BYTES: String(LIMITS.apiBody),
      HTTP_MAX_FORM_BYTES: String(LIMITS.formBody)
    })
    const started = child
    await waitFor(
      "the fuzzed server to answer /healthz",
      async () => {
        if (!started.running()) throw new Error(`the server exited at start:\n${outputTail(started)}`)
        const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) })
        await response.body?.cancel()
        return response.status === 200 ? true : undefined
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 50 }
    )
  }
  await start()

  const current = (): Child => {
    if (child === undefined) throw new Error("the fuzzed server was never started")
    return child
  }

  const send = (raw: RawRequest, timeoutMs: number): Promise<RawOutcome> =>
    new Promise((resolve) => {
      let settled = false
      // Declared before `finish`: a request Node refuses to build settles before the timer exists.
      let timer: ReturnType<typeof setTimeout> | undefined
      const finish = (outcome: RawOutcome) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(outcome)
      }
      let req: ReturnType<typeof httpRequest>
      try {
        req = httpRequest({
          host: "127.0.0.1",
          port,
          method: raw.method,
          path: raw.path,
          headers: raw.headers,
          agent
        })
      } catch (error) {
        finish({ kind: "unsent", message: String(error) })
        return
      }
      timer = setTimeout(() => {
        req.destroy()
        finish({ kind: "error", message: `no answer within ${timeoutMs} ms` })
      }, timeoutMs)
      req.on("error", (error) => finish({ kind: "error", message: error.message }))
      req.on("response", (response) => {
        const type = String(response.headers["content-type"] ?? "")
        const head = { status: response.statusCode ?? 0, headers: response.headers }
        if (type.startsWith("text/event-stream")) {
          // A stream that never ends: the status and headers are the answer.
          response.destroy()
          finish({ kind: "answer", ...head, body: "(event stream, not read)" })
          return
        }
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => {
          if (body.length < BODY_KEEP) body += chunk
        })
        response.on("end", () => finish({ kind: "answer", ...head, body: body.slice(0, BODY_KEEP) }))
        response.on("error", (error) =>
          finish({ kind: "error", message: `the answer (${head.status}) was cut off: ${error.message}` })
        )
      })
      req.end(raw.body)
    })

  const readiness = async () => {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) })
      const body: unknown = await response.json()
      return typeof body === "object" && body !== null && "status" in body && typeof body.status === "string"
        ? body.status
        : `unreadable report (${response.status})`
    } catch (error) {
      return `no report: ${error instanceof Error ? error.message : String(error)}`
    }
  }

  return {
    baseUrl: () => `http://127.0.0.1:${port}`,
    port: () => port,
    child: current,
    running: () => child?.running() ?? false,
    restart: async () => {
      agent.destroy()
      agent = new Agent({ keepAlive: true, maxSockets: 1 })
      await child?.stop("SIGKILL", 5_000)
      await start()
    },
    send,
    readiness,
    stop: async () => {
      agent.destroy()
      await child?.stop("SIGTERM", 10_000)
    }
  }
}
