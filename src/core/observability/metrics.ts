/**
 * The one Prometheus registry of the process. Every module registers its metrics here, so
 * `/metrics` shows them all next to the standard Node process metrics.
 */
import { Context, Effect, Layer } from "effect"
import * as Prom from "prom-client"

export interface MetricsShape {
  readonly registry: Prom.Registry
  /** A counter in this registry; asking twice for one name returns the same metric. */
  readonly counter: <L extends string>(config: Prom.CounterConfiguration<L>) => Prom.Counter<L>
  readonly gauge: <L extends string>(config: Prom.GaugeConfiguration<L>) => Prom.Gauge<L>
  readonly histogram: <L extends string>(config: Prom.HistogramConfiguration<L>) => Prom.Histogram<L>
  /** The exposition text, in Prometheus' text format 0.0.4. */
  readonly render: Effect.Effect<string>
  readonly contentType: string
}

export class Metrics extends Context.Service<Metrics, MetricsShape>()("breakwater/Metrics") {
  static readonly make = Effect.sync((): MetricsShape => {
    const registry = new Prom.Registry()
    Prom.collectDefaultMetrics({ register: registry })
    const existing = <M>(name: string): M | undefined => registry.getSingleMetric(name) as M | undefined
    return {
      registry,
      counter: (config) => existing(config.name) ?? new Prom.Counter({ ...config, registers: [registry] }),
      gauge: (config) => existing(config.name) ?? new Prom.Gauge({ ...config, registers: [registry] }),
      histogram: (config) => existing(config.name) ?? new Prom.Histogram({ ...config, registers: [registry] }),
      render: Effect.promise(() => registry.metrics()),
      contentType: registry.contentType
    }
  })

  static readonly layer = Layer.effect(Metrics, Metrics.make)
}
