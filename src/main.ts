/**
 * `npm start`: builds the application layer from the environment and launches it. Node's compile
 * cache is enabled first (before the application's modules load), so a second start skips most
 * of the module compilation.
 */
import { enableCompileCache } from "node:module"

enableCompileCache()
const [{ runMain }, { serve }] = await Promise.all([import("./core/run.ts"), import("./serve.ts")])
runMain(serve)
