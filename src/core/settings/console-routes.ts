/**
 * The settings in the console: `/admin/settings` (every declared setting by module) and
 * `/admin/settings/{key}` (one setting: change it, its history, restore a version). Opening the
 * pages needs `MANAGE_SYSTEM_CONFIG`; a change also needs the setting's own permission (refused
 * 403 and audited, as in the API) and, from a sign-in older than the re-authentication window,
 * the password. Nothing is saved without a review that shows the value now and after; the save
 * carries the version it replaces, so a change someone else made meanwhile is shown, not
 * overwritten. The Settings service validates, versions and audits every change.
 *
 * A refusal a person can act on (a value that does not fit, the password, a change that lost
 * the race) comes back as the page with the form as it was and the problem next to it; a client
 * that asks for JSON gets the standard error answer instead.
 */
import { Clock, Effect, Result, Schema } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { actorOf } from "../audit/entry.ts"
import { CurrentPrincipal } from "../auth/access.ts"
import { REAUTH_WINDOW_MINUTES, ReauthenticationRequired, requireRecentAuthentication } from "../auth/reauth.ts"
import { BadRequest } from "../errors/generic.ts"
import { decodeForm, decodePath, decodeQuery } from "../http/decode.ts"
import { wantsJson } from "../http/negotiation.ts"
import { page } from "../http/page.ts"
import type { RouteSpec } from "../http/route.ts"
import type { CoreServices } from "../module.ts"
import { type DeclaredSetting, decodeValue, toStoredJson } from "./declarations.ts"
import { InvalidSettingValue, SettingVersionConflict, SettingVersionNotFound } from "./errors.ts"
import { allowedValues, controlOf, displayValue, formText, MAX_VALUE_TEXT, parseSubmitted } from "./form-value.ts"
import { requireSettingPermission } from "./guard.ts"
import type { SettingView } from "./model.ts"
import { type SettingSummary, settingPath, settingsPage } from "./page.ts"
import { KeyParam } from "./routes.ts"
import { Settings } from "./service.ts"
import { type ReviewData, type ReviewKind, type SettingNotice, settingNotices, settingPage } from "./setting-page.ts"

/** PostgreSQL's `integer`: versions are stored as one. */
const MAX_VERSION = 2_147_483_647
const HISTORY_PAGE = 50

const VersionText = Schema.NumberFromString.check(
  Schema.isInt(),
  Schema.isBetween({ minimum: 1, maximum: MAX_VERSION })
)
const ExpectedVersionText = Schema.NumberFromString.check(
  Schema.isInt(),
  Schema.isBetween({ minimum: 0, maximum: MAX_VERSION })
)
const ValueText = Schema.String.check(
  Schema.isMaxLength(MAX_VALUE_TEXT, { message: `must be at most ${MAX_VALUE_TEXT} characters` })
)
const Reason = Schema.optionalKey(
  Schema.String.check(Schema.isMaxLength(500, { message: "must be at most 500 characters" }))
)
const Password = Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1024)))

const PageQuery = Schema.Struct({
  notice: Schema.optionalKey(Schema.Literals(Object.keys(settingNotices) as ReadonlyArray<SettingNotice>)),
  restore: Schema.optionalKey(Schema.Union([Schema.Literal("default"), VersionText])),
  before: Schema.optionalKey(VersionText)
})
const ReviewForm = Schema.Struct({ value: ValueText })
const SaveForm = Schema.Struct({
  value: ValueText,
  expectedVersion: ExpectedVersionText,
  reason: Reason,
  password: Password
})
const RestoreForm = Schema.Struct({
  version: VersionText,
  expectedVersion: ExpectedVersionText,
  reason: Reason,
  password: Password
})

type Response = HttpServerResponse.HttpServerResponse

/** A browser gets the page `render` makes; a JSON client the error itself (its standard answer). */
const pageOrError = <E, E2, R>(
  error: E,
  render: Effect.Effect<Response, E2, R>
): Effect.Effect<Response, E | E2, R | HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(
    HttpServerRequest.HttpServerRequest,
    (request): Effect.Effect<Response, E | E2, R> => (wantsJson(request) ? Effect.fail(error) : render)
  )

