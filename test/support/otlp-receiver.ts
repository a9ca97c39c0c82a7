/**
 * A local OTLP/HTTP trace receiver: accepts `POST /v1/traces` (JSON, as
 * `@opentelemetry/exporter-trace-otlp-http` sends by default; gzip if asked for) and keeps every
 * span it is sent, flattened with its attributes decoded.
 */
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { gunzipSync } from "node:zlib"

export type AttributeValue = string | number | boolean | null | ReadonlyArray<AttributeValue>

export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: number | undefined
  readonly attributes: Readonly<Record<string, AttributeValue>>
  /** Attributes of the resource that sent the span (e.g. `service.name`). */
  readonly resource: Readonly<Record<string, AttributeValue>>
}

export interface OtlpReceiver {
  /** The base URL to give as `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string
  readonly spans: () => ReadonlyArray<ReceivedSpan>
  /** Every export request received, including ones that could not be decoded. */
  readonly requests: () => ReadonlyArray<{ readonly path: string; readonly contentType: string }>
  readonly close: () => Promise<void>
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const list = (u: unknown): ReadonlyArray<unknown> => (Array.isArray(u) ? u : [])
const text = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)

/** `{ stringValue | intValue | doubleValue | boolValue | arrayValue }` to a plain value. */
export const decodeValue = (value: unknown): AttributeValue => {
  if (!isRecord(value)) return null
  if ("stringValue" in value) return String(value.stringValue)
  // int64 is a string in the OTLP JSON mapping; small ones may come as numbers.
  if ("intValue" in value) return Number(value.intValue)
  if ("doubleValue" in value) return Number(value.doubleValue)
  if ("boolValue" in value) return value.boolValue === true
  if ("arrayValue" in value && isRecord(value.arrayValue)) return list(value.arrayValue.values).map(decodeValue)
  return null
}

const decodeAttributes = (attributes: unknown): Record<string, AttributeValue> => {
  const out: Record<string, AttributeValue> = {}
  for (const attribute of list(attributes)) {
    if (isRecord(attribute) && typeof attribute.key === "string") out[attribute.key] = decodeValue(attribute.value)
  }
  return out
}

/** Flattens an `ExportTraceServiceRequest` in the OTLP JSON mapping. */
export const decodeExport = (body: unknown): ReadonlyArray<ReceivedSpan> => {
  const spans: Array<ReceivedSpan> = []
  if (!isRecord(body)) return spans
  for (const resourceSpans of list(body.resourceSpans)) {
    if (!isRecord(resourceSpans)) continue
    const resource = decodeAttributes(isRecord(resourceSpans.resource) ? resourceSpans.resource.attributes : [])
    for (const scopeSpans of list(resourceSpans.scopeSpans)) {
      if (!isRecord(scopeSpans)) continue
      for (const span of list(scopeSpans.spans)) {
        if (!isRecord(span)) continue
        const parent = text(span.parentSpanId)
        spans.push({
          traceId: text(span.traceId) ?? "",
          spanId: text(span.spanId) ?? "",
          parentSpanId: parent === undefined || parent === "" ? undefined : parent,
          name: text(span.name) ?? "",
          kind: typeof span.kind === "number" ? span.kind : undefined,
          attributes: decodeAttributes(span.attributes),
          resource
        })
      }
    }
  }
  return spans
}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks)))
    request.on("error", reject)
  })

export const startOtlpReceiver = async (): Promise<OtlpReceiver> => {
  const spans: Array<ReceivedSpan> = []
  const requests: Array<{ path: string; contentType: string }> = []
  const server: Server = createServer((request, response) => {
    void (async () => {
      const raw = await readBody(request)
      const contentType = request.headers["content-type"] ?? ""
      requests.push({ path: request.url ?? "", contentType })
      if (request.method !== "POST" || request.url !== "/v1/traces") {
        response.writeHead(404).end()
        return
      }
      if (!contentType.startsWith("application/json")) {
        // Protobuf is not decoded here; the exporter is configured for JSON.
        response.writeHead(415).end()
        return
      }
      const body = request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw
      spans.push(...decodeExport(JSON.parse(body.toString("utf8"))))
      response.writeHead(200, { "content-type": "application/json" }).end("{}")
    })().catch(() => {
      if (!response.headersSent) response.writeHead(400)
      response.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...spans],
    requests: () => [...requests],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
