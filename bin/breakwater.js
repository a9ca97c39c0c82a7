#!/usr/bin/env -S node --max-semi-space-size=8
// The `breakwater` command. Needs Node 24 (it runs the TypeScript sources directly); `npx breakwater`
// in this repository uses the Node 24 that `npm install` puts in node_modules/.bin. The flag on the
// first line caps V8's young generation so that collections stay short while it serves
// (docs/ADRs/0013-young-generation-size.md).
const [major] = process.versions.node.split(".").map(Number)
if (major < 24) {
  process.stderr.write(
    `breakwater needs Node.js 24 or newer (this is ${process.version}); run it with npx or npm run.\n`
  )
  process.exit(2)
}
// A server holding the embedded store takes the command over its control socket: it alone may
// open the store, and the command's effect is then the server's at once (docs/ADRs/0020).
const argv = process.argv.slice(2)
const { controlSocketFor, sendToServer } = await import("../src/core/control/client.ts")
const socket = controlSocketFor(argv, process.env)
const code = socket === undefined ? undefined : await sendToServer(socket, argv)
if (code !== undefined) process.exit(code)
// Otherwise the command runs here. Cache compiled modules on disk: later runs start much faster.
const { enableCompileCache } = await import("node:module")
enableCompileCache()
const { main } = await import("../src/cli.ts")
main(argv)
