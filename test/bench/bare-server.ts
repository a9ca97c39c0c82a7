/** The baseline for HTTP benchmarks: a bare node:http server answering the same JSON as /healthz. */
import { createServer } from "node:http"

const port = Number(process.argv[2])
const body = JSON.stringify({ status: "ok" })
createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  res.end(body)
}).listen(port, "127.0.0.1", () => process.send?.("ready"))
