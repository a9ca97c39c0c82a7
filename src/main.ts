/**
 * `npm start`: builds the application layer from the environment and launches it. Node's compile
 * cache is enabled first (before the application's modules load), so a second start skips most
 * of the module compilation; on the embedded database V8 is told to optimise for size before the
 * heap grows (core/runtime/memory-mode.ts).
 */
import { enableCompileCache } from "node:module"
import { optimizeForSizeWhenEmbedded } from "./core/runtime/memory-mode.ts"

if (Number(process.versions.node.split(".")[0]) < 24) {
  process.stderr.write(`breakwater needs Node.js 24 or newer (this is ${process.version}); start it with npm start.\n`)
  process.exit(2)
}
enableCompileCache()
optimizeForSizeWhenEmbedded(process.env)
const [{ runMain }, { serve }] = await Promise.all([import("./core/run.ts"), import("./serve.ts")])
runMain(serve)
