/**
 * API keys in the console (`/admin/api-keys`) and the JSON API (`/api/v1/api-keys`), behind
 * `MANAGE_API_KEYS`. Creating and revoking a key need a recent password (re-authentication);
 * a new key is shown once; keys are created for the signed-in user, so a key can never outrank
 * its owner.
 */
import { Clock, Effect, Redacted, Schema } from "effect"
import { HttpServerRequest, HttpServerResponse, UrlParams } from "effect/http"
import { actorOf } from "../../core/audit/entry.ts"
import { CurrentPrincipal, Forbidden } from "../../core/auth/access.ts"
import { parseDuration } from "../../core/auth/api-key-format.ts"
import { ApiKeys, ApiKeyView } from "../../core/auth/api-keys.ts"
import { Permissions } from "../../core/auth/permissions.ts"
import { REAUTH_WINDOW_MINUTES, ReauthenticationRequired, requireRecentAuthentication } from "../../core/auth/reauth.ts"
import { BadRequest } from "../../core/errors/generic.ts"
import { decodeForm, decodeJson, decodeOptionalJson, decodePath, decodeQuery } from "../../core/http/decode.ts"
import { wantsJson } from "../../core/http/negotiation.ts"
import { page } from "../../core/http/page.ts"
import { publicAsset } from "../../core/http/static.ts"
import { defineModule } from "../../core/module.ts"
import { apikeyCommand } from "./cli.ts"
import { apiKeysPage, type CreateFormState, emptyCreateForm } from "./page.ts"
import { presetsFor } from "./presets.ts"

const Expiry = Schema.String.check(
  Schema.makeFilter((s: string) => parseDuration(s) !== undefined || "must be a duration such as 30d, 12h or 1y")
)
const Name = Schema.String.check(
  Schema.isMinLength(1, { message: "is required" }),
  Schema.isMaxLength(100, { message: "must be at most 100 characters" })
)
const Password = Schema.optionalKey(Schema.String.check(Schema.isMaxLength(256)))

const PresetId = Schema.String.check(Schema.isMaxLength(64))

const CreateForm = Schema.Struct({
  name: Name,
  scopes: Schema.optionalKey(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  /** A preset's id (presets.ts): its permissions are granted with the ticked ones. */
  preset: Schema.optionalKey(PresetId),
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

/** The page's script: the Copy button of a new key and the presets ticking their permissions. */
const script = publicAsset("api-keys.js", "text/javascript; charset=utf-8")

/** The permissions the signed-in user may grant, every declared one's description, and the presets. */
const grantableNow = Effect.gen(function* () {
  const principal = yield* CurrentPrincipal
  const declared = (yield* Permissions).all()
  const grantable = declared.filter((p) => principal.permissions.has(p.name))
  return {
    grantable,
    descriptions: new Map(declared.map((p) => [p.name, p.description])),
    presets: presetsFor(declared, new Set(grantable.map((p) => p.name)))
  }
})

interface PageOptions {
  readonly created?: { readonly id: string; readonly name: string; readonly plaintext: string }
  readonly form?: CreateFormState
  readonly reauthWrong?: boolean
  readonly status?: number
}

const renderPage = (options: PageOptions = {}) =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    const keys = yield* (yield* ApiKeys).list
    const now = yield* Clock.currentTimeMillis
    const { grantable, descriptions, presets } = yield* grantableNow
    return yield* page(
      "API keys",
      apiKeysPage({
        keys,
        grantable,
        descriptions,
        presets,
        csrfToken: principal.session?.csrfToken ?? "",
        now,
        passwordNeeded:
          principal.session !== undefined &&
          now - principal.session.authenticatedAt.getTime() >= REAUTH_WINDOW_MINUTES * 60_000,
        reauthWrong: options.reauthWrong ?? false,
        form: options.form ?? emptyCreateForm,
        script: script.url,
        ...(options.created === undefined ? {} : { created: options.created })
      }),
      options.status === undefined ? undefined : { status: options.status }
    )
  })

const first = (value: string | ReadonlyArray<string> | undefined): string =>
  value === undefined ? "" : typeof value === "string" ? value : (value[0] ?? "")
const every = (value: string | ReadonlyArray<string> | undefined): ReadonlyArray<string> =>
  value === undefined ? [] : typeof value === "string" ? [value] : value

/** What was posted, to show the form again as it was sent (never the password). */
const postedForm = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const raw = yield* request.urlParamsBody.pipe(
    Effect.map(UrlParams.toRecord),
    Effect.orElseSucceed((): Record<string, string | ReadonlyArray<string>> => ({}))
  )
  const preset = first(raw.preset)
  return {
    name: first(raw.name).slice(0, 100),
    scopes: every(raw.scopes),
    expiresIn: first(raw.expiresIn) || "30d",
    preset: preset === "" ? undefined : preset,
    errors: {}
  } satisfies CreateFormState
})