const blank = (text: string | undefined) => (text === undefined || text.trim() === "" ? undefined : text.trim())

const summaryOf = (view: SettingView, mayChange: boolean): SettingSummary => ({
  module: view.module,
  key: view.key,
  description: view.description,
  unit: view.unit ?? undefined,
  permission: view.permission,
  mayChange,
  valueText: displayValue(view.value),
  defaultText: displayValue(view.default),
  version: view.version,
  changedAt: view.changedAt ?? undefined,
  changedBy: view.changedBy?.name,
  reason: view.reason ?? undefined,
  fallback: view.fallback,
  allowed: allowedValues(view.schema)
})

/** The declared setting named by the path, and its listing (value in effect, version). */
const settingOfPath = Effect.gen(function* () {
  const { key } = yield* decodePath(KeyParam)
  const settings = yield* Settings
  const entry = yield* settings.lookup(key)
  const view = (yield* settings.list).find((v) => v.key === key)
  // Declared settings are listed; a missing one would be a bug in the service.
  if (view === undefined) return yield* Effect.die(new Error(`setting ${key} is declared but not listed`))
  return { entry, view }
})

/** The stored JSON a form's text stands for, once the setting's schema accepts it; otherwise why not. */
const checkedValue = (entry: DeclaredSetting, view: SettingView, text: string): Result.Result<unknown, string> => {
  const parsed = parseSubmitted(view.schema, text)
  if (Result.isFailure(parsed)) return parsed
  const decoded = decodeValue(entry.spec.schema, parsed.success)
  if (Result.isFailure(decoded)) return Result.fail(decoded.failure.message)
  const stored = toStoredJson(entry.spec.schema, decoded.success)
  return Result.isFailure(stored) ? Result.fail(stored.failure.message) : Result.succeed(stored.success)
}

const invalidValue = (key: string, message: string) =>
  new BadRequest({
    message: `the value of setting ${key} is invalid: ${message}`,
    issues: [{ path: "value", message }]
  })

interface Shown {
  readonly notice?: SettingNotice | undefined
  readonly edit?: { readonly text: string; readonly error?: string | undefined }
  readonly review?: ReviewData | undefined
  readonly before?: number | undefined
}

/** One setting's page for the current principal, with what this request has to say on it. */
const renderSetting = (view: SettingView, shown: Shown, status = 200) =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    const now = yield* Clock.currentTimeMillis
    const versions = yield* (yield* Settings).history(view.key, { limit: HISTORY_PAGE + 1, before: shown.before })
    const authenticatedAt = principal.session?.authenticatedAt.getTime() ?? now
    return yield* page(
      `Setting ${view.key}`,
      settingPage({
        setting: summaryOf(view, principal.permissions.has(view.permission)),
        control: controlOf(view.schema),
        csrfToken: principal.session?.csrfToken ?? "",
        passwordNeeded: principal.session !== undefined && now - authenticatedAt >= REAUTH_WINDOW_MINUTES * 60_000,
        notice: shown.notice,
        edit: { text: shown.edit?.text ?? formText(view.schema, view.value), error: shown.edit?.error },
        review: shown.review,
        history: versions.slice(0, HISTORY_PAGE).map((v) => ({
          version: v.version,
          valueText: displayValue(v.value),
          changedAt: v.changedAt,
          changedBy: v.changedBy.name,
          reason: v.reason ?? undefined
        })),
        olderThan: shown.before,
        moreHistory: versions.length > HISTORY_PAGE
      }),
      { status }
    )
  })

const review = (
  view: SettingView,
  what: ReviewKind,
  after: unknown,
  fields: {
    readonly submitted: string
    readonly reason?: string | undefined
    readonly errors?: ReviewData["errors"] | undefined
  }
): ReviewData => ({
  what,
  beforeText: displayValue(view.value),
  afterText: displayValue(after),
  expectedVersion: view.version,
  submitted: fields.submitted,
  reason: fields.reason ?? "",
  errors: fields.errors ?? {}
})

