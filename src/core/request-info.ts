/**
 * Per-request facts every handler and log line can use: the request id, the client address and
 * the matched route template. A reference with a default, so code outside a request still runs.
 */
import { Context } from "effect"

export interface RequestInfoShape {
  readonly requestId: string
  readonly clientAddress: string
  readonly startedAt: number
  /** The matched route template; set by the route table, `undefined` when nothing matched. */
  route: string | undefined
  /** Whether the caller proved who they are (session or API key): the answer is then private. */
  authenticated: boolean
}

export const RequestInfo = Context.Reference<RequestInfoShape>("breakwater/RequestInfo", {
  defaultValue: () => ({
    requestId: "none",
    clientAddress: "unknown",
    startedAt: 0,
    route: undefined,
    authenticated: false
  })
})
