/**
 * The settings API under `/api/v1/settings`. Reading needs `VIEW_DASHBOARD`; a change is routed
 * with `VIEW_DASHBOARD` too (the route table knows one permission per route, and the cross-site
 * checks run for every PUT and POST), and the handler then demands the permission the setting
 * itself declares — refused 403 naming it, audited like the route table's own refusals — and a
 * recent password from a session, like every dangerous change.
 */
import { Effect, Schema } from "effect"
import { HttpServerResponse } from "effect/http"
import type { Audit } from "../audit/audit.ts"
import { actorOf } from "../audit/entry.ts"
import { CurrentPrincipal } from "../auth/access.ts"
import type { Login } from "../auth/login.ts"
import { requireRecentAuthentication } from "../auth/reauth.ts"
import { decodeJson, decodePath, decodeQuery } from "../http/decode.ts"
import type { RouteSpec } from "../http/route.ts"
import { KEY_PATTERN, MAX_KEY_LENGTH } from "./declarations.ts"
import { requireSettingPermission } from "./guard.ts"
import { SettingVersion, SettingView } from "./model.ts"
import { MAX_HISTORY_LIMIT, Settings } from "./service.ts"

const tags = ["settings"]

/** Settings change at runtime: never from a cache. */
const noStore = { "cache-control": "no-store" }

/** PostgreSQL's `integer`: versions are stored as one. */
const MAX_VERSION = 2_147_483_647

const Key = Schema.String.check(
  Schema.isMaxLength(MAX_KEY_LENGTH, { message: `must be at most ${MAX_KEY_LENGTH} characters` }),
  Schema.isPattern(KEY_PATTERN, { message: "must be a setting key: module.name in lower snake case" })
)
/** The `:key` path parameter of a setting route (the API's and the console's). */
export const KeyParam = Schema.Struct({ key: Key })

const Version = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_VERSION }))
const ExpectedVersion = Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_VERSION })))
const Reason = Schema.optionalKey(
  Schema.String.check(
    Schema.isMinLength(1, { message: "must not be empty" }),
    Schema.isMaxLength(500, { message: "must be at most 500 characters" })
  )
)
const Password = Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1024)))

const ChangeBody = Schema.Struct({
  /** The new value, as JSON; the setting's schema decides what fits (see `schema` in the listing). */
  value: Schema.Unknown,
  /** Compare-and-set: refuse (409) unless the setting is still at this version (0: never changed). */
  expectedVersion: ExpectedVersion,
  reason: Reason,
  /** Re-authentication for a session that entered its password over 5 minutes ago. */
  password: Password
})

const RestoreBody = Schema.Struct({
  /** The version whose value becomes the next version. */
  version: Version,
  expectedVersion: ExpectedVersion,
  reason: Reason,
  password: Password
})

const HistoryQuery = Schema.Struct({
  limit: Schema.optionalKey(
    Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: MAX_HISTORY_LIMIT }))
  ),
  before: Schema.optionalKey(
    Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: MAX_VERSION }))
  )
})

const ListResponse = Schema.Struct({ settings: Schema.Array(SettingView) })
const HistoryResponse = Schema.Struct({ key: Schema.String, versions: Schema.Array(SettingVersion) })

const changeResponses = {
  403: "The setting needs a permission the caller lacks (`forbidden`, naming it), or re-authentication (send `password`).",
  404: "No such setting (`setting_not_found`).",
  409: "`expectedVersion` is not the current version (`setting_version_conflict`)."
}

/** The setting named by the path, once the caller may change it. */
const changeableSetting = Effect.gen(function* () {
  const { key } = yield* decodePath(KeyParam)
  const entry = yield* (yield* Settings).lookup(key)
  yield* requireSettingPermission(entry)
  return entry
})

const actor = Effect.map(CurrentPrincipal, actorOf)

export const settingsRoutes: ReadonlyArray<RouteSpec<Settings | Audit | Login>> = [
  {
    method: "GET",
    path: "/api/v1/settings",
    access: "VIEW_DASHBOARD",
    summary:
      "Every declared setting: its module, description, unit, who may change it, default, value in effect, latest version and a JSON Schema of its value.",
    docs: { response: ListResponse, tags },
    handler: Effect.map(
      Effect.flatMap(Settings, (s) => s.list),
      (settings) => HttpServerResponse.jsonUnsafe({ settings }, { headers: noStore })
    )
  },
  {
    method: "GET",
    path: "/api/v1/settings/:key/history",
    access: "VIEW_DASHBOARD",
    summary: "A setting's stored versions, newest first; `before` pages to older ones.",
    docs: {
      params: KeyParam,
      query: HistoryQuery,
      response: HistoryResponse,
      responses: { 404: "No such setting (`setting_not_found`)." },
      tags
    },
    handler: Effect.gen(function* () {
      const { key } = yield* decodePath(KeyParam)
      const { limit, before } = yield* decodeQuery(HistoryQuery)
      const versions = yield* (yield* Settings).history(key, { limit, before })
      return HttpServerResponse.jsonUnsafe({ key, versions }, { headers: noStore })
    })
  },
  {
    method: "PUT",
    path: "/api/v1/settings/:key",
    access: "VIEW_DASHBOARD",
    summary:
      "Changes a setting: the value must fit its schema; needs the setting's own permission and a recent password. Takes effect at once, on every replica.",
    docs: {
      params: KeyParam,
      body: ChangeBody,
      response: SettingVersion,
      responses: {
        ...changeResponses,
        400: "The value does not fit the setting (`invalid_setting_value`, with `issues`)."
      },
      tags
    },
    handler: Effect.gen(function* () {
      const entry = yield* changeableSetting
      const { value, expectedVersion, reason, password } = yield* decodeJson(ChangeBody)
      yield* requireRecentAuthentication(password)
      const stored = yield* (yield* Settings).set(entry.spec.key, value, yield* actor, { expectedVersion, reason })
      return HttpServerResponse.jsonUnsafe(stored, { headers: noStore })
    })
  },
  {
    method: "POST",
    path: "/api/v1/settings/:key/restore",
    access: "VIEW_DASHBOARD",
    summary:
      "Restores an earlier version: its value becomes the next version. Needs the setting's own permission and a recent password.",
    docs: {
      params: KeyParam,
      body: RestoreBody,
      response: SettingVersion,
      responses: {
        ...changeResponses,
        400: "That version's value no longer fits the setting (`invalid_setting_value`).",
        404: "No such setting, or no such version (`setting_version_not_found`)."
      },
      tags
    },
    handler: Effect.gen(function* () {
      const entry = yield* changeableSetting
      const { version, expectedVersion, reason, password } = yield* decodeJson(RestoreBody)
      yield* requireRecentAuthentication(password)
      const stored = yield* (yield* Settings).restore(entry.spec.key, version, yield* actor, {
        expectedVersion,
        reason
      })
      return HttpServerResponse.jsonUnsafe(stored, { headers: noStore })
    })
  }
]