const FORM_FIELDS = new Set(["name", "scopes", "preset", "expiresIn", "password"])

/** A refusal's problems by form field; anything else is said above the form. */
const errorsOf = (issues: ReadonlyArray<{ readonly path: string; readonly message: string }>) => {
  const errors: Record<string, string> = {}
  for (const issue of issues) {
    const field = issue.path.split(".")[0] ?? ""
    const key = FORM_FIELDS.has(field) ? field : "form"
    errors[key] = errors[key] === undefined ? issue.message : `${errors[key]}; ${issue.message}`
  }
  return errors
}

/** Creates a key from the console's form: the ticked permissions and the preset's. */
const createFromForm = Effect.gen(function* () {
  const form = yield* decodeForm(CreateForm)
  const ticked = form.scopes === undefined ? [] : typeof form.scopes === "string" ? [form.scopes] : form.scopes
  let granted: ReadonlyArray<string> = ticked
  if (form.preset !== undefined && form.preset !== "") {
    const preset = (yield* grantableNow).presets.find((p) => p.id === form.preset)
    if (preset === undefined)
      return yield* new BadRequest({
        message: "invalid preset",
        issues: [{ path: "preset", message: "is not a preset you can use here" }]
      })
    granted = [...new Set([...preset.permissions, ...ticked])]
  }
  return yield* create(form.name, granted, form.expiresIn, form.password)
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
      handler: Effect.flatMap(decodeQuery(PageQuery), ({ reauth }) => renderPage({ reauthWrong: reauth === "wrong" }))
    },
    {
      method: "POST",
      path: "/admin/api-keys",
      access: "MANAGE_API_KEYS",
      summary: "Creates an API key from the form and shows it once; a refusal shows the form again, marked.",
      handler: Effect.gen(function* () {
        const json = wantsJson(yield* HttpServerRequest.HttpServerRequest)
        const created = yield* createFromForm.pipe(
          Effect.map((key) => ({ key, problem: undefined })),
          // Bad input and a missing or wrong password are shown on the form (JSON clients get the
          // standard error body); the rest is the error page.
          Effect.catch((e) =>
            json
              ? Effect.fail(e)
              : e instanceof BadRequest
                ? Effect.succeed({ key: undefined, problem: { status: 400, errors: errorsOf(e.issues) } })
                : e instanceof ReauthenticationRequired
                  ? Effect.succeed({ key: undefined, problem: { status: 403, errors: { password: e.message } } })
                  : Effect.fail(e)
          )
        )
        if (created.key !== undefined)
          return yield* renderPage({
            created: {
              id: created.key.key.id,
              name: created.key.key.name,
              plaintext: Redacted.value(created.key.plaintext)
            }
          })
        const posted = yield* postedForm
        return yield* renderPage({
          form: { ...posted, errors: created.problem?.errors ?? {} },
          status: created.problem?.status ?? 400
        })
      })
    },
    script.route,
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
