/**
 * The Audit Log: a filterable, paginated page, its CSV export and `GET /api/v1/audit`, all behind
 * `VIEW_AUDIT`. The page and the export read the page's filters (wall-clock times in the viewer's
 * time zone, filters.ts); the API reads UTC instants. A bad filter on the page is shown at its
 * field with the form kept (400); the export and the API answer 400 naming the field. The export
 * streams every matching entry, page by page, never all in memory.
 */
import { Effect, Option, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { SqlClient } from "effect/sql"
import { AuditFilter, AuditPageSchema, listEntries, withoutEmpty } from "../../core/audit/query.ts"
import { BadRequest, type Issue } from "../../core/errors/generic.ts"
import { decodeQuery } from "../../core/http/decode.ts"
import { wantsJson } from "../../core/http/negotiation.ts"
import { page } from "../../core/http/page.ts"
import { publicAsset } from "../../core/http/static.ts"
import { defineModule } from "../../core/module.ts"
import { CSV_HEADER, csvLine, csvRow } from "./csv.ts"
import { PageFilter, pickerValues, toAuditFilter } from "./filters.ts"
import { auditLogPage } from "./page.ts"
import { AuditPickers, AuditPickersLive } from "./pickers.ts"

/** The page's script: times in the viewer's zone, and the zone the pickers are read in. */
const script = publicAsset("audit-log.js", "text/javascript; charset=utf-8")

/** The query string as given, empty fields dropped. */
const rawQuery = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) =>
    withoutEmpty(Object.fromEntries(new URL(request.url, "http://x").searchParams)) as Readonly<Record<string, string>>
)

/** Decodes `schema` from the query string given (400 naming the field). */
const decodeFrom = <S extends typeof AuditFilter | typeof PageFilter>(
  schema: S,
  raw: Readonly<Record<string, string>>
) => decodeQuery(schema).pipe(Effect.provideService(HttpServerRequest.ParsedSearchParams, raw))

/** The API's filters of this request (UTC instants). */
const apiFilterOfRequest = Effect.flatMap(rawQuery, (raw) => decodeFrom(AuditFilter, raw))

/**
 * The page's filters of this request, as the query API's filter and as the form shows them; or
 * the problems by field.
 */
const pageFilterOfRequest = Effect.gen(function* () {
  const raw = yield* rawQuery
  const decoded = yield* decodeFrom(PageFilter, raw).pipe(
    Effect.map((page) => ({ page, issues: undefined })),
    Effect.catch((e) =>
      e instanceof BadRequest ? Effect.succeed({ page: undefined, issues: e.issues }) : Effect.fail(e)
    )
  )
  if (decoded.page === undefined) return { raw, filter: undefined, issues: decoded.issues, form: raw }
  const converted = toAuditFilter(decoded.page)
  if (converted._tag === "Invalid") return { raw, filter: undefined, issues: converted.issues, form: raw }
  const { cursor: _cursor, limit: _limit, ...shown } = raw
  return {
    raw,
    filter: converted.filter,
    issues: [],
    form: { ...shown, ...pickerValues(decoded.page, converted.filter) }
  }
})

const FIELDS = new Set(["actor", "action", "outcome", "from", "to", "resourceType", "resourceId"])

/** Problems by form field; the rest (a bad cursor, limit or zone in a link) is said above the form. */
const errorsOf = (issues: ReadonlyArray<Issue>): Record<string, string> => {
  const errors: Record<string, string> = {}
  for (const issue of issues) {
    const field = issue.path.split(".")[0] ?? ""
    const key = FIELDS.has(field) ? field : "form"
    const message = key === "form" ? `${field === "" ? "The query" : field} ${issue.message}.` : issue.message
    errors[key] = errors[key] === undefined ? message : `${errors[key]} ${message}`
  }
  return errors
}

/** The filters of the page's links (export, older entries): as given, without the cursor. */
const linkQuery = (raw: Readonly<Record<string, string>>) => {
  const { cursor: _cursor, ...rest } = raw
  return new URLSearchParams(Object.entries(rest)).toString()
}

const badRequestOf = (issues: ReadonlyArray<Issue>) =>
  Effect.fail(
    new BadRequest({ message: `invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues })
  )

const EXPORT_PAGE = 1000

export const auditLogModule = defineModule({
  name: "audit-log",
  layer: AuditPickersLive,
  routes: [
    {
      method: "GET",
      path: "/audit",
      access: "VIEW_AUDIT",
      summary: "The Audit Log page: filters, newest entries first, keyset pagination.",
      handler: Effect.gen(function* () {
        const { raw, filter, issues, form } = yield* pageFilterOfRequest
        // JSON clients get the standard error body; people get the page, marked.
        if (filter === undefined && wantsJson(yield* HttpServerRequest.HttpServerRequest))
          return yield* badRequestOf(issues)
        const result = filter === undefined ? undefined : yield* listEntries(filter)
        const { people, vocabulary } = yield* (yield* AuditPickers).choices
        const data = {
          form,
          errors: errorsOf(issues),
          query: linkQuery(raw),
          entries: result?.entries ?? [],
          nextCursor: result?.nextCursor,
          people,
          actors: vocabulary.actors.filter((a) => a.type !== "user"),
          actions: vocabulary.actions,
          script: script.url
        }
        return yield* page("Audit Log", auditLogPage(data), filter === undefined ? { status: 400 } : undefined)
      })
    },
    script.route,
    {
      method: "GET",
      path: "/audit/export.csv",
      access: "VIEW_AUDIT",
      summary: "Every entry matching the page's filters, as CSV.",
      handler: Effect.gen(function* () {
        const { filter, issues } = yield* pageFilterOfRequest
        if (filter === undefined) return yield* badRequestOf(issues)
        const sql = yield* SqlClient.SqlClient
        const pages = Stream.paginate(filter.cursor, (cursor: string | undefined) =>
          listEntries({ ...filter, limit: EXPORT_PAGE, ...(cursor === undefined ? {} : { cursor }) }).pipe(
            Effect.map((p) => [[p.entries.map(csvRow).join("")], Option.fromUndefinedOr(p.nextCursor)] as const),
            Effect.provideService(SqlClient.SqlClient, sql)
          )
        )
        const body = Stream.concat(Stream.make(csvLine(CSV_HEADER)), pages).pipe(Stream.encodeText)
        const stamp = new Date().toISOString().replace(/[:.]/g, "-")
        return HttpServerResponse.stream(body, {
          contentType: "text/csv; charset=utf-8",
          headers: {
            "content-disposition": `attachment; filename="breakwater-audit-${stamp}.csv"`,
            "cache-control": "no-store"
          }
        })
      })
    },
    {
      method: "GET",
      path: "/api/v1/audit",
      access: "VIEW_AUDIT",
      summary: "Audit entries, newest first, with the same filters as the page; follow `nextCursor` for older ones.",
      docs: { query: AuditFilter, response: AuditPageSchema, tags: ["audit"] },
      handler: Effect.gen(function* () {
        const filter = yield* apiFilterOfRequest
        const result = yield* listEntries(filter)
        return HttpServerResponse.jsonUnsafe(result.nextCursor === undefined ? { entries: result.entries } : result)
      })
    }
  ],
  navigation: [{ label: "Audit Log", path: "/audit", permissions: ["VIEW_AUDIT"], order: 900 }]
})
