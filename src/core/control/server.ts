/**
 * The control socket: how `breakwater …` reaches the server that holds the embedded store. Only
 * one process may open an embedded store (`db/data-dir-lock.ts`), so while the server runs, a CLI
 * command is sent to it and run there, over the server's own services, with its output and
 * questions relayed to the terminal that typed it. Its effect is the server's at once: a user the
 * console can sign in, a key the API accepts, a trip every reader sees.
 *
 * The socket lives in `<data dir>/control/`, a directory only the owning OS user may enter (0700),
 * and is itself 0600. The server holds the data directory's lock, so a socket file found there is
 * a dead predecessor's and is replaced.
 */
import { chmodSync, mkdirSync, rmSync } from "node:fs"
import { createServer, type Server, type Socket } from "node:net"
import { format } from "node:util"
import { type Console, Effect, Exit, FiberSet, Layer, Redacted, Schema } from "effect"
import { type CommandInputShape, InputUnavailable } from "../cli/command-input.ts"
import { AppConfig } from "../config.ts"
import { DatabaseInfo } from "../db/client.ts"
import { decodeClientFrame, encodeServerFrame, MAX_LINE_BYTES, type ServerFrame } from "./protocol.ts"
import { controlDirectory, controlSocketPath, SOCKET_PATH_LIMIT } from "./socket-path.ts"

export class ControlSocketError extends Schema.TaggedError<ControlSocketError>()("ControlSocketError", {
  message: Schema.String
}) {}

/** A command's terminal on the other end of the socket: its output, its questions, its colours. */
export interface RemoteTerminal {
  readonly console: Console.Console
  readonly input: CommandInputShape
  readonly color: boolean
}

/** Runs argv as the CLI would, on the given terminal; the exit code. */
export type CommandRunner = (argv: ReadonlyArray<string>, terminal: RemoteTerminal) => Effect.Effect<number>

/** A `Console` that sends what a command prints to the client, formatted as Node's console does. */
const remoteConsole = (send: (frame: ServerFrame) => void): Console.Console => {
  const to =
    (stream: "stdout" | "stderr") =>
    (...args: ReadonlyArray<unknown>) =>
      send({ type: "out", stream, text: `${format(...args)}\n` })
  return Object.assign(Object.create(globalThis.console) as Console.Console, {
    log: to("stdout"),
    info: to("stdout"),
    debug: to("stdout"),
    dir: to("stdout"),
    table: to("stdout"),
    warn: to("stderr"),
    error: to("stderr"),
    trace: to("stderr")
  })
}

/** One client connection: a `run` frame, then answers to the questions the command asks. */
const serveConnection = (
  socket: Socket,
  run: CommandRunner,
  fork: (effect: Effect.Effect<void>) => { readonly interruptUnsafe: () => void }
) => {
  let buffer = ""
  let running: { readonly interruptUnsafe: () => void } | undefined
  let waiting: ((answer: Exit.Exit<string, InputUnavailable>) => void) | undefined
  const send = (frame: ServerFrame) => {
    if (!socket.destroyed && socket.writable) socket.write(encodeServerFrame(frame))
  }
  const refuse = (message: string) => {
    send({ type: "out", stream: "stderr", text: `breakwater: ${message}\n` })
    send({ type: "exit", code: 2 })
    socket.end()
  }
  const input: CommandInputShape = {
    secret: (message) =>
      Effect.callback<string, InputUnavailable>((resume) => {
        waiting = (answer) => {
          waiting = undefined
          resume(answer)
        }
        send({ type: "ask", message })
        return Effect.sync(() => {
          waiting = undefined
        })
      }).pipe(Effect.map(Redacted.make))
  }
  const onLine = (line: string) => {
    const decoded = decodeClientFrame(line)
    if (Exit.isFailure(decoded)) return refuse("the command could not be read from the control socket")
    const frame = decoded.value
    if (frame.type === "run") {
      if (running !== undefined) return refuse("one command per connection")
      const terminal: RemoteTerminal = { console: remoteConsole(send), input, color: frame.color === true }
      running = fork(
        run(frame.argv, terminal).pipe(
          Effect.flatMap((code) =>
            Effect.sync(() => {
              send({ type: "exit", code })
              socket.end()
            })
          )
        )
      )
      return
    }
    if (waiting === undefined) return refuse("an answer nobody asked for")
    waiting(
      frame.type === "answer" ? Exit.succeed(frame.text) : Exit.fail(new InputUnavailable({ message: frame.message }))
    )
  }
  socket.setEncoding("utf8")
  socket.on("error", () => socket.destroy())
  socket.on("data", (chunk: string) => {
    buffer += chunk
    for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end)
      buffer = buffer.slice(end + 1)
      onLine(line)
    }
    if (Buffer.byteLength(buffer) > MAX_LINE_BYTES) {
      buffer = ""
      refuse(`a control request line is longer than ${MAX_LINE_BYTES} bytes`)
    }
  })
  // The operator pressed Ctrl-C (or the client died): stop the command, as a local one would.
  socket.on("close", () => {
    waiting?.(Exit.fail(new InputUnavailable({ message: "the client went away" })))
    running?.interruptUnsafe()
  })
}

const listen = (dataDir: string, path: string, onConnection: (socket: Socket) => void) =>
  Effect.acquireRelease(
    Effect.callback<Server, ControlSocketError>((resume) => {
      const directory = controlDirectory(dataDir)
      mkdirSync(directory, { recursive: true, mode: 0o700 })
      chmodSync(directory, 0o700)
      // This process holds the data directory's lock: a socket file here is a dead server's.
      rmSync(path, { force: true })
      const server = createServer(onConnection)
      server.maxConnections = 16
      server.once("error", (error) =>
        resume(Effect.fail(new ControlSocketError({ message: `cannot listen on ${path}: ${error.message}` })))
      )
      server.listen(path, () => {
        chmodSync(path, 0o600)
        resume(Effect.succeed(server))
      })
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        rmSync(path, { force: true })
      })
  )

/**
 * Listens on the data directory's control socket while the server runs on the embedded store
 * (with PostgreSQL, CLI commands open the database themselves, as before).
 */
export const controlSocketLayer = <R>(makeRunner: Effect.Effect<CommandRunner, never, R>) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const database = yield* DatabaseInfo
      if (database.mode !== "embedded") return
      const config = yield* AppConfig
      const path = controlSocketPath(config.dataDir)
      if (path.length > SOCKET_PATH_LIMIT)
        return yield* Effect.logError(
          `no control socket: its path ${path} is longer than a Unix socket allows (${SOCKET_PATH_LIMIT}); CLI commands cannot reach this server, use a shorter BREAKWATER_DATA_DIR`
        )
      const run = yield* makeRunner
      const fork = yield* FiberSet.makeRuntime<never, void, never>()
      yield* listen(config.dataDir, path, (socket) =>
        serveConnection(socket, run, (effect) =>
          fork(
            effect.pipe(
              Effect.catchCause((cause) => Effect.logError("control socket command failed", cause)),
              Effect.annotateLogs({ source: "control-socket" })
            )
          )
        )
      )
      yield* Effect.logInfo(`CLI commands are accepted on ${path}`)
    })
  )
