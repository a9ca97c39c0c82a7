/** Renders a view inside the console layout, with the navigation the current principal may see. */
import { Effect } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import type { Html } from "../../../views/html.ts"
import { layout } from "../../../views/layout.ts"
import { CurrentPrincipal, type Principal } from "../auth/access.ts"
import { Navigation } from "../navigation.ts"
import { version } from "../version.ts"
import { stalenessSeconds } from "./console-live.ts"
import { ConsoleParts } from "./console-parts.ts"

export const renderLayout = (
  title: string,
  body: Html,
  principal: Principal | undefined,
  currentPath: string
): Effect.Effect<string, never, Navigation | ConsoleParts> =>
  Effect.gen(function* () {
    const nav = yield* (yield* Navigation).visibleTo(principal)
    const status = yield* (yield* ConsoleParts).statusFor(principal)
    return layout({
      title,
      body,
      nav,
      currentPath,
      user:
        principal === undefined || principal.kind === "anonymous"
          ? undefined
          : { name: principal.name, role: principal.role },
      csrfToken: principal?.session?.csrfToken,
      version,
      status: status === undefined ? undefined : { ...status, stalenessSeconds: yield* stalenessSeconds }
    }).value
  })

/** A full console page for the current request. */
export const page = (
  title: string,
  body: Html,
  options?: { readonly status?: number }
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  Navigation | ConsoleParts | CurrentPrincipal | HttpServerRequest.HttpServerRequest
> =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = request.url.split("?")[0] ?? "/"
    const text = yield* renderLayout(title, body, principal, path)
    return HttpServerResponse.text(text, {
      status: options?.status ?? 200,
      contentType: "text/html; charset=utf-8",
      headers: { "cache-control": "no-store" }
    })
  })

/** An htmx fragment (no layout). */
export const fragment = (body: Html): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(body.value, {
    contentType: "text/html; charset=utf-8",
    headers: { "cache-control": "no-store" }
  })
