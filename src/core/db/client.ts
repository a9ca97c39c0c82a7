/**
 * The SQL client of the process: `@effect/sql-pg` against `DATABASE_URL`, or against the embedded
 * PGlite when it is unset. Migrations are applied before the layer is ready, so every service
 * that uses the client sees the current schema.
 */
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import type { SqlClient } from "effect/sql"
import { AppConfig } from "../config.ts"
import { startEmbeddedDatabase } from "./embedded.ts"
import { migrate } from "./migrator.ts"

export type DatabaseMode = "external" | "embedded"

export interface DatabaseInfoShape {
  readonly mode: DatabaseMode
  /** Where the data lives, safe to show (no credentials). */
  readonly location: string
}

/** Which database this process talks to. */
export class DatabaseInfo extends Context.Service<DatabaseInfo, DatabaseInfoShape>()("breakwater/DatabaseInfo") {}

/** Host, port and database name of a URL, without credentials. */
export const describeUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`
  } catch {
    return "(unparseable URL)"
  }
}

/** Host, port and database from the URL too: the client names its spans from these fields. */
const urlParts = (url: string) => {
  try {
    const parsed = new URL(url)
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""))
    return {
      host: parsed.hostname,
      port: parsed.port === "" ? 5432 : Number(parsed.port),
      ...(database === "" ? {} : { database })
    }
  } catch {
    return {}
  }
}

const clientLayer = (url: Redacted.Redacted<string>, maxConnections: number) =>
  PgClient.layer({
    url,
    ...urlParts(Redacted.value(url)),
    maxConnections,
    applicationName: "breakwater",
    connectTimeout: "5 seconds",
    // A statement that hangs must not hold a connection for ever.
    startupParameters: { statement_timeout: "30000" }
  })

/** SQL client plus database info, migrated. */
export const DatabaseLive: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient | DatabaseInfo, unknown, AppConfig> =
  Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      const base = yield* Option.match(config.databaseUrl, {
        onSome: (url) =>
          Effect.succeed(
            Layer.merge(
              clientLayer(url, config.dbMaxConnections),
              Layer.succeed(DatabaseInfo, { mode: "external", location: describeUrl(Redacted.value(url)) })
            )
          ),
        onNone: () =>
          Effect.succeed(
            Layer.unwrap(
              Effect.map(startEmbeddedDatabase(config.dataDir), (embedded) =>
                Layer.merge(
                  clientLayer(embedded.url, 1),
                  Layer.succeed(DatabaseInfo, { mode: "embedded", location: embedded.directory })
                )
              )
            )
          )
      })
      return Layer.effectDiscard(migrate).pipe(Layer.provideMerge(base))
    })
  )
