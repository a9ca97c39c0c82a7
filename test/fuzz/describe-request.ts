/**
 * A built fuzz request as a failure report shows it: method, path, caller, headers and body, long
 * values cut and credentials left out. It exists so a failure can be read and replayed by hand.
 */
import type { BuiltRequest } from "./build-request.ts"
import type { PrincipalName } from "./state.ts"

/** A case as a report shows it: what was sent, long values cut. */
export const describeRequest = (built: BuiltRequest, principal: PrincipalName): string => {
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s)
  const headers = Object.entries(built.headers)
    .filter(([name]) => name !== "cookie" && name !== "x-csrf-token" && name !== "authorization")
    .map(([name, value]) => `    ${name}: ${cut(value, 120)}`)
  const body = built.body === undefined ? "(none)" : cut(built.body.toString("latin1"), 600)
  return [
    `  ${built.method} ${cut(built.path, 400)}`,
    `  as ${principal}`,
    ...(headers.length > 0 ? ["  headers:", ...headers] : []),
    `  body: ${body}`
  ].join("\n")
}
