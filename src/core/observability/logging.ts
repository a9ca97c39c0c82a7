/**
 * Log lines: JSON objects (default) or a readable single line, each with the level, the message,
 * the request id (when logged inside a request) and the trace and span ids of the current span.
 */
import { writeSync } from "node:fs"
import { Cause, Context, Effect, Layer, Logger, References, Tracer } from "effect"
import { AppConfig, type LogFormat, type LogLevelName } from "../config.ts"
import { RequestInfo } from "../request-info.ts"

const levelNames: Record<LogLevelName, "Trace" | "Debug" | "Info" | "Warn" | "Error" | "Fatal"> = {
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  error: "Error",
  fatal: "Fatal"
}

const messageText = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" ")
}

// Under load many lines share a millisecond: format each millisecond once.
let lastMillis = Number.NaN
let lastTime = ""
const timeOf = (date: Date) => {
  const millis = date.getTime()
  if (millis !== lastMillis) {
    lastMillis = millis
    lastTime = date.toISOString()
  }
  return lastTime
}

/** Turns one log call into the record we print. Exported for tests. */
export const toRecord = (options: Logger.Options<unknown>): Record<string, unknown> => {
  const { fiber } = options
  const record: Record<string, unknown> = {
    time: timeOf(options.date),
    level: options.logLevel.toLowerCase(),
    msg: messageText(options.message)
  }
  // Inside a request its id comes from RequestInfo, so the request need not annotate every log call.
  const { requestId } = fiber.getRef(RequestInfo)
  if (requestId !== "none") record.requestId = requestId
  for (const [key, value] of Object.entries(fiber.getRef(References.CurrentLogAnnotations))) record[key] = value
  const span = Context.getOption(fiber.context, Tracer.ParentSpan)
  if (span._tag === "Some") {
    record.traceId = span.value.traceId
    record.spanId = span.value.spanId
  }
  if (options.cause.reasons.length > 0) record.cause = Cause.pretty(options.cause)
  return record
}

/**
 * Lines logged in one turn of the event loop go to stdout in one write: under load that is one
 * system call for many request lines instead of one each. Whatever is pending when the process
 * exits is written synchronously.
 */
let pending = ""
const flush = () => {
  const chunk = pending
  pending = ""
  if (chunk !== "") process.stdout.write(chunk)
}
process.on("exit", () => {
  const chunk = pending
  pending = ""
  try {
    if (chunk !== "") writeSync(1, chunk)
  } catch {
    // stdout already closed (the reader went away): nothing left to write to.
  }
})
const writeLine = (line: string) => {
  if (pending === "") setImmediate(flush)
  pending += `${line}\n`
}

const jsonLogger = Logger.make((options) => writeLine(JSON.stringify(toRecord(options))))

const prettyLine = (record: Record<string, unknown>) => {
  const { time, level, msg, cause, traceId: _t, spanId: _s, ...rest } = record
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ")
  const line = `${String(time).slice(11, 23)} ${String(level).toUpperCase().padEnd(5)} ${String(msg)}${extra ? ` ${extra}` : ""}`
  return `${line}${typeof cause === "string" ? `\n${cause}` : ""}`
}

const prettyLogger = Logger.make((options) => writeLine(prettyLine(toRecord(options))))

/**
 * A line written outside Effect (the HTTP fast lane), in the configured format and through the
 * same batched writer, so it looks exactly like the pipeline's lines.
 */
export const writeLogLine = (
  format: LogFormat,
  level: "info" | "error",
  msg: string,
  fields: Record<string, unknown>
) => {
  const record = { time: timeOf(new Date()), level, msg, ...fields }
  writeLine(format === "json" ? JSON.stringify(record) : prettyLine(record))
}

/** Replaces the default logger and sets the minimum level. */
export const loggingLayer = (format: LogFormat, level: LogLevelName) =>
  Layer.mergeAll(
    Logger.layer([format === "json" ? jsonLogger : prettyLogger]),
    Layer.succeed(References.MinimumLogLevel, levelNames[level])
  )

/** The logging layer the configuration asks for. */
export const loggingFromConfig = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    return loggingLayer(config.logFormat, config.logLevel)
  })
)
