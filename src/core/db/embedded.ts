/**
 * Embedded PostgreSQL: PGlite (PostgreSQL compiled to WASM) stored under the data directory and
 * served on a private loopback port, so the same SQL client and the same migrations work with
 * no database installed. One connection at a time: PGlite is single-session.
 */
import { mkdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Effect, Redacted, Schema, type Scope } from "effect"

export class EmbeddedDatabaseError extends Schema.TaggedError<EmbeddedDatabaseError>()("EmbeddedDatabaseError", {
  message: Schema.String,
  cause: Schema.Defect()
}) {}

export interface EmbeddedDatabase {
  readonly url: Redacted.Redacted<string>
  readonly directory: string
}

const closeQuietly = (what: string, close: () => Promise<void>) =>
  Effect.tryPromise(close).pipe(
    Effect.catch((error) =>
      Effect.logWarning(`closing the ${what} failed`).pipe(Effect.annotateLogs({ error: String(error) }))
    )
  )

/** Starts PGlite and its socket server for the life of the scope. */
export const startEmbeddedDatabase = (
  dataDir: string
): Effect.Effect<EmbeddedDatabase, EmbeddedDatabaseError, Scope.Scope> =>
  Effect.gen(function* () {
    const directory = resolve(join(dataDir, "pgdata"))
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          mkdirSync(directory, { recursive: true })
          return await PGlite.create({ dataDir: directory })
        },
        catch: (cause) =>
          new EmbeddedDatabaseError({ message: `cannot open the embedded database in ${directory}`, cause })
      }),
      (db) => closeQuietly("embedded database", () => db.close())
    )
    const server = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 1 })
          await server.start()
          return server
        },
        catch: (cause) => new EmbeddedDatabaseError({ message: "cannot start the embedded database socket", cause })
      }),
      (server) => closeQuietly("embedded database socket", () => server.stop())
    )
    return { url: Redacted.make(`postgres://postgres@${server.getServerConn()}/postgres`), directory }
  })
