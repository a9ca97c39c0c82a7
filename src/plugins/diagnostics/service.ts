/**
 * Profiling the running process for administrators: a CPU profile of N seconds (the inspector's
 * sampling profiler, `Profiler.start`/`stop`: the `.cpuprofile` JSON Chrome DevTools opens) and a
 * heap snapshot (`v8.writeHeapSnapshot`: the `.heapsnapshot` DevTools' Memory panel loads).
 *
 * Why it is shaped this way:
 * - One capture at a time per process (409 while one runs), and heap snapshots at most one per
 *   {@link HEAP_SNAPSHOT_COOLDOWN_SECONDS} (429 with `Retry-After`): a snapshot stops the process
 *   while V8 walks the heap and needs memory of the heap's order again, so no caller (a script in
 *   a loop, a fuzzer signed in as admin) can make the process take one after another.
 * - The snapshot is written by V8 straight to a private temporary file (a directory only this
 *   user can read, removed when the download ends or is abandoned) and streamed from there:
 *   never the whole snapshot in memory (`v8.getHeapSnapshot()` would buffer all of it in its
 *   stream as it serialises synchronously), and its size is known before the answer starts.
 * - Every capture is audited with who, what, how long it took and its size; a capture that fails
 *   or is abandoned (the caller went away) is audited as a failure. Refusals are not captures and
 *   are not audited.
 * - A heap snapshot holds every secret the process holds (database password, session ids, API key
 *   secrets being checked): the permission is admin-only and the answer is never cached.
 */

import { createReadStream } from "node:fs"
import { mkdtemp, rm, stat } from "node:fs/promises"
import { Session } from "node:inspector/promises"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { writeHeapSnapshot } from "node:v8"
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Clock, Context, Effect, Exit, Layer, Ref, Stream } from "effect"
import { Audit } from "../../core/audit/audit.ts"
import type { Actor } from "../../core/audit/entry.ts"
import { CaptureCoolingDown, CaptureFailed, CaptureInProgress } from "./errors.ts"

/** The longest and shortest CPU profile, in seconds. */
export const CPU_PROFILE_SECONDS = { min: 1, max: 60 } as const
/** Seconds after a heap snapshot before the next may start. */
export const HEAP_SNAPSHOT_COOLDOWN_SECONDS = 30

export type CaptureKind = "cpu_profile" | "heap_snapshot"

/** The capture running now. */
export interface RunningCapture {
  readonly kind: CaptureKind
  readonly by: string
  readonly startedAt: number
  /** When a CPU profile will end; a heap snapshot's end is not known. */
  readonly endsAt: number | undefined
}

export interface CpuProfile {
  /** The profile as JSON (`Profiler.Profile`: nodes, startTime, endTime, samples, timeDeltas). */
  readonly json: string
  readonly filename: string
}

export interface HeapSnapshot {
  /** The snapshot's bytes, read from its file; the file is removed when the stream ends. */
  readonly stream: Stream.Stream<Uint8Array, CaptureFailed>
  readonly bytes: number
  readonly filename: string
}

export interface DiagnosticsStatus {
  readonly running: RunningCapture | undefined
  /** Seconds until the next heap snapshot may start; 0 when it may now. */
  readonly heapSnapshotInSeconds: number
  readonly pid: number
  readonly host: string
}

export interface DiagnosticsShape {
  /** Profiles the process' CPU for `seconds` (interrupting it stops the profiler and audits a failure). */
  readonly cpuProfile: (seconds: number, actor: Actor) => Effect.Effect<CpuProfile, CaptureInProgress | CaptureFailed>
  /** Writes a heap snapshot to a private temporary file and returns it as a stream. */
  readonly heapSnapshot: (
    actor: Actor
  ) => Effect.Effect<HeapSnapshot, CaptureInProgress | CaptureCoolingDown | CaptureFailed>
  readonly status: Effect.Effect<DiagnosticsStatus>
}

const KIND_NAMES: Readonly<Record<CaptureKind, string>> = {
  cpu_profile: "a CPU profile",
  heap_snapshot: "a heap snapshot"
}

