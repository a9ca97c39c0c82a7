/**
 * Span export. With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans (HTTP requests, SQL statements,
 * `Effect.fn` calls) go to `<endpoint>/v1/traces` over OTLP/HTTP; otherwise nothing is exported
 * and the OpenTelemetry SDK is not even loaded (it costs most of a second at start).
 */
import { Effect, Layer, Option } from "effect"
import { version } from "../version.ts"

const otlpLayer = (url: string) =>
  Layer.unwrap(
    Effect.promise(async () => {
      const [NodeSdk, { OTLPTraceExporter }, { BatchSpanProcessor }] = await Promise.all([
        import("@effect/opentelemetry/NodeSdk"),
        import("@opentelemetry/exporter-trace-otlp-http"),
        import("@opentelemetry/sdk-trace-base")
      ])
      return NodeSdk.layer(() => ({
        resource: { serviceName: "breakwater", serviceVersion: version },
        spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter({ url: `${url.replace(/\/+$/, "")}/v1/traces` }), {
          scheduledDelayMillis: 500
        })
      }))
    })
  )

export const tracingLayer = (endpoint: Option.Option<string>): Layer.Layer<never> =>
  Option.match(endpoint, { onNone: () => Layer.empty, onSome: otlpLayer })
