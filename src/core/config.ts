/**
 * Process configuration from the environment (12-factor), validated once at start.
 *
 * Every variable is declared in {@link variables} with its default and meaning; the README's
 * configuration table is checked against that list by a unit test, so the two cannot drift.
 */
import { Context, Effect, Layer, Option, Redacted, Schema, SchemaIssue } from "effect"
import { trustedProxyProblem } from "./http/client-address.ts"

const proxyEntries = (text: string): ReadonlyArray<string> =>
  text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")

export type LogFormat = "json" | "pretty"
export type LogLevelName = "trace" | "debug" | "info" | "warn" | "error" | "fatal"

export interface AppConfigShape {
  readonly port: number
  readonly host: string
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly redisUrl: Option.Option<Redacted.Redacted<string>>
  readonly redisKeyPrefix: string
  readonly dataDir: string
  readonly adminEmail: string
  readonly adminPassword: Option.Option<Redacted.Redacted<string>>
  readonly logLevel: LogLevelName
  readonly logFormat: LogFormat
  readonly otlpEndpoint: Option.Option<string>
  readonly metricsToken: Option.Option<Redacted.Redacted<string>>
  readonly shutdownGraceSeconds: number
  readonly dbMaxConnections: number
  readonly sessionIdleMinutes: number
  readonly sessionMaxHours: number
  /** Largest request body of a JSON API route, in bytes (413 beyond it). */
  readonly maxApiBodyBytes: number
  /** Largest request body of a public route or an HTML form (sign-in, console forms), in bytes. */
  readonly maxFormBodyBytes: number
  /** Requests one API key may make per minute (sliding window); 0 turns the limit off. */
  readonly apiRateLimitPerMinute: number
  /** Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client. */
  readonly trustedProxies: ReadonlyArray<string>
  /** The hour (UTC, 0–23) of the daily retention run; off-peak. */
  readonly retentionHourUtc: number
  /** Events the bus keeps for `Last-Event-ID` resumption. */
  readonly eventReplayBuffer: number
  /** `FEATURE_<NAME>` switches; a capability absent here is on. */
  readonly features: ReadonlyMap<string, boolean>
}

/** One documented environment variable. */
export interface VariableSpec {
  readonly name: string
  readonly default: string | undefined
  readonly secret: boolean
  readonly description: string
}

const Port = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 65535 }))
const PositiveInt = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 10_000 }))
const Minutes = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 1440 }))
const Hours = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 720 }))
const ProxyList = Schema.String.check(
  Schema.makeFilter((s: string) => {
    const problems = proxyEntries(s).flatMap((e) => trustedProxyProblem(e) ?? [])
    return problems.length === 0 || problems.join(", ")
  })
)
const Bytes = Schema.NumberFromString.check(
  Schema.isInt(),
  Schema.isBetween({ minimum: 1024, maximum: 64 * 1024 * 1024 })
)
const StreamCount = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 100_000 }))
const PerMinute = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 10_000_000 }))
const HourOfDay = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 23 }))
const Seconds = Schema.NumberFromString.check(Schema.isBetween({ minimum: 0, maximum: 3600 }))
const NonEmpty = Schema.String.check(Schema.isMinLength(1))
const PgUrl = Schema.String.check(
  Schema.isPattern(/^postgres(ql)?:\/\/\S+$/, { message: "must be a postgres:// or postgresql:// URL" })
)
const RedisUrl = Schema.String.check(
  Schema.isPattern(/^rediss?:\/\/\S+$/, { message: "must be a redis:// or rediss:// URL" })
)
const HttpUrl = Schema.String.check(
  Schema.isPattern(/^https?:\/\/\S+$/, { message: "must be an http:// or https:// URL" })
)
const Email = Schema.String.check(Schema.isPattern(/^[^@\s]+@[^@\s]+$/, { message: "must be an email address" }))
const Secret = Schema.String.check(Schema.isMinLength(12, { message: "must be at least 12 characters" }))
const LogLevel = Schema.Literals(["trace", "debug", "info", "warn", "error", "fatal"])
const Format = Schema.Literals(["json", "pretty"])
const Flag = Schema.Literals(["true", "false", "1", "0", "on", "off"])

/** Variables earlier versions read and this one does not, with what took their place. */
export const removedVariables: Readonly<Record<string, string>> = {
  SSE_MAX_CONNECTIONS:
    "the bound on open event streams is now the runtime setting events.max_streams (console Settings page or PUT /api/v1/settings/events.max_streams)"
}

/** One warning per removed variable still set, so an upgrade does not drop a value in silence. */
export const removedVariableWarnings = (env: Readonly<Record<string, string | undefined>>): ReadonlyArray<string> =>
  Object.entries(removedVariables)
    .filter(([name]) => env[name] !== undefined)
    .map(([name, instead]) => `${name} is set but no longer read: ${instead}`)