/** `breakwater-<host>-<pid>-<UTC time>.<extension>`, safe as a file name on any system. */
const fileName = (host: string, at: number, extension: string) =>
  `breakwater-${host.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64)}-${process.pid}-${new Date(at)
    .toISOString()
    .replace(/[:.]/g, "-")}.${extension}`

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

export class Diagnostics extends Context.Service<Diagnostics, DiagnosticsShape>()("breakwater/Diagnostics") {
  static readonly layer = Layer.effect(
    Diagnostics,
    Effect.gen(function* () {
      const audit = yield* Audit
      const host = hostname()
      const running = yield* Ref.make<RunningCapture | undefined>(undefined)
      /** When the last heap snapshot ended (ms), for the cooldown. */
      const lastHeapSnapshot = yield* Ref.make<number | undefined>(undefined)
      /** Snapshot files not yet downloaded: removed at shutdown if their download never ends. */
      const pending = new Set<string>()
      const removeDir = (dir: string) =>
        Effect.promise(() => rm(dir, { recursive: true, force: true })).pipe(
          Effect.ensuring(Effect.sync(() => pending.delete(dir)))
        )
      yield* Effect.addFinalizer(() => Effect.forEach([...pending], removeDir, { discard: true }))

      /** Takes the one capture slot, or refuses naming the capture that holds it. */
      const claim = (kind: CaptureKind, actor: Actor, endsAt: number | undefined) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.modify(running, (current) =>
            current === undefined ? [undefined, { kind, by: actor.name, startedAt: now, endsAt }] : [current, current]
          ).pipe(
            Effect.flatMap((busy) => {
              if (busy === undefined) return Effect.void
              const left = busy.endsAt === undefined ? 5 : Math.max(1, Math.ceil((busy.endsAt - now) / 1000))
              return Effect.fail(
                new CaptureInProgress({
                  message: `${KIND_NAMES[busy.kind]} started by ${busy.by} at ${new Date(busy.startedAt).toISOString()} is still running: one capture at a time, try again ${busy.endsAt === undefined ? "in a few seconds" : `in ${left} s`}`,
                  retryAfterSeconds: left
                })
              )
            })
          )
        )
      const release = Ref.set(running, undefined)

      const record = (
        kind: CaptureKind,
        actor: Actor,
        outcome: "success" | "failure",
        details: Readonly<Record<string, unknown>>,
        reason?: string
      ) =>
        audit
          .record({
            actor,
            action: `diagnostics.${kind}`,
            resourceType: "process",
            resourceId: `${host}:${process.pid}`,
            outcome,
            ...(reason === undefined ? {} : { reason }),
            details: { ...details, pid: process.pid, host }
          })
          .pipe(Effect.catchTag("AuditWriteFailed", (e) => Effect.logError("a capture could not be audited", e)))

      /** Audits a capture that did not complete (failed, or abandoned by its caller). */
      const auditFailure =
        (kind: CaptureKind, actor: Actor, started: number, details: Record<string, unknown>) =>
        <A, E>(exit: Exit.Exit<A, E>) =>
          Exit.isSuccess(exit)
            ? Effect.void
            : Effect.flatMap(Clock.currentTimeMillis, (now) =>
                record(
                  kind,
                  actor,
                  "failure",
                  { ...details, durationMs: now - started },
                  Exit.hasInterrupts(exit) ? "abandoned: the request ended before the capture" : "the capture failed"
                )
              )

      const inspector = Effect.acquireRelease(
        Effect.try({
          try: () => {
            const session = new Session()
            session.connect()
            return session
          },
          catch: (e) => new CaptureFailed({ message: `the inspector is not available: ${messageOf(e)}` })
        }),
        // Disconnecting also stops a profiler still running (an abandoned capture).
        (session) => Effect.sync(() => session.disconnect())
      )

      const post = <A>(what: string, call: () => Promise<A>) =>
        Effect.tryPromise({
          try: call,
          catch: (e) => new CaptureFailed({ message: `the profiler failed (${what}): ${messageOf(e)}` })
        })

      const cpuProfile = Effect.fn("Diagnostics.cpuProfile")(function* (seconds: number, actor: Actor) {
        const started = yield* Clock.currentTimeMillis
        yield* claim("cpu_profile", actor, started + seconds * 1000)
        const json = yield* Effect.scoped(
          Effect.gen(function* () {
            const session = yield* inspector
            yield* post("enable", () => session.post("Profiler.enable"))
            yield* post("start", () => session.post("Profiler.start"))
            yield* Effect.sleep(`${seconds} seconds`)
            const { profile } = yield* post("stop", () => session.post("Profiler.stop"))
            return JSON.stringify(profile)
          })
        ).pipe(Effect.onExit(auditFailure("cpu_profile", actor, started, { seconds })), Effect.ensuring(release))
        const ended = yield* Clock.currentTimeMillis
        const bytes = Buffer.byteLength(json)
        yield* record("cpu_profile", actor, "success", { seconds, durationMs: ended - started, bytes })
        return { json, filename: fileName(host, started, "cpuprofile") }
      })

      const coolingDown = Effect.gen(function* () {
        const last = yield* Ref.get(lastHeapSnapshot)
        const now = yield* Clock.currentTimeMillis
        const wait = last === undefined ? 0 : Math.ceil((last + HEAP_SNAPSHOT_COOLDOWN_SECONDS * 1000 - now) / 1000)
        return Math.max(0, wait)
      })

      const heapSnapshot = Effect.fn("Diagnostics.heapSnapshot")(function* (actor: Actor) {
        const wait = yield* coolingDown
        if (wait > 0)
          return yield* new CaptureCoolingDown({
            message: `a heap snapshot was taken less than ${HEAP_SNAPSHOT_COOLDOWN_SECONDS} s ago: the next may start in ${wait} s`,
            retryAfterSeconds: wait
          })
        const started = yield* Clock.currentTimeMillis
        yield* claim("heap_snapshot", actor, undefined)
        const written = yield* Effect.gen(function* () {
          // mkdtemp makes the directory readable by this user only (0700).
          const dir = yield* Effect.tryPromise({
            try: () => mkdtemp(join(tmpdir(), "breakwater-heap-")),
            catch: (e) => new CaptureFailed({ message: `no temporary directory for the snapshot: ${messageOf(e)}` })
          })
          pending.add(dir)
          const filename = fileName(host, started, "heapsnapshot")
          const path = join(dir, filename)
          // Synchronous: V8 stops the process while it walks the heap and writes the file.
          const bytes = yield* Effect.try({
            try: () => writeHeapSnapshot(path),
            catch: (e) => new CaptureFailed({ message: `the heap snapshot could not be written: ${messageOf(e)}` })
          }).pipe(
            Effect.flatMap(() =>
              Effect.tryPromise({
                try: () => stat(path),
                catch: (e) => new CaptureFailed({ message: `the heap snapshot file is missing: ${messageOf(e)}` })
              })
            ),
            Effect.map((s) => s.size),
            Effect.tapError(() => removeDir(dir))
          )
          return { dir, path, bytes, filename }
        }).pipe(
          Effect.onExit(auditFailure("heap_snapshot", actor, started, {})),
          Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.set(lastHeapSnapshot, now))),
          Effect.ensuring(release)
        )
        const ended = yield* Clock.currentTimeMillis
        yield* record("heap_snapshot", actor, "success", { durationMs: ended - started, bytes: written.bytes })
        const stream = NodeStream.fromReadable<Uint8Array, CaptureFailed>({
          evaluate: () => createReadStream(written.path, { highWaterMark: 256 * 1024 }),
          onError: (e) => new CaptureFailed({ message: `the heap snapshot could not be read: ${messageOf(e)}` })
        }).pipe(Stream.ensuring(removeDir(written.dir)))
        return { stream, bytes: written.bytes, filename: written.filename }
      })

      const status = Effect.gen(function* () {
        return {
          running: yield* Ref.get(running),
          heapSnapshotInSeconds: yield* coolingDown,
          pid: process.pid,
          host
        }
      })

      return Diagnostics.of({ cpuProfile, heapSnapshot, status })
    })
  )
}
