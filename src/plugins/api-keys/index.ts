/**
 * API keys in the console (`/admin/api-keys`) and the JSON API (`/api/v1/api-keys`), behind
 * `MANAGE_API_KEYS`. Creating and revoking a key need a recent password (re-authentication);
 * a new key is shown once; keys are created for the signed-in user, so a key can never outrank
 * its owner.
 */
import { Clock, Effect, Redacted, Schema } from "effect"
import { HttpServerResponse } from "effect/http"
import { actorOf } from "../../core/audit/entry.ts"
import { CurrentPrincipal, Forbidden } from "../../core/auth/access.ts"
import { parseDuration } from "../../core/auth/api-key-format.ts"
import { ApiKeys, ApiKeyView } from "../../core/auth/api-keys.ts"
import { Permissions } from "../../core/auth/permissions.ts"
import { REAUTH_WINDOW_MINUTES, requireRecentAuthentication } from "../../core/auth/reauth.ts"
import { BadRequest } from "../../core/errors/generic.ts"
import { decodeForm, decodeJson, decodeOptionalJson, decodePath, decodeQuery } from "../../core/http/decode.ts"
import { page } from "../../core/http/page.ts"
import { defineModule } from "../../core/module.ts"
import { apikeyCommand } from "./cli.ts"
import { apiKeysPage } from "./page.ts"

const Expiry = Schema.String.check(
  Schema.makeFilter((s: string) => parseDuration(s) !== undefined || "must be a duration such as 30d, 12h or 1y")
)
const Name = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(100))
const Password = Schema.optionalKey(Schema.String.check(Schema.isMaxLength(256)))

const CreateForm = Schema.Struct({
  name: Name,
  scopes: Schema.optionalKey(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  expiresIn: Expiry,
  password: Password,
  _csrf: Schema.optionalKey(Schema.String)
})

const CreateBody = Schema.Struct({
  name: Name,
  scopes: Schema.Array(Schema.String),
  expiresIn: Expiry,
  password: Password
})

const CreatedBody = Schema.Struct({ key: ApiKeyView, apiKey: Schema.String })
const RevokeForm = Schema.Struct({ password: Password })
const RevokeBody = Schema.Struct({ password: Password })
const KeyId = Schema.Struct({
  id: Schema.String.check(Schema.isPattern(/^[0-9A-Za-z]{12}$/, { message: "must be a key id" }))
})

/** Only a signed-in user owns keys: a key may not mint keys. */
const owner = Effect.gen(function* () {
  const principal = yield* CurrentPrincipal
  if (principal.kind !== "user")
    return yield* new Forbidden({ message: "API keys are created by signed-in users", permission: "MANAGE_API_KEYS" })
  return principal
})

const create = (name: string, scopes: ReadonlyArray<string>, expiresIn: string, password: string | undefined) =>
  Effect.gen(function* () {
    const principal = yield* owner
    yield* requireRecentAuthentication(password === undefined ? undefined : Redacted.make(password))
    const seconds = parseDuration(expiresIn)
    if (seconds === undefined)
      return yield* new BadRequest({
        message: "invalid expiresIn",
        issues: [{ path: "expiresIn", message: "must be a duration" }]
      })
    return yield* (yield* ApiKeys).create(
      { name, ownerId: principal.id, scopes, expiresInSeconds: seconds },
      actorOf(principal)
    )
  })

const PageQuery = Schema.Struct({ reauth: Schema.optionalKey(Schema.Literal("wrong")) })

const renderPage = (created?: { readonly id: string; readonly plaintext: string }, reauthWrong = false) =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    const keys = yield* (yield* ApiKeys).list
    const now = yield* Clock.currentTimeMillis
    const data = {
      keys,
      grantable: (yield* Permissions)
        .all()
        .map((p) => p.name)
        .filter((p) => principal.permissions.has(p)),
      csrfToken: principal.session?.csrfToken ?? "",
      now,
      passwordNeeded:
        principal.session !== undefined &&
        now - principal.session.authenticatedAt.getTime() >= REAUTH_WINDOW_MINUTES * 60_000,
      reauthWrong,
      ...(created === undefined ? {} : { created })
    }
    const response = yield* page("API keys", apiKeysPage(data))
    return response
  })

