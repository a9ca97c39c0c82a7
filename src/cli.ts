/**
 * The `breakwater` command run in this process: `serve` (the default), then the commands of core
 * (`migrate`, `audit …`, `retention …`) and of every installed module (`user …`, `apikey …`,
 * `breaker …`), each over its module's context in the same composition as the server (without the
 * server's fibers). While a server holds the embedded store, `bin/breakwater.js` sends the command
 * to it instead (`core/control/`), and this file is not even loaded.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { moduleContext } from "./cli/runtime.ts"
import { localCommandInput } from "./core/cli/command-input.ts"
import { commandTree, runTree } from "./core/cli/tree.ts"
import { coreModule } from "./core/core-module.ts"
import type { Module } from "./core/module.ts"
import { runMain } from "./core/run.ts"
import { version } from "./core/version.ts"
import { modules as installed } from "./modules.ts"
import { serve } from "./serve.ts"

/** The command tree for a module list, each module's commands over its own context. */
export const cliFor = (modules: ReadonlyArray<Module>) =>
  commandTree([coreModule, ...modules], (name) => moduleContext(modules, name), serve)

export const main = (args: ReadonlyArray<string> = process.argv.slice(2)): void =>
  runMain(
    runTree(
      cliFor(installed),
      version
    )(args).pipe(Effect.provide(localCommandInput), Effect.provide(NodeServices.layer))
  )

if (import.meta.main) main()
