/**
 * The `breakwater` process' side of the control socket: when a server holds the embedded store in
 * this data directory, the command is sent to it and its output relayed here, so the command acts
 * on the running server (and starts in a tenth of a second: nothing but Node's own modules is
 * loaded here). Without such a server the caller runs the command itself.
 */
import { existsSync } from "node:fs"
import { connect, type Socket } from "node:net"
import { text } from "node:stream/consumers"
import { controlSocketPath } from "./socket-path.ts"

type Env = Readonly<Record<string, string | undefined>>

/** The socket to send to, or `undefined` when this command must run in this process. */
export const controlSocketFor = (argv: ReadonlyArray<string>, env: Env): string | undefined => {
  // With PostgreSQL every process opens the database itself; `serve` is never sent anywhere.
  if ((env.DATABASE_URL ?? "") !== "") return undefined
  if (argv.length === 0 || argv[0] === "serve") return undefined
  const path = controlSocketPath(env.BREAKWATER_DATA_DIR || "./data")
  return existsSync(path) ? path : undefined
}

const connected = (path: string): Promise<Socket | undefined> =>
  new Promise((resolve) => {
    const socket = connect(path)
    socket.once("connect", () => resolve(socket))
    // Refused or gone: a dead server's file; this process takes the store's lock and runs it.
    socket.once("error", () => resolve(undefined))
  })

/** Reads a secret: masked at a terminal, or all of standard input when it is not one. */
const readSecret = (message: string): Promise<string> => {
  const stdin = process.stdin
  if (!stdin.isTTY) return text(stdin)
  return new Promise((resolve, reject) => {
    process.stderr.write(`${message}: `)
    let typed = ""
    stdin.setRawMode(true)
    stdin.setEncoding("utf8")
    const done = (error?: Error) => {
      stdin.setRawMode(false)
      stdin.off("data", onData)
      stdin.pause()
      process.stderr.write("\n")
      if (error === undefined) resolve(typed)
      else reject(error)
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done()
        if (ch === "\u0003" || ch === "\u0004") return done(new Error("cancelled"))
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1)
        else typed += ch
      }
    }
    stdin.on("data", onData)
    stdin.resume()
  })
}

interface Frame {
  readonly type?: unknown
  readonly stream?: unknown
  readonly text?: unknown
  readonly message?: unknown
  readonly code?: unknown
}

/**
 * Sends the command to the server on `path` and relays its output; the exit code, or `undefined`
 * when no server answers there (then the caller runs the command itself).
 */
export const sendToServer = async (path: string, argv: ReadonlyArray<string>): Promise<number | undefined> => {
  const socket = await connected(path)
  if (socket === undefined) return undefined
  return new Promise((resolve) => {
    let buffer = ""
    let code: number | undefined
    let interrupted = false
    const send = (frame: object) => socket.write(`${JSON.stringify(frame)}\n`)
    const onFrame = (frame: Frame) => {
      if (frame.type === "out" && typeof frame.text === "string")
        (frame.stream === "stderr" ? process.stderr : process.stdout).write(frame.text)
      else if (frame.type === "ask" && typeof frame.message === "string")
        readSecret(frame.message).then(
          (answer) => send({ type: "answer", text: answer }),
          (error: Error) => send({ type: "no-answer", message: error.message })
        )
      else if (frame.type === "exit" && typeof frame.code === "number") code = frame.code
    }
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      buffer += chunk
      for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 1)
        try {
          onFrame(JSON.parse(line) as Frame)
        } catch {
          process.stderr.write("breakwater: the server sent something that is not a control frame\n")
        }
      }
    })
    socket.on("error", () => {})
    socket.on("close", () => {
      if (interrupted) return resolve(130)
      if (code === undefined)
        process.stderr.write(
          "breakwater: the server closed the connection before the command finished (did it stop?); check whether the command took effect\n"
        )
      resolve(code ?? 1)
    })
    // Ctrl-C ends the connection, and the server stops the command as this process would have.
    process.once("SIGINT", () => {
      interrupted = true
      socket.destroy()
    })
    send({ type: "run", argv, color: process.stdout.isTTY === true })
  })
}
