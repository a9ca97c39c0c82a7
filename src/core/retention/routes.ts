/**
 * The retention API. `POST /api/v1/retention/run` is a dry run unless the body says
 * `"dryRun": false`; a real run deletes, so a session must have entered its password recently (an
 * API key is exempt, as everywhere). `GET /api/v1/retention/jobs` lists the jobs with their period
 * and the rows due now. Both need MANAGE_SYSTEM_CONFIG: they name tables and run deletions.
 */
import { Effect, Schema } from "effect"
import { HttpServerResponse } from "effect/http"
import { actorOf } from "../audit/entry.ts"
import { CurrentPrincipal } from "../auth/access.ts"
import type { Login } from "../auth/login.ts"
import { requireRecentAuthentication } from "../auth/reauth.ts"
import { BadRequest } from "../errors/generic.ts"
import { decodeOptionalJson } from "../http/decode.ts"
import type { RouteSpec } from "../http/route.ts"
import { JobView, RetentionReport } from "./model.ts"
import { Retention } from "./retention.ts"

const tags = ["retention"]
const noStore = { "cache-control": "no-store" }

const JobName = Schema.String.check(
  Schema.isMaxLength(200),
  Schema.isPattern(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, { message: "must be a retention job name" })
)

const RunBody = Schema.Struct({
  /** Count only (the default); `false` deletes. */
  dryRun: Schema.optionalKey(Schema.Boolean),
  /** Only these jobs; every job when absent. */
  jobs: Schema.optionalKey(Schema.Array(JobName).check(Schema.isMinLength(1), Schema.isMaxLength(100))),
  /** The session's password, when a real run needs it again. */
  password: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1024)))
})

export const retentionRoutes: ReadonlyArray<RouteSpec<Retention | Login>> = [
  {
    method: "POST",
    path: "/api/v1/retention/run",
    access: "MANAGE_SYSTEM_CONFIG",
    summary:
      "Runs the retention jobs (all, or those named): a dry run by default, counting the rows due; with `dryRun: false` deletes them in small batches (needs a recent password) and is audited.",
    docs: {
      body: RunBody,
      bodyOptional: true,
      response: RetentionReport,
      responses: {
        403: "Re-authentication required for a real run (send `password`).",
        409: "Another retention run is in progress."
      },
      tags
    },
    handler: Effect.gen(function* () {
      const body = yield* decodeOptionalJson(RunBody)
      const dryRun = body.dryRun ?? true
      if (!dryRun) yield* requireRecentAuthentication(body.password)
      const actor = actorOf(yield* CurrentPrincipal)
      const report = yield* (yield* Retention).run({ dryRun, jobs: body.jobs, actor }).pipe(
        Effect.catchTag("UnknownRetentionJobs", (error) =>
          Effect.fail(
            new BadRequest({
              message: error.message,
              issues: error.names.map((name) => ({ path: "jobs", message: `no retention job named ${name}` }))
            })
          )
        )
      )
      return HttpServerResponse.jsonUnsafe(report, { headers: noStore })
    })
  },
  {
    method: "GET",
    path: "/api/v1/retention/jobs",
    access: "MANAGE_SYSTEM_CONFIG",
    summary: "The retention jobs: table, age column, period (and its setting) and the rows due now.",
    docs: { response: Schema.Struct({ jobs: Schema.Array(JobView) }), tags },
    handler: Effect.map(
      Effect.flatMap(Retention, (retention) => retention.list),
      (jobs) => HttpServerResponse.jsonUnsafe({ jobs }, { headers: noStore })
    )
  }
]