/** An earlier version of a setting, or 404 `setting_version_not_found`. */
const storedVersion = (key: string, version: number) =>
  Effect.gen(function* () {
    const [found] = yield* (yield* Settings).history(key, { before: version + 1, limit: 1 })
    if (found === undefined || found.version !== version)
      return yield* new SettingVersionNotFound({ message: `setting ${key} has no version ${version}`, key, version })
    return found
  })

/** The review of restoring `version`: its value after, or why it can no longer be restored. */
const restoreReview = (
  entry: DeclaredSetting,
  view: SettingView,
  version: number,
  fields: { readonly reason?: string | undefined; readonly errors?: ReviewData["errors"] | undefined }
) =>
  Effect.gen(function* () {
    const earlier = yield* storedVersion(view.key, version)
    const fits = Result.isSuccess(decodeValue(entry.spec.schema, earlier.value))
    const errors = fits
      ? fields.errors
      : {
          ...fields.errors,
          form: `Version ${version} no longer fits this setting and cannot be restored; pick another version or change the value.`
        }
    return {
      ...review(view, { kind: "restore", version }, earlier.value, { submitted: "", reason: fields.reason, errors }),
      blocked: !fits
    }
  })

/** The review of a change whose save was refused: the same value and reason, the refusal said. */
const refusedSave = (
  entry: DeclaredSetting,
  text: string,
  reason: string | undefined,
  errors: ReviewData["errors"],
  status: number
) =>
  Effect.gen(function* () {
    // Read again: after a lost race the review compares with what is in effect now.
    const view = (yield* (yield* Settings).list).find((v) => v.key === entry.spec.key)
    if (view === undefined) return yield* Effect.die(new Error(`setting ${entry.spec.key} is not listed`))
    const checked = checkedValue(entry, view, text)
    if (Result.isFailure(checked)) return yield* renderSetting(view, { edit: { text, error: checked.failure } }, 400)
    return yield* renderSetting(
      view,
      {
        edit: { text },
        review: review(view, { kind: "change" }, checked.success, { submitted: text, reason, errors })
      },
      status
    )
  })

const conflictMessage = (e: SettingVersionConflict) =>
  `Someone else saved version ${e.details.currentVersion} while you were reviewing: the difference below is against it now. Save again if your change still holds.`

