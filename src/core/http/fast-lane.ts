/**
 * The HTTP fast lane (ADR 0012): a few hot machine reads (`GET /api/v1/breaker/{scope}`) answered
 * by the Node request listener itself, before the Effect pipeline, when the caller is an API key
 * this process verified seconds ago and that holds the route's permission. The answer, its request
 * id, request log line and metrics are the same as the normal path's. Anything the lane is not
 * sure of (no or unknown key, a missing permission, a state it cannot answer from memory) goes
 * down the normal path, which handles it completely. The lane's one refusal is a key over its
 * rate limit: 429, the normal path's answer, given here because a flood of refusals sent down the
 * pipeline would cost the other readers the most.
 * A defect in the lane is answered 500 with the request id and logged, like the normal path's:
 * nothing thrown here may reach Node's event emitter, where it would end the process.
 */
import { randomUUID } from "node:crypto"
import { type IncomingMessage, Server, type ServerResponse } from "node:http"
import { Context, Layer } from "effect"
import type { Principal } from "../auth/access.ts"
import type { Permission } from "../auth/permissions.ts"
import { internalErrorJson } from "./negotiation.ts"
import type { FastRead } from "./route.ts"
import { PRIVATE_CACHE_CONTROL, SECURITY_HEADERS } from "./security-headers.ts"

export type FastHandler = (request: IncomingMessage, response: ServerResponse) => boolean

/** Where the server finds the lane once the routes are known (the server is created first). */
export interface FastLaneShape {
  handler: FastHandler | undefined
}

export class FastLane extends Context.Service<FastLane, FastLaneShape>()("breakwater/FastLane") {
  static readonly layer = Layer.sync(FastLane, (): FastLaneShape => ({ handler: undefined }))
}

/** A Node HTTP server that offers each request to the fast lane before its normal listener. */
export class FastLaneServer extends Server {
  readonly lane: FastLaneShape

  constructor(lane: FastLaneShape) {
    super()
    this.lane = lane
  }

  override emit(event: string, ...args: Array<unknown>): boolean {
    const handler = this.lane.handler
    if (event === "request" && handler !== undefined) {
      const response = args[1] as ServerResponse
      try {
        if (handler(args[0] as IncomingMessage, response)) return true
      } catch {
        // The handler answers its own defects; this is the last guard. An answer begun is the
        // client's; otherwise the normal path answers.
        if (response.headersSent) return true
      }
    }
    return super.emit(event, ...args)
  }
}

export interface FastRoute {
  readonly path: string
  readonly permission: Permission
  readonly read: FastRead
}

/** `/api/v1/breaker/:scope` → a matcher giving `{ scope }` for `/api/v1/breaker/global`. */
export const compilePath = (template: string) => {
  const segments = template.split("/")
  return (path: string): Record<string, string> | undefined => {
    const parts = path.split("/")
    if (parts.length !== segments.length) return undefined
    const params: Record<string, string> = {}
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] ?? ""
      const part = parts[i] ?? ""
      if (segment.startsWith(":")) {
        if (part === "") return undefined
        try {
          params[segment.slice(1)] = decodeURIComponent(part)
        } catch {
          return undefined
        }
      } else if (segment !== part) return undefined
    }
    return params
  }
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

export interface FastLaneDeps {
  readonly routes: ReadonlyArray<FastRoute>
  readonly verifiedKey: (token: string, now: number) => Principal | undefined
  /** Called once per answered request, for the request log line and the metrics. */
  readonly answered: (request: {
    readonly requestId: string
    readonly route: string
    readonly path: string
    readonly status: number
    readonly durationMs: number
  }) => void
  /** Called when reading an answer threw (a bug): the request was answered 500. */
  readonly failed: (request: { readonly requestId: string; readonly route: string; readonly error: unknown }) => void
  /** The per-key rate limit (`ApiRateLimiter`); absent: no limit. */
  readonly rateLimit?: {
    /** Counts the request and answers undefined, or the seconds to wait when the key is over its limit. */
    readonly take: (keyId: string, now: number) => number | undefined
    /** The message of the 429 answer (the normal path's). */
    readonly message: string
  }
}

const requestIdOf = (request: IncomingMessage) => {
  const given = request.headers["x-request-id"]
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID()
}

/** The headers every lane answer carries, as a flat name/value list built once. */
const FIXED_HEADERS: ReadonlyArray<string> = Object.entries({
  ...SECURITY_HEADERS,
  "content-type": "application/json",
  "cache-control": PRIVATE_CACHE_CONTROL
}).flat()

const write = (
  response: ServerResponse,
  status: number,
  body: string,
  requestId: string,
  extra: ReadonlyArray<string> = []
) => {
  response.writeHead(status, [
    ...FIXED_HEADERS,
    "content-length",
    String(Buffer.byteLength(body)),
    "x-request-id",
    requestId,
    ...extra
  ])
  response.end(body)
}

export const makeFastHandler = (deps: FastLaneDeps): FastHandler => {
  const routes = deps.routes.map((r) => ({ ...r, match: compilePath(r.path) }))
  const take = deps.rateLimit?.take
  const refusal = deps.rateLimit?.message ?? ""
  return (request, response) => {
    if (request.method !== "GET") return false
    const authorization = request.headers.authorization
    if (authorization === undefined) return false
    const url = request.url ?? "/"
    const query = url.indexOf("?")
    const path = query === -1 ? url : url.slice(0, query)
    for (const route of routes) {
      const params = route.match(path)
      if (params === undefined) continue
      const started = performance.now()
      const token = BEARER.exec(authorization)?.[1]
      const now = Date.now()
      const principal = token === undefined ? undefined : deps.verifiedKey(token, now)
      if (principal === undefined || !principal.permissions.has(route.permission)) return false
      let answer: ReturnType<FastRead>
      try {
        answer = route.read(params)
      } catch (error) {
        const requestId = requestIdOf(request)
        deps.failed({ requestId, route: route.path, error })
        write(response, 500, internalErrorJson(requestId), requestId)
        const durationMs = Math.round(performance.now() - started)
        deps.answered({ requestId, route: route.path, path, status: 500, durationMs })
        return true
      }
      if (answer === undefined) return false
      // Only for an answer given here: a request handed on gets its id from the normal path.
      const requestId = requestIdOf(request)
      // Counted only once the lane answers, so a request it hands on is not counted twice.
      const wait = take?.(principal.id, now)
      if (wait !== undefined) {
        const body = JSON.stringify({ error: { code: "too_many_requests", message: refusal, requestId } })
        write(response, 429, body, requestId, ["retry-after", String(wait)])
        deps.answered({
          requestId,
          route: route.path,
          path,
          status: 429,
          durationMs: Math.round(performance.now() - started)
        })
        return true
      }
      write(response, answer.status, answer.body, requestId)
      deps.answered({
        requestId,
        route: route.path,
        path,
        status: answer.status,
        durationMs: Math.round(performance.now() - started)
      })
      return true
    }
    return false
  }
}
