/**
 * The diagnostics routes, all behind `PROFILE_SYSTEM` (admin only): the console page and its two
 * capture forms (answered with the file as a download; bad input or a refusal shows the page
 * again with the reason next to the form), and the same captures on the JSON API, documented in
 * the OpenAPI description. A capture answers only when it is done: a CPU profile after its
 * seconds, a heap snapshot once written.
 */
import { getHeapStatistics } from "node:v8"
import { Effect, Schema } from "effect"
import { HttpServerRequest, HttpServerResponse, UrlParams } from "effect/http"
import { actorOf } from "../../core/audit/entry.ts"
import { listEntries } from "../../core/audit/query.ts"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import { BadRequest } from "../../core/errors/generic.ts"
import { decodeForm, decodeQuery } from "../../core/http/decode.ts"
import { page } from "../../core/http/page.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import { publicAsset } from "../../core/http/static.ts"
import type { CoreServices } from "../../core/module.ts"
import { CaptureCoolingDown, type CaptureFailed, CaptureInProgress } from "./errors.ts"
import { diagnosticsPage } from "./page.ts"
import {
  CPU_PROFILE_SECONDS,
  type CpuProfile,
  Diagnostics,
  HEAP_SNAPSHOT_COOLDOWN_SECONDS,
  type HeapSnapshot,
  type RunningCapture
} from "./service.ts"

export const PERMISSION = "PROFILE_SYSTEM"

const SECONDS_MESSAGE = `must be a whole number of seconds from ${CPU_PROFILE_SECONDS.min} to ${CPU_PROFILE_SECONDS.max}`

const Seconds = Schema.NumberFromString.check(
  Schema.makeFilter(
    (n: number) =>
      (Number.isInteger(n) && n >= CPU_PROFILE_SECONDS.min && n <= CPU_PROFILE_SECONDS.max) || SECONDS_MESSAGE,
    { title: "seconds", description: `${CPU_PROFILE_SECONDS.min} to ${CPU_PROFILE_SECONDS.max}` }
  )
).pipe(Schema.annotateKey({ messageMissingKey: `is required: ${SECONDS_MESSAGE}` }))

const CpuProfileQuery = Schema.Struct({ seconds: Seconds })
const CpuProfileForm = Schema.Struct({ seconds: Seconds, _csrf: Schema.optionalKey(Schema.String) })

/** What `.cpuprofile` holds (Chrome DevTools' `Profiler.Profile`). */
const CpuProfileBody = Schema.Struct({
  nodes: Schema.Array(Schema.Unknown),
  startTime: Schema.Number,
  endTime: Schema.Number,
  samples: Schema.Array(Schema.Number),
  timeDeltas: Schema.Array(Schema.Number)
})
/** What `.heapsnapshot` holds (V8's heap snapshot format), in outline. */
const HeapSnapshotBody = Schema.Struct({
  snapshot: Schema.Unknown,
  nodes: Schema.Array(Schema.Number),
  edges: Schema.Array(Schema.Number),
  strings: Schema.Array(Schema.String)
})

const StatusBody = Schema.Struct({
  running: Schema.NullOr(
    Schema.Struct({
      kind: Schema.Literals(["cpu_profile", "heap_snapshot"]),
      by: Schema.String,
      startedAt: Schema.String,
      endsAt: Schema.NullOr(Schema.String)
    })
  ),
  heapSnapshotInSeconds: Schema.Number,
  pid: Schema.Number,
  host: Schema.String
})

const script = publicAsset("diagnostics.js", "text/javascript; charset=utf-8")

const download = (filename: string) => ({
  "content-disposition": `attachment; filename="${filename}"`,
  // A profile or snapshot describes the process' insides: never kept by a browser or a proxy.
  "cache-control": "no-store"
})

const cpuProfileAnswer = (profile: CpuProfile) =>
  HttpServerResponse.text(profile.json, {
    contentType: "application/json; charset=utf-8",
    headers: download(profile.filename)
  })