export const variables: ReadonlyArray<VariableSpec> = [
  {
    name: "PORT",
    default: "8080",
    secret: false,
    description: "TCP port the HTTP server listens on (`0`: a free port chosen by the system)."
  },
  { name: "HOST", default: "127.0.0.1", secret: false, description: "Interface to bind; `0.0.0.0` for all." },
  {
    name: "DATABASE_URL",
    default: undefined,
    secret: true,
    description: "PostgreSQL URL. Unset: embedded PostgreSQL (PGlite) under the data directory."
  },
  {
    name: "REDIS_URL",
    default: undefined,
    secret: true,
    description: "Redis URL. Unset: in-process twins of the Redis-backed services (single process only)."
  },
  {
    name: "REDIS_KEY_PREFIX",
    default: "",
    secret: false,
    description: "Prefix for every Redis key and channel, to share one Redis between installations."
  },
  {
    name: "BREAKWATER_DATA_DIR",
    default: "./data",
    secret: false,
    description: "Directory for the embedded database and other local state."
  },
  {
    name: "BREAKWATER_ADMIN_EMAIL",
    default: "admin@localhost",
    secret: false,
    description: "Email of the first administrator, created when no user exists."
  },
  {
    name: "BREAKWATER_ADMIN_PASSWORD",
    default: undefined,
    secret: true,
    description:
      "Password of that first administrator (at least 12 characters); unset: one is generated and logged once."
  },
  {
    name: "LOG_LEVEL",
    default: "info",
    secret: false,
    description: "Minimum log level: trace, debug, info, warn, error, fatal."
  },
  { name: "LOG_FORMAT", default: "json", secret: false, description: "`json` (one object per line) or `pretty`." },
  {
    name: "OTEL_EXPORTER_OTLP_ENDPOINT",
    default: undefined,
    secret: false,
    description: "OTLP/HTTP base URL (e.g. `http://127.0.0.1:4318`); spans go to `<url>/v1/traces`. Unset: no export."
  },
  {
    name: "METRICS_TOKEN",
    default: undefined,
    secret: true,
    description: "If set, `/metrics` requires `Authorization: Bearer <token>`."
  },
  {
    name: "SHUTDOWN_GRACE_SECONDS",
    default: "10",
    secret: false,
    description: "On SIGTERM, how long in-flight requests may take to finish before the server closes."
  },
  {
    name: "DB_MAX_CONNECTIONS",
    default: "10",
    secret: false,
    description: "PostgreSQL pool size (the embedded database always uses 1)."
  },
  {
    name: "SESSION_IDLE_MINUTES",
    default: "30",
    secret: false,
    description: "A console session ends after this many minutes without a request (1–1440)."
  },
  {
    name: "SESSION_MAX_HOURS",
    default: "12",
    secret: false,
    description: "A console session ends this many hours after sign-in, active or not (1–720)."
  },
  {
    name: "HTTP_MAX_BODY_BYTES",
    default: "1048576",
    secret: false,
    description:
      "Largest request body a JSON API route accepts, in bytes (1 KiB–64 MiB); larger ones are answered 413 before they are read."
  },
  {
    name: "HTTP_MAX_FORM_BYTES",
    default: "65536",
    secret: false,
    description:
      "Largest request body of a public route (sign-in) or a console form, in bytes (1 KiB–64 MiB); larger ones are answered 413 before they are read."
  },
  {
    name: "API_RATE_LIMIT_PER_MINUTE",
    default: "60000",
    secret: false,
    description:
      "Requests one API key may make per minute (sliding window, shared through Redis when configured); beyond it 429 with `Retry-After`. `0` turns the limit off."
  },
  {
    name: "TRUSTED_PROXIES",
    default: "",
    secret: false,
    description:
      "Comma-separated addresses or CIDR ranges of the reverse proxies in front of Breakwater (e.g. `127.0.0.1,10.0.0.0/8`). A request from one of them is attributed to the client named in `X-Forwarded-For` (sign-in throttling and the audit log use that address); empty: the header is ignored."
  },
  {
    name: "RETENTION_HOUR_UTC",
    default: "3",
    secret: false,
    description:
      "Hour of the day (UTC, 0–23) at which the daily retention run deletes expired rows (one replica runs it); pick an off-peak hour."
  },
  {
    name: "EVENT_REPLAY_BUFFER",
    default: "1000",
    secret: false,
    description:
      "Events the event bus keeps per process (1–100000) so a reconnecting stream resumes after its `Last-Event-ID`; an id older than that gets a `reset` event."
  },
  {
    name: "FEATURE_<NAME>",
    default: "true",
    secret: false,
    description:
      "Feature switch per capability (`FEATURE_CIRCUIT_BREAKER`, `FEATURE_HEALTH_MONITOR`, `FEATURE_ALERTS`): `false` hides it."
  }
]

