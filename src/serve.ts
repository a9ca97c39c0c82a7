/** The serving program: the application layer built from the environment, launched until stopped. */
import { Effect, Layer } from "effect"
import { appLayer } from "./app.ts"
import { AppConfig, removedVariableWarnings } from "./core/config.ts"
import { youngGenerationWarning } from "./core/runtime/young-generation.ts"
import { modules } from "./modules.ts"

/** Tells the operator when the process lacks the Node flags it is meant to run with, or is given variables no longer read. */
const runtimeChecks = Layer.effectDiscard(
  Effect.suspend(() => {
    const young = youngGenerationWarning()
    const warnings = [...(young === undefined ? [] : [young]), ...removedVariableWarnings(process.env)]
    return Effect.forEach(warnings, (warning) => Effect.logWarning(warning), { discard: true })
  })
)

export const serve = Layer.launch(appLayer(modules, AppConfig.layer, runtimeChecks))