const heapSnapshotAnswer = (snapshot: HeapSnapshot) =>
  HttpServerResponse.stream(snapshot.stream, {
    contentType: "application/json",
    // Known before the first byte: the browser shows the download's progress.
    contentLength: snapshot.bytes,
    headers: download(snapshot.filename)
  })

const runningText = (running: RunningCapture): string =>
  `${running.kind === "cpu_profile" ? "A CPU profile" : "A heap snapshot"} started by ${running.by} at ${new Date(running.startedAt).toISOString()} is running${
    running.endsAt === undefined ? "" : ` until ${new Date(running.endsAt).toISOString()}`
  }.`

interface PageState {
  readonly seconds?: string
  readonly fieldError?: string
  readonly cpuRefusal?: string
  readonly heapRefusal?: string
  readonly status?: number
}

const renderPage = (state: PageState = {}) =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    const status = yield* (yield* Diagnostics).status
    const captures = yield* listEntries({ action: "diagnostics.*", limit: 10 })
    const heap = getHeapStatistics()
    const memory = process.memoryUsage()
    return yield* page(
      "Diagnostics",
      diagnosticsPage({
        facts: {
          pid: status.pid,
          host: status.host,
          node: process.version,
          uptimeSeconds: process.uptime(),
          heapUsedBytes: heap.used_heap_size,
          heapLimitBytes: heap.heap_size_limit,
          rssBytes: memory.rss
        },
        csrfToken: principal.session?.csrfToken ?? "",
        running: status.running === undefined ? undefined : runningText(status.running),
        heapSnapshotInSeconds: status.heapSnapshotInSeconds,
        limits: {
          minSeconds: CPU_PROFILE_SECONDS.min,
          maxSeconds: CPU_PROFILE_SECONDS.max,
          cooldownSeconds: HEAP_SNAPSHOT_COOLDOWN_SECONDS
        },
        cpu: { seconds: state.seconds ?? "10", fieldError: state.fieldError, refusal: state.cpuRefusal },
        heap: { refusal: state.heapRefusal },
        captures: captures.entries,
        script: script.url
      }),
      state.status === undefined ? undefined : { status: state.status }
    )
  })

/** A refusal the page shows next to its form, with the status the API would give. */
const refusalOf = (
  e: CaptureInProgress | CaptureCoolingDown | CaptureFailed
): { readonly message: string; readonly status: number } =>
  e instanceof CaptureInProgress
    ? { message: e.message, status: 409 }
    : e instanceof CaptureCoolingDown
      ? { message: e.message, status: 429 }
      : { message: e.message, status: 503 }

/** The seconds field as it was posted, to show it again. */
const postedSeconds = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const params = yield* request.urlParamsBody.pipe(Effect.orElseSucceed(() => UrlParams.empty))
  const value = UrlParams.getFirst(params, "seconds")
  return value._tag === "Some" ? value.value.slice(0, 20) : ""
})

const uniqueMessages = (issues: ReadonlyArray<{ readonly message: string }>) =>
  [...new Set(issues.map((i) => i.message))].join("; ")

