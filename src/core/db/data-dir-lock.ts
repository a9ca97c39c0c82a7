/**
 * One process per embedded store. PGlite has no postmaster to arbitrate between processes: two
 * processes opening the same `pgdata` each get a private copy in memory, and the later writer
 * silently wins on disk. So whoever opens the store first holds an exclusive lock on the data
 * directory for as long as it runs, and every other process is told who holds it.
 *
 * On Linux the lock is a listening socket in the abstract namespace, named after the directory's
 * real path: binding it is atomic, and the kernel releases it when the holder dies (even by
 * SIGKILL), so a crash never leaves a stale lock behind. Whoever connects to it reads one line of
 * JSON saying who holds it. Elsewhere a lock file created exclusively (`wx`) holds the same
 * description; one whose process is gone is taken over.
 */
import { createHash } from "node:crypto"
import { mkdirSync, readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from "node:fs"
import { connect, createServer, type Server } from "node:net"
import { join } from "node:path"
import { Context, Duration, Effect, Option, Schema, type Scope } from "effect"

/** What the holder of a data directory is: the server, or a CLI command run without one. */
export interface LockHolder {
  readonly kind: "server" | "command"
  /** For people: "breakwater user add", "server on 127.0.0.1:3000". */
  readonly label: string
}

/** Who this process is, as its lock will say. Commands by default; the server provides its own. */
export const LockHolderRole = Context.Reference<LockHolder>("breakwater/LockHolderRole", {
  defaultValue: () => ({
    kind: "command",
    label: ["breakwater", ...process.argv.slice(2).filter((a) => !a.startsWith("-"))].slice(0, 3).join(" ")
  })
})

const HolderInfo = Schema.Struct({
  pid: Schema.Number,
  kind: Schema.Literals(["server", "command"]),
  label: Schema.String,
  since: Schema.String
})
type HolderInfo = typeof HolderInfo.Type
const decodeHolder = Schema.decodeUnknownOption(Schema.fromJsonString(HolderInfo))

export class DataDirInUse extends Schema.TaggedError<DataDirInUse>()("DataDirInUse", {
  directory: Schema.String,
  holder: Schema.optional(HolderInfo),
  message: Schema.String
}) {}

const describeHolder = (directory: string, holder: HolderInfo | undefined): string => {
  if (holder === undefined)
    return `the data directory ${directory} is in use by another Breakwater process that did not say who it is`
  const who = holder.kind === "server" ? `the Breakwater ${holder.label}` : `\`${holder.label}\``
  const advice =
    holder.kind === "server"
      ? "stop it before starting another server on this data directory (CLI commands are sent to it)"
      : "try again when it has finished"
  return `the data directory ${directory} is in use by ${who} (pid ${holder.pid}, since ${holder.since}); ${advice}`
}

/** The abstract socket name for a directory: stable across processes, unique per real path. */
export const lockName = (directory: string): string =>
  `\0breakwater-lock-${createHash("sha256").update(realpathSync(directory)).digest("hex").slice(0, 32)}`

/** Asks the holder who it is; `undefined` when it does not answer within a second. */
const askHolder = (name: string): Promise<HolderInfo | undefined> =>
  new Promise((resolve) => {
    let text = ""
    const socket = connect(name)
    const done = (info: HolderInfo | undefined) => {
      socket.destroy()
      resolve(info)
    }
    socket.setTimeout(1000, () => done(undefined))
    socket.on("error", () => done(undefined))
    socket.on("data", (chunk) => {
      text += String(chunk)
      const line = text.indexOf("\n")
      if (line >= 0) done(Option.getOrUndefined(decodeHolder(text.slice(0, line))))
    })
    socket.on("end", () => done(Option.getOrUndefined(decodeHolder(text))))
  })

type Attempt = { readonly held: true; readonly release: () => void } | { readonly held: false; holder?: HolderInfo }

const tryAbstract = (directory: string, info: HolderInfo): Promise<Attempt> =>
  new Promise((resolve, reject) => {
    const name = lockName(directory)
    const line = `${JSON.stringify(info)}\n`
    const server: Server = createServer((socket) => {
      socket.on("error", () => socket.destroy())
      socket.end(line)
    })
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EADDRINUSE") return reject(error)
      askHolder(name).then((holder) => resolve({ held: false, ...(holder === undefined ? {} : { holder }) }), reject)
    })
    server.listen(name, () => {
      // The lock must never keep a finished command alive.
      server.unref()
      resolve({ held: true, release: () => server.close() })
    })
  })

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const tryLockFile = (directory: string, info: HolderInfo): Attempt => {
  const path = join(directory, "breakwater.lock")
  try {
    writeFileSync(path, JSON.stringify(info), { flag: "wx", mode: 0o600 })
    return { held: true, release: () => unlinkSync(path) }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
  }
  const holder = Option.getOrUndefined(decodeHolder(readFileSync(path, "utf8")))
  if (holder !== undefined && alive(holder.pid)) return { held: false, holder }
  // The holder is gone. Moving its file aside is atomic, so of two processes finding it stale
  // only one takes it over; the other finds the new holder's file on its next attempt.
  try {
    renameSync(path, `${path}.stale-${process.pid}`)
    unlinkSync(`${path}.stale-${process.pid}`)
  } catch {}
  return { held: false }
}

const attempt = (directory: string, info: HolderInfo): Promise<Attempt> =>
  process.platform === "linux" ? tryAbstract(directory, info) : Promise.resolve(tryLockFile(directory, info))

/** How long a process waits for a CLI command to finish with the directory before giving up. */
const COMMAND_WAIT = Duration.seconds(15)
const RETRY_EVERY = 200

/**
 * Holds the data directory for the life of the scope. A directory held by a server is refused at
 * once, naming it; one held by a CLI command is waited for (commands are short), up to 15 s.
 */
export const lockDataDir = (directory: string): Effect.Effect<void, DataDirInUse, Scope.Scope> =>
  Effect.gen(function* () {
    mkdirSync(directory, { recursive: true })
    const role = yield* LockHolderRole
    const info: HolderInfo = { pid: process.pid, kind: role.kind, label: role.label, since: new Date().toISOString() }
    const deadline = Date.now() + Duration.toMillis(COMMAND_WAIT)
    for (;;) {
      const result = yield* Effect.tryPromise({
        try: () => attempt(directory, info),
        catch: (cause) =>
          new DataDirInUse({ directory, message: `cannot lock the data directory ${directory}: ${String(cause)}` })
      })
      if (result.held) {
        yield* Effect.addFinalizer(() => Effect.sync(() => result.release()).pipe(Effect.ignore))
        return
      }
      const holder = result.holder
      if (holder?.kind === "server" || Date.now() >= deadline)
        return yield* new DataDirInUse({
          directory,
          ...(holder === undefined ? {} : { holder }),
          message: describeHolder(directory, holder)
        })
      yield* Effect.sleep(RETRY_EVERY)
    }
  })
