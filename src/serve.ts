/** The serving program: the application layer built from the environment, launched until stopped. */
import { Layer } from "effect"
import { appLayer } from "./app.ts"
import { AppConfig } from "./core/config.ts"
import { modules } from "./modules.ts"

export const serve = Layer.launch(appLayer(modules, AppConfig.layer))
