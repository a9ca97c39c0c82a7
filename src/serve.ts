/** The serving program: the application layer built from the environment, launched until stopped. */
import { Effect, Layer } from "effect"
import { appLayer } from "./app.ts"
import { AppConfig } from "./core/config.ts"
import { youngGenerationWarning } from "./core/runtime/young-generation.ts"
import { modules } from "./modules.ts"

/** Tells the operator when the process lacks the Node flags it is meant to run with. */
const runtimeChecks = Layer.effectDiscard(
  Effect.suspend(() => {
    const warning = youngGenerationWarning()
    return warning === undefined ? Effect.void : Effect.logWarning(warning)
  })
)

export const serve = Layer.launch(appLayer(modules, AppConfig.layer, runtimeChecks))
