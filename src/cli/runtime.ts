/**
 * What CLI commands run against: the configured (and migrated) database and the configuration,
 * logging as configured. Commands print their results to stdout; logs go to stdout as JSON too,
 * so scripts should read the last line.
 */
import { Layer } from "effect"
import { Audit } from "../core/audit/audit.ts"
import { AppConfig } from "../core/config.ts"
import { DatabaseLive } from "../core/db/client.ts"
import { loggingFromConfig } from "../core/observability/logging.ts"
import { Metrics } from "../core/observability/metrics.ts"
import { Supervisor } from "../core/supervisor.ts"

export const CliDatabase = DatabaseLive.pipe(Layer.provide(loggingFromConfig), Layer.provideMerge(AppConfig.layer))

/** The database plus the audit writer, for commands that change something (and so audit it). */
export const CliAudited = Audit.layer.pipe(
  Layer.provideMerge(Supervisor.layer),
  Layer.provideMerge(Metrics.layer),
  Layer.provideMerge(CliDatabase)
)
