/**
 * What CLI commands run against: the configured (and migrated) database and the configuration,
 * logging as configured. Commands print their results to stdout; logs go to stdout as JSON too,
 * so scripts should read the last line.
 */
import { Layer } from "effect"
import { AppConfig } from "../core/config.ts"
import { DatabaseLive } from "../core/db/client.ts"
import { loggingFromConfig } from "../core/observability/logging.ts"

export const CliDatabase = DatabaseLive.pipe(Layer.provide(loggingFromConfig), Layer.provideMerge(AppConfig.layer))
