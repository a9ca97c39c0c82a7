/**
 * The API keys page without JavaScript (src/plugins/api-keys/): permissions grouped by module
 * with their descriptions, presets built from the installed permissions (granted by the server
 * when posted), a refused form shown again with the problem at its field, the one-time key as
 * selectable text, and revoking behind a confirmation that names the key.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { loginAsAdmin, type TestSession } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp()
let admin: TestSession

beforeAll(async () => {
  admin = await loginAsAdmin(testApp.app.baseUrl)
})

const scopesOf = async (name: string) =>
  (
    await testApp.query<{ scopes: Array<string> }>(
      "SELECT scopes FROM api_keys WHERE name = $1 ORDER BY created_at DESC LIMIT 1",
      [name]
    )
  )[0]?.scopes

describe("the API keys page", () => {
  it("groups the permissions by module, with their descriptions, and offers the presets", async () => {
    const text = await (await admin.fetch("/admin/api-keys")).text()
    expect(text).toMatch(
      /<fieldset class="scope-group" data-module="circuit-breaker"><legend>Circuit breaker<\/legend>/
    )
    expect(text).toMatch(/<fieldset class="scope-group" data-module="core"><legend>Core<\/legend>/)
    expect(text).toContain('<small id="scope-TRIP_CIRCUIT_BREAKER-what">Trip (halt) a scope.</small>')
    expect(text).toContain('data-preset="execution-read-breaker" data-permissions="VIEW_CIRCUIT_BREAKER"')
    expect(text).toContain('data-permissions="VIEW_CIRCUIT_BREAKER TRIP_CIRCUIT_BREAKER"')
    // "Read everything" is every VIEW_ permission installed, and nothing else.
    const monitoring = /data-preset="monitoring-read-all" data-permissions="([^"]+)"/.exec(text)?.[1]?.split(" ")
    expect(monitoring?.sort()).toEqual(["VIEW_AUDIT", "VIEW_CIRCUIT_BREAKER", "VIEW_DASHBOARD"])
  })

  it("grants a posted preset together with the ticked permissions, and shows the key once as selectable text", async () => {
    const response = await admin.postForm("/admin/api-keys", {
      name: "desk automation",
      preset: "desk-trip-breaker",
      scopes: "VIEW_DASHBOARD",
      expiresIn: "30d"
    })
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(text).toMatch(/<code data-field="api-key" id="new-api-key-secret" class="secret">bw_[0-9A-Za-z]{12}_/)
    // The Copy button waits for the script; the text is there for everyone.
    expect(text).toContain('data-copy="new-api-key-secret"')
    expect(text).toContain("hidden>Copy key</button>")
    expect((await scopesOf("desk automation"))?.sort()).toEqual([
      "TRIP_CIRCUIT_BREAKER",
      "VIEW_CIRCUIT_BREAKER",
      "VIEW_DASHBOARD"
    ])
  })

  it("shows a refused form again, marked at the field, with what was typed", async () => {
    const noScopes = await admin.postForm("/admin/api-keys", { name: "nothing granted", expiresIn: "90d" })
    expect(noScopes.status).toBe(400)
    const text = await noScopes.text()
    expect(text).toContain('id="create-api-key-error"')
    expect(text).toContain('<p class="field-error" id="api-key-scopes-error">must name at least one permission</p>')
    expect(text).toContain('value="nothing granted"')
    expect(text).toContain('<option value="90d" selected>')

    const badPreset = await admin.postForm("/admin/api-keys", {
      name: "odd",
      preset: "root-everything",
      expiresIn: "30d"
    })
    expect(badPreset.status).toBe(400)
    expect(await badPreset.text()).toContain("is not a preset you can use here")

    const noName = await admin.postForm("/admin/api-keys", { name: "", scopes: "VIEW_DASHBOARD", expiresIn: "30d" })
    expect(noName.status).toBe(400)
    const named = await noName.text()
    expect(named).toMatch(/id="api-key-name-error" class="field-error">is required/)
    expect(named).toMatch(/value="VIEW_DASHBOARD" checked/)
  })

  it("asks before revoking, naming the key, without JavaScript", async () => {
    await admin.postForm("/admin/api-keys", { name: "to revoke", scopes: "VIEW_DASHBOARD", expiresIn: "7d" })
    const [key] = await testApp.query<{ id: string }>("SELECT id FROM api_keys WHERE name = 'to revoke'")
    const text = await (await admin.fetch("/admin/api-keys")).text()
    expect(text).toContain(`popovertarget="confirm-revoke-${key?.id}">Revoke…</button>`)
    expect(text).toContain(`Revoke the key <strong>to revoke (bw_${key?.id}_…)</strong>?`)
    expect(text).toContain(">Revoke to revoke</button>")
    const revoked = await admin.postForm(`/admin/api-keys/${key?.id}/revoke`)
    expect(revoked.status).toBe(303)
    const [row] = await testApp.query<{ revoked_at: Date | null }>("SELECT revoked_at FROM api_keys WHERE id = $1", [
      key?.id
    ])
    expect(row?.revoked_at).not.toBeNull()
  })
})
