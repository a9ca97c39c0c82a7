/**
 * Embedded PostgreSQL: PGlite (PostgreSQL compiled to WASM) stored under the data directory and
 * served on a private loopback port, so the same SQL client and the same migrations work with
 * no database installed. One connection at a time: PGlite is single-session.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs"
import { join, resolve } from "node:path"
import { Effect, Redacted, Schema, type Scope } from "effect"
import { type DataDirInUse, lockDataDir } from "./data-dir-lock.ts"

export class EmbeddedDatabaseError extends Schema.TaggedError<EmbeddedDatabaseError>()("EmbeddedDatabaseError", {
  message: Schema.String,
  cause: Schema.Defect()
}) {}

export interface EmbeddedDatabase {
  readonly url: Redacted.Redacted<string>
  readonly directory: string
}

/**
 * PostgreSQL's settings for the embedded store. PGlite keeps PostgreSQL's default 128 MB of shared
 * buffers in the WebAssembly memory of this process; Breakwater's tables are a few megabytes, so
 * 16 MB keeps them all cached and gives back ~130 MB of resident memory (measured: 364 → 260 MiB
 * for PGlite alone after opening; `npm run bench -- console` prints the server's figure).
 */
const EMBEDDED_SETTINGS = ["shared_buffers = 16MB"]

const closeQuietly = (what: string, close: () => Promise<void>) =>
  Effect.tryPromise(close).pipe(
    Effect.catch((error) =>
      Effect.logWarning(`closing the ${what} failed`).pipe(Effect.annotateLogs({ error: String(error) }))
    )
  )

/** Starts PGlite and its socket server for the life of the scope. */
export const startEmbeddedDatabase = (
  dataDir: string
): Effect.Effect<EmbeddedDatabase, EmbeddedDatabaseError | DataDirInUse, Scope.Scope> =>
  Effect.gen(function* () {
    const directory = resolve(join(dataDir, "pgdata"))
    // Before anything opens the store: a second process must never get a private copy of it.
    yield* lockDataDir(resolve(dataDir))
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          // Loaded only in embedded mode: the WASM build is large.
          const { PGlite } = await import("@electric-sql/pglite")
          if (!existsSync(directory)) {
            // Create the cluster in a staging directory and move it into place only once complete,
            // so a first start interrupted mid-initdb never leaves a directory that cannot open.
            const staging = `${directory}.init-${process.pid}`
            rmSync(staging, { recursive: true, force: true })
            mkdirSync(staging, { recursive: true })
            const fresh = await PGlite.create({ dataDir: staging })
            await fresh.close()
            renameSync(staging, directory)
          }
          return await PGlite.create({ dataDir: directory, postgresqlconf: EMBEDDED_SETTINGS })
        },
        catch: (cause) =>
          new EmbeddedDatabaseError({ message: `cannot open the embedded database in ${directory}`, cause })
      }),
      (db) => closeQuietly("embedded database", () => db.close())
    )
    const server = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket")
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
