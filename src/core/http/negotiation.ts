/**
 * What kind of answer a client wants, and the fixed body of a 500 (nothing about the cause,
 * which is logged; only the request id).
 */
import type { HttpServerRequest } from "effect/http"

export const INTERNAL_MESSAGE = "Something went wrong on our side."

/** The JSON body of a 500, for the paths that build it without `respondToFailure`. */
export const internalErrorJson = (requestId: string): string =>
  JSON.stringify({ error: { code: "internal", message: INTERNAL_MESSAGE, requestId } })

/** Whether the client wants JSON rather than a page. */
export const wantsJson = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const path = request.url.split("?")[0] ?? ""
  if (path.startsWith("/api/") || path === "/readyz") return true
  const accept = request.headers.accept ?? ""
  return accept.includes("application/json") && !accept.includes("text/html")
}
