/**
 * The baseline for HTTP benchmarks: a bare node:http server answering fixed JSON on every path.
 * Usage: `bare-server.ts <port> [body]`; without a body it answers `/healthz`'s JSON.
 */
import { createServer } from "node:http"

const port = Number(process.argv[2])
const body = Buffer.from(process.argv[3] ?? JSON.stringify({ status: "ok" }))
createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": body.length })
  res.end(body)
}).listen(port, "127.0.0.1", () => process.send?.("ready"))
