/**
 * The control socket's protocol: one JSON object per line, both ways.
 *
 * client → server: `{"type":"run","argv":[…],"color":false}` first, then `{"type":"answer","text":…}`
 * (or `{"type":"no-answer","message":…}`) for each question.
 * server → client: `{"type":"out","stream":"stdout"|"stderr","text":…}`, `{"type":"ask","message":…}`
 * (a secret, read masked), and last `{"type":"exit","code":…}`.
 *
 * The client is whoever can open the socket (the owning OS user), but its frames are still decoded
 * and bounded like any other input.
 */
import { Schema } from "effect"

/** A line longer than this ends the connection: no argv or typed secret comes near it. */
export const MAX_LINE_BYTES = 256 * 1024

const Text = Schema.String.check(Schema.isMaxLength(64 * 1024))

export const RunFrame = Schema.Struct({
  type: Schema.Literal("run"),
  argv: Schema.Array(Text).check(Schema.isMaxLength(256)),
  color: Schema.optional(Schema.Boolean)
})

export const AnswerFrame = Schema.Struct({ type: Schema.Literal("answer"), text: Text })
export const NoAnswerFrame = Schema.Struct({ type: Schema.Literal("no-answer"), message: Text })

export const ClientFrame = Schema.Union([RunFrame, AnswerFrame, NoAnswerFrame])
export type ClientFrame = typeof ClientFrame.Type

export const decodeClientFrame = Schema.decodeUnknownExit(Schema.fromJsonString(ClientFrame))

export type ServerFrame =
  | { readonly type: "out"; readonly stream: "stdout" | "stderr"; readonly text: string }
  | { readonly type: "ask"; readonly message: string }
  | { readonly type: "exit"; readonly code: number }

export const encodeServerFrame = (frame: ServerFrame): string => `${JSON.stringify(frame)}\n`
