/**
 * The Audit Log: a filterable, paginated page, its CSV export and `GET /api/v1/audit`, all behind
 * `VIEW_AUDIT`. The export streams every matching entry, page by page, never all in memory.
 */
import { Effect, Layer, Option, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { SqlClient } from "effect/sql"
import { AuditFilter, AuditPageSchema, listEntries, withoutEmpty } from "../../core/audit/query.ts"
import { decodeQuery } from "../../core/http/decode.ts"
import { page } from "../../core/http/page.ts"
import { defineModule } from "../../core/module.ts"
import { CSV_HEADER, csvLine, csvRow } from "./csv.ts"
import { auditLogPage } from "./page.ts"

/** The filters of this request: empty form fields dropped, then decoded (400 naming the field). */
const filterOfRequest = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const raw = withoutEmpty(Object.fromEntries(new URL(request.url, "http://x").searchParams))
  const filter = yield* decodeQuery(AuditFilter).pipe(Effect.provideService(HttpServerRequest.ParsedSearchParams, raw))
  return { filter, raw: raw as Record<string, string> }
})

const EXPORT_PAGE = 1000

export const auditLogModule = defineModule({
  name: "audit-log",
  layer: Layer.empty,
  routes: [
    {
      method: "GET",
      path: "/audit",
      access: "VIEW_AUDIT",
      summary: "The Audit Log page: filters, newest entries first, keyset pagination.",
      handler: Effect.gen(function* () {
        const { filter, raw } = yield* filterOfRequest
        const result = yield* listEntries(filter)
        return yield* page(
          "Audit Log",
          auditLogPage({ filter: raw, entries: result.entries, nextCursor: result.nextCursor })
        )
      })
    },
    {
      method: "GET",
      path: "/audit/export.csv",
      access: "VIEW_AUDIT",
      summary: "Every entry matching the filters, as CSV.",
      handler: Effect.gen(function* () {
        const { filter } = yield* filterOfRequest
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
        const { filter } = yield* filterOfRequest
        const result = yield* listEntries(filter)
        return HttpServerResponse.jsonUnsafe(result.nextCursor === undefined ? { entries: result.entries } : result)
      })
    }
  ],
  navigation: [{ label: "Audit Log", path: "/audit", permissions: ["VIEW_AUDIT"], order: 900 }]
})