export const apiKeysModule = defineModule({
  name: "api-keys",
  permissions: [
    {
      name: "MANAGE_API_KEYS",
      description: "Create, list and revoke API keys (a key holds at most its owner's permissions).",
      roles: []
    }
  ],
  layer: ApiKeys.layer,
  commands: [apikeyCommand],
  routes: [
    {
      method: "GET",
      path: "/admin/api-keys",
      access: "MANAGE_API_KEYS",
      summary: "API keys page: the keys and a form to create one.",
      handler: Effect.flatMap(decodeQuery(PageQuery), ({ reauth }) => renderPage(undefined, reauth === "wrong"))
    },
    {
      method: "POST",
      path: "/admin/api-keys",
      access: "MANAGE_API_KEYS",
      summary: "Creates an API key from the form and shows it once.",
      handler: Effect.gen(function* () {
        const form = yield* decodeForm(CreateForm)
        const scopes = form.scopes === undefined ? [] : typeof form.scopes === "string" ? [form.scopes] : form.scopes
        const created = yield* create(form.name, scopes, form.expiresIn, form.password)
        return yield* renderPage({ id: created.key.id, plaintext: Redacted.value(created.plaintext) })
      })
    },
    {
      method: "POST",
      path: "/admin/api-keys/:id/revoke",
      access: "MANAGE_API_KEYS",
      summary: "Revokes an API key from the page.",
      handler: Effect.gen(function* () {
        const { id } = yield* decodePath(KeyId)
        const form = yield* decodeForm(RevokeForm)
        yield* requireRecentAuthentication(form.password)
        yield* (yield* ApiKeys).revoke(id, actorOf(yield* CurrentPrincipal))
        return HttpServerResponse.redirect("/admin/api-keys", { status: 303 })
      })
    },
    {
      method: "GET",
      path: "/api/v1/api-keys",
      access: "MANAGE_API_KEYS",
      summary: "Every API key (never its secret).",
      docs: { response: Schema.Struct({ keys: Schema.Array(ApiKeyView) }), tags: ["api-keys"] },
      handler: Effect.map(
        Effect.flatMap(ApiKeys, (k) => k.list),
        (keys) => HttpServerResponse.jsonUnsafe({ keys })
      )
    },
    {
      method: "POST",
      path: "/api/v1/api-keys",
      access: "MANAGE_API_KEYS",
      summary: "Creates an API key for the signed-in user; the response is the only time the key is shown.",
      docs: {
        body: CreateBody,
        response: CreatedBody,
        responses: { 403: "Re-authentication required (send `password`), or the caller is an API key." },
        tags: ["api-keys"]
      },
      handler: Effect.gen(function* () {
        const body = yield* decodeJson(CreateBody)
        const created = yield* create(body.name, body.scopes, body.expiresIn, body.password)
        return HttpServerResponse.jsonUnsafe(
          { key: created.key, apiKey: Redacted.value(created.plaintext) },
          { status: 201, headers: { "cache-control": "no-store" } }
        )
      })
    },
    {
      method: "POST",
      path: "/api/v1/api-keys/:id/revoke",
      access: "MANAGE_API_KEYS",
      summary: "Revokes an API key at once (a signed-in user needs a recent password: send `password`).",
      docs: {
        params: KeyId,
        body: RevokeBody,
        bodyOptional: true,
        response: ApiKeyView,
        responses: { 403: "Re-authentication required (send `password`).", 404: "No such key." },
        tags: ["api-keys"]
      },
      handler: Effect.gen(function* () {
        const { id } = yield* decodePath(KeyId)
        const body = yield* decodeOptionalJson(RevokeBody)
        yield* requireRecentAuthentication(body.password)
        const key = yield* (yield* ApiKeys).revoke(id, actorOf(yield* CurrentPrincipal))
        return HttpServerResponse.jsonUnsafe(key)
      })
    }
  ]
})
