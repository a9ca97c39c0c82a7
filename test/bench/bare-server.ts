/**
 * The baseline for HTTP benchmarks: a bare node:http server answering fixed JSON on every path,
 * with the headers every Breakwater answer must carry (security headers, no-store, a request id of
 * the same length), so both servers send the same bytes.
 * Usage: `bare-server.ts <port> [body]`; without a body it answers `/healthz`'s JSON.
 */
import { randomUUID } from "node:crypto"
import { createServer } from "node:http"
import { SECURITY_HEADERS } from "../../src/core/http/security-headers.ts"

const port = Number(process.argv[2])
const body = Buffer.from(process.argv[3] ?? JSON.stringify({ status: "ok" }))
createServer((_req, res) => {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": "application/json",
    "content-length": body.length,
    "cache-control": "no-store",
    "x-request-id": randomUUID()
  })
  res.end(body)
}).listen(port, "127.0.0.1", () => process.send?.("ready"))
