/**
 * The HTTP fast lane (ADR 0012): a few hot machine reads (`GET /api/v1/breaker/{scope}`) answered
 * by the Node request listener itself, before the Effect pipeline, when the caller is an API key
 * this process verified seconds ago and that holds the route's permission. The answer, its request
 * id, request log line and metrics are the same as the normal path's. Anything the lane is not
 * sure of (no or unknown key, a missing permission, a state it cannot answer from memory) goes
 * down the normal path, which handles it completely; the lane never refuses anything itself.
 */
import { randomUUID } from "node:crypto"
import { type IncomingMessage, Server, type ServerResponse } from "node:http"
import { Context, Layer } from "effect"
import type { Principal } from "../auth/access.ts"
import type { Permission } from "../auth/permissions.ts"
import type { FastRead } from "./route.ts"

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
    if (event === "request" && handler !== undefined && handler(args[0] as IncomingMessage, args[1] as ServerResponse))
      return true
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
}

export const makeFastHandler = (deps: FastLaneDeps): FastHandler => {
  const routes = deps.routes.map((r) => ({ ...r, match: compilePath(r.path) }))
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
      const principal = token === undefined ? undefined : deps.verifiedKey(token, Date.now())
      if (principal === undefined || !principal.permissions.has(route.permission)) return false
      const answer = route.read(params)
      if (answer === undefined) return false
      const given = request.headers["x-request-id"]
      const requestId = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID()
      response.writeHead(answer.status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(answer.body),
        "cache-control": "no-store",
        "x-request-id": requestId
      })
      response.end(answer.body)
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
