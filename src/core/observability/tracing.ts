/**
 * Span export. With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans (HTTP requests, SQL statements,
 * `Effect.fn` calls) go to `<endpoint>/v1/traces` over OTLP/HTTP; otherwise nothing is exported.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Layer, Option } from "effect"
import { version } from "../version.ts"

export const tracingLayer = (endpoint: Option.Option<string>): Layer.Layer<never> =>
  Option.match(endpoint, {
    onNone: () => Layer.empty,
    onSome: (url) =>
      NodeSdk.layer(() => ({
        resource: { serviceName: "breakwater", serviceVersion: version },
        spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter({ url: `${url.replace(/\/+$/, "")}/v1/traces` }), {
          scheduledDelayMillis: 500
        })
      }))
  })