export const settingsConsoleRoutes: ReadonlyArray<RouteSpec<CoreServices>> = [
  {
    method: "GET",
    path: "/admin/settings",
    access: "MANAGE_SYSTEM_CONFIG",
    summary:
      "Settings: every declared setting by module, with its description, default, value in effect and last change.",
    handler: Effect.gen(function* () {
      const principal = yield* CurrentPrincipal
      const views = yield* (yield* Settings).list
      return yield* page(
        "Settings",
        settingsPage({ settings: views.map((v) => summaryOf(v, principal.permissions.has(v.permission))) })
      )
    })
  },
  {
    method: "GET",
    path: "/admin/settings/:key",
    access: "MANAGE_SYSTEM_CONFIG",
    summary:
      "One setting: value in effect, default, the form to change it and its history; `restore` reviews restoring a version (or `default`).",
    handler: Effect.gen(function* () {
      const { entry, view } = yield* settingOfPath
      const query = yield* decodeQuery(PageQuery)
      const may = (yield* CurrentPrincipal).permissions.has(view.permission)
      const restoring =
        !may || query.restore === undefined
          ? undefined
          : query.restore === "default"
            ? review(view, { kind: "default" }, view.default, { submitted: formText(view.schema, view.default) })
            : yield* restoreReview(entry, view, query.restore, {})
      return yield* renderSetting(view, { notice: query.notice, review: restoring, before: query.before })
    })
  },
  {
    method: "POST",
    path: "/admin/settings/:key/review",
    access: "MANAGE_SYSTEM_CONFIG",
    summary: "Reviews a new value: shows it beside the value in effect, with the form that saves it. Changes nothing.",
    handler: Effect.gen(function* () {
      const { entry, view } = yield* settingOfPath
      const form = yield* decodeForm(ReviewForm)
      yield* requireSettingPermission(entry)
      const checked = checkedValue(entry, view, form.value)
      if (Result.isFailure(checked))
        return yield* pageOrError(
          invalidValue(view.key, checked.failure),
          renderSetting(view, { edit: { text: form.value, error: checked.failure } }, 400)
        )
      return yield* renderSetting(view, {
        edit: { text: form.value },
        review: review(view, { kind: "change" }, checked.success, { submitted: form.value })
      })
    })
  },
  {
    method: "POST",
    path: "/admin/settings/:key",
    access: "MANAGE_SYSTEM_CONFIG",
    summary:
      "Saves a reviewed value as the setting's next version (compare-and-set on `expectedVersion`); needs the setting's permission and a recent password.",
    handler: Effect.gen(function* () {
      const { entry, view } = yield* settingOfPath
      const form = yield* decodeForm(SaveForm)
      yield* requireSettingPermission(entry)
      const reason = blank(form.reason)
      const checked = checkedValue(entry, view, form.value)
      if (Result.isFailure(checked))
        return yield* pageOrError(
          invalidValue(view.key, checked.failure),
          renderSetting(view, { edit: { text: form.value, error: checked.failure } }, 400)
        )
      return yield* Effect.gen(function* () {
        yield* requireRecentAuthentication(form.password)
        yield* (yield* Settings).set(view.key, checked.success, actorOf(yield* CurrentPrincipal), {
          expectedVersion: form.expectedVersion,
          reason
        })
        return HttpServerResponse.redirect(`${settingPath(view.key)}?notice=saved`, { status: 303 })
      }).pipe(
        Effect.catch((error) =>
          Effect.gen(function* () {
            if (error instanceof ReauthenticationRequired)
              return yield* pageOrError(error, refusedSave(entry, form.value, reason, { password: error.message }, 403))
            if (error instanceof SettingVersionConflict)
              return yield* pageOrError(
                error,
                refusedSave(entry, form.value, reason, { form: conflictMessage(error) }, 409)
              )
            if (error instanceof InvalidSettingValue)
              return yield* pageOrError(error, refusedSave(entry, form.value, reason, {}, 400))
            return yield* Effect.fail(error)
          })
        )
      )
    })
  },
  {
    method: "POST",
    path: "/admin/settings/:key/restore",
    access: "MANAGE_SYSTEM_CONFIG",
    summary:
      "Restores a reviewed earlier version as the setting's next version (compare-and-set on `expectedVersion`); needs the setting's permission and a recent password.",
    handler: Effect.gen(function* () {
      const { entry, view } = yield* settingOfPath
      const form = yield* decodeForm(RestoreForm)
      yield* requireSettingPermission(entry)
      const reason = blank(form.reason)
      const again = (errors: ReviewData["errors"], status: number) =>
        Effect.gen(function* () {
          const now = (yield* (yield* Settings).list).find((v) => v.key === view.key) ?? view
          const shown = yield* restoreReview(entry, now, form.version, { reason, errors })
          return yield* renderSetting(now, { review: shown }, status)
        })
      return yield* Effect.gen(function* () {
        yield* requireRecentAuthentication(form.password)
        yield* (yield* Settings).restore(view.key, form.version, actorOf(yield* CurrentPrincipal), {
          expectedVersion: form.expectedVersion,
          reason
        })
        return HttpServerResponse.redirect(`${settingPath(view.key)}?notice=restored`, { status: 303 })
      }).pipe(
        Effect.catch((error) =>
          Effect.gen(function* () {
            if (error instanceof ReauthenticationRequired)
              return yield* pageOrError(error, again({ password: error.message }, 403))
            if (error instanceof SettingVersionConflict)
              return yield* pageOrError(error, again({ form: conflictMessage(error) }, 409))
            if (error instanceof InvalidSettingValue) return yield* pageOrError(error, again({}, 400))
            return yield* Effect.fail(error)
          })
        )
      )
    })
  }
]