export const diagnosticsRoutes: ReadonlyArray<RouteSpec<Diagnostics | CoreServices>> = [
  script.route,
  {
    method: "GET",
    path: "/admin/diagnostics",
    access: PERMISSION,
    summary: "Diagnostics page: the process, CPU profile and heap snapshot captures, the latest ones.",
    handler: renderPage()
  },
  {
    method: "POST",
    path: "/admin/diagnostics/cpu-profile",
    access: PERMISSION,
    summary: "Captures a CPU profile from the page's form and answers with the .cpuprofile file.",
    handler: Effect.gen(function* () {
      const form = yield* decodeForm(CpuProfileForm).pipe(
        Effect.map((f) => ({ seconds: f.seconds, problem: undefined })),
        Effect.catch((e) =>
          e instanceof BadRequest ? Effect.succeed({ seconds: undefined, problem: e }) : Effect.fail(e)
        )
      )
      if (form.seconds === undefined)
        return yield* renderPage({
          seconds: yield* postedSeconds,
          fieldError: uniqueMessages(form.problem?.issues ?? []),
          status: 400
        })
      const actor = actorOf(yield* CurrentPrincipal)
      const seconds = form.seconds
      return yield* (yield* Diagnostics).cpuProfile(seconds, actor).pipe(
        Effect.map(cpuProfileAnswer),
        Effect.catch((e) => {
          const refusal = refusalOf(e)
          return renderPage({ seconds: String(seconds), cpuRefusal: refusal.message, status: refusal.status })
        })
      )
    })
  },
  {
    method: "POST",
    path: "/admin/diagnostics/heap-snapshot",
    access: PERMISSION,
    summary: "Takes a heap snapshot from the page's form and answers with the .heapsnapshot file.",
    handler: Effect.gen(function* () {
      const actor = actorOf(yield* CurrentPrincipal)
      return yield* (yield* Diagnostics).heapSnapshot(actor).pipe(
        Effect.map(heapSnapshotAnswer),
        Effect.catch((e) => {
          const refusal = refusalOf(e)
          return renderPage({ heapRefusal: refusal.message, status: refusal.status })
        })
      )
    })
  },
  {
    method: "GET",
    path: "/api/v1/diagnostics",
    access: PERMISSION,
    summary: "Whether a capture is running, and when the next heap snapshot may start.",
    docs: { response: StatusBody, tags: ["diagnostics"] },
    handler: Effect.gen(function* () {
      const status = yield* (yield* Diagnostics).status
      const running = status.running
      return HttpServerResponse.jsonUnsafe({
        ...status,
        running:
          running === undefined
            ? null
            : {
                kind: running.kind,
                by: running.by,
                startedAt: new Date(running.startedAt).toISOString(),
                endsAt: running.endsAt === undefined ? null : new Date(running.endsAt).toISOString()
              }
      })
    })
  },
  {
    method: "POST",
    path: "/api/v1/diagnostics/cpu-profile",
    access: PERMISSION,
    summary:
      "Profiles the process' CPU for `seconds` (1 to 60) and answers, when done, with the profile (a `.cpuprofile` for Chrome DevTools' Performance panel). Audited.",
    docs: {
      query: CpuProfileQuery,
      response: CpuProfileBody,
      responses: {
        409: "Another capture (CPU profile or heap snapshot) is running on this process (`capture_in_progress`; see `Retry-After`).",
        503: "The profiler could not run (`capture_failed`)."
      },
      tags: ["diagnostics"]
    },
    handler: Effect.gen(function* () {
      const { seconds } = yield* decodeQuery(CpuProfileQuery)
      const profile = yield* (yield* Diagnostics).cpuProfile(seconds, actorOf(yield* CurrentPrincipal))
      return cpuProfileAnswer(profile)
    })
  },
  {
    method: "POST",
    path: "/api/v1/diagnostics/heap-snapshot",
    access: PERMISSION,
    summary: `Takes a heap snapshot of the process and streams it (a \`.heapsnapshot\` for Chrome DevTools' Memory panel; it holds every secret in memory). At most one every ${HEAP_SNAPSHOT_COOLDOWN_SECONDS} s. Audited.`,
    docs: {
      response: HeapSnapshotBody,
      responses: {
        409: "Another capture is running on this process (`capture_in_progress`; see `Retry-After`).",
        429: `A heap snapshot was taken less than ${HEAP_SNAPSHOT_COOLDOWN_SECONDS} s ago (\`capture_cooling_down\`; see \`Retry-After\`).`,
        503: "The snapshot could not be written (`capture_failed`)."
      },
      tags: ["diagnostics"]
    },
    handler: Effect.gen(function* () {
      const snapshot = yield* (yield* Diagnostics).heapSnapshot(actorOf(yield* CurrentPrincipal))
      return heapSnapshotAnswer(snapshot)
    })
  }
]
