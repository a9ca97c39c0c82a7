/**
 * The server's command line as `npm start` has it (its Node flags, then `src/main.ts`), so tests
 * and benchmarks that spawn the server run it exactly as operators do.
 */
import { readFileSync } from "node:fs"

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  readonly scripts: { readonly start: string }
}

const [program, ...args] = packageJson.scripts.start.split(/\s+/)
if (program !== "node" || !args.includes("src/main.ts"))
  throw new Error(`package.json's start script is not "node [flags] src/main.ts": ${packageJson.scripts.start}`)

/** The arguments after `node` in `npm start`, ending with `src/main.ts`. */
export const startArgs: ReadonlyArray<string> = args