/** A configuration problem: which variable, and what is wrong with it. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", {
  problems: Schema.Array(Schema.Struct({ variable: Schema.String, problem: Schema.String }))
}) {
  override get message(): string {
    return `Invalid configuration: ${this.problems.map((p) => `${p.variable}: ${p.problem}`).join("; ")}`
  }
}

type Env = Readonly<Record<string, string | undefined>>
const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()

/** Reads and validates the whole configuration, reporting every bad variable at once. */
export const loadConfig = (env: Env): Effect.Effect<AppConfigShape, ConfigInvalid> =>
  Effect.suspend(() => {
    const problems: Array<{ variable: string; problem: string }> = []
    const read = <A>(name: string, schema: Schema.Codec<A, string>, fallback: string | undefined): Option.Option<A> => {
      const raw = env[name]
      const value = raw === undefined || raw === "" ? fallback : raw
      if (value === undefined) return Option.none()
      const result = Schema.decodeUnknownExit(schema)(value)
      if (result._tag === "Success") return Option.some(result.value)
      const reason = result.cause.reasons[0]
      const detail =
        reason !== undefined && reason._tag === "Fail" && Schema.isSchemaError(reason.error)
          ? formatIssue(reason.error.issue)
              .issues.map((i) => i.message)
              .join(", ")
          : "invalid value"
      const shown = variables.find((v) => v.name === name)?.secret ? "" : ` (got ${JSON.stringify(value)})`
      problems.push({ variable: name, problem: `${detail}${shown}` })
      return Option.none()
    }
    const required = <A>(name: string, schema: Schema.Codec<A, string>, fallback: string, placeholder: A): A =>
      Option.getOrElse(read(name, schema, fallback), () => placeholder)
    const secret = (name: string, schema: Schema.Codec<string, string>) =>
      Option.map(read(name, schema, undefined), (v) => Redacted.make(v, { label: name }))
    const features = new Map<string, boolean>()
    for (const [key, raw] of Object.entries(env)) {
      if (!key.startsWith("FEATURE_") || raw === undefined) continue
      const flag = read(key, Flag, undefined)
      if (Option.isSome(flag)) features.set(key.slice("FEATURE_".length), ["true", "1", "on"].includes(flag.value))
    }
    const config: AppConfigShape = {
      port: required("PORT", Port, "8080", 8080),
      host: required("HOST", NonEmpty, "127.0.0.1", "127.0.0.1"),
      databaseUrl: secret("DATABASE_URL", PgUrl),
      redisUrl: secret("REDIS_URL", RedisUrl),
      redisKeyPrefix: Option.getOrElse(read("REDIS_KEY_PREFIX", Schema.String, ""), () => ""),
      dataDir: required("BREAKWATER_DATA_DIR", NonEmpty, "./data", "./data"),
      adminEmail: required("BREAKWATER_ADMIN_EMAIL", Email, "admin@localhost", "admin@localhost"),
      adminPassword: secret("BREAKWATER_ADMIN_PASSWORD", Secret),
      logLevel: required("LOG_LEVEL", LogLevel, "info", "info"),
      logFormat: required("LOG_FORMAT", Format, "json", "json"),
      otlpEndpoint: read("OTEL_EXPORTER_OTLP_ENDPOINT", HttpUrl, undefined),
      metricsToken: secret("METRICS_TOKEN", NonEmpty),
      shutdownGraceSeconds: required("SHUTDOWN_GRACE_SECONDS", Seconds, "10", 10),
      dbMaxConnections: required("DB_MAX_CONNECTIONS", PositiveInt, "10", 10),
      sessionIdleMinutes: required("SESSION_IDLE_MINUTES", Minutes, "30", 30),
      sessionMaxHours: required("SESSION_MAX_HOURS", Hours, "12", 12),
      maxApiBodyBytes: required("HTTP_MAX_BODY_BYTES", Bytes, "1048576", 1_048_576),
      maxFormBodyBytes: required("HTTP_MAX_FORM_BYTES", Bytes, "65536", 65_536),
      apiRateLimitPerMinute: required("API_RATE_LIMIT_PER_MINUTE", PerMinute, "60000", 60_000),
      retentionHourUtc: required("RETENTION_HOUR_UTC", HourOfDay, "3", 3),
      trustedProxies: proxyEntries(Option.getOrElse(read("TRUSTED_PROXIES", ProxyList, ""), () => "")),
      eventReplayBuffer: required("EVENT_REPLAY_BUFFER", StreamCount, "1000", 1000),
      features
    }
    return problems.length > 0 ? Effect.fail(new ConfigInvalid({ problems })) : Effect.succeed(config)
  })

/** The validated configuration of this process. */
export class AppConfig extends Context.Service<AppConfig, AppConfigShape>()("breakwater/AppConfig") {
  /** Reads `process.env`. */
  static readonly layer = Layer.effect(
    AppConfig,
    Effect.suspend(() => loadConfig(process.env))
  )
  /** A configuration from an explicit environment (tests, benchmarks). */
  static readonly layerFrom = (env: Env) => Layer.effect(AppConfig, loadConfig(env))
  /** Whether a capability's `FEATURE_<NAME>` switch is on (absent means on). */
  static readonly featureEnabled = (config: AppConfigShape, name: string): boolean => config.features.get(name) ?? true
}
