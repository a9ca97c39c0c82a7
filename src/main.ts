/** Serves Breakwater: builds the application layer from the environment and launches it. */
import { Layer } from "effect"
import { appLayer } from "./app.ts"
import { AppConfig } from "./core/config.ts"
import { runMain } from "./core/run.ts"
import { modules } from "./modules.ts"

export const serve = Layer.launch(appLayer(modules, AppConfig.layer))

if (import.meta.main) runMain(serve)
