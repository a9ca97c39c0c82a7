/**
 * Behind a trusted reverse proxy, requests are told apart by the address the proxy recorded in
 * `X-Forwarded-For`: guesses relayed for one client do not throttle another, and the audit log
 * names the client, not the proxy.
 */
import { describe, expect, it } from "vitest"
import { postLogin, testAdmin } from "../support/session.ts"
import { useTestApp } from "../support/test-app.ts"

const testApp = useTestApp({ TRUSTED_PROXIES: "127.0.0.1" })

const signIn = (password: string, client: string) =>
  postLogin(testApp.app.baseUrl, testAdmin.email, password, { "x-forwarded-for": client })

describe("behind a trusted proxy", () => {
  it("throttles the guessing client only, and audits the client's address", async () => {
    for (let i = 0; i < 11; i++) expect((await signIn("wrong password guess", "198.51.100.1")).status).toBe(401)
    expect((await signIn(testAdmin.password, "198.51.100.1")).status).toBe(401)
    expect((await signIn(testAdmin.password, "198.51.100.2")).status).toBe(303)
    const rows = await testApp.query<{ client_address: string }>(
      "SELECT DISTINCT client_address FROM audit_log WHERE action = 'auth.login' ORDER BY client_address"
    )
    expect(rows.map((r) => r.client_address)).toEqual(["198.51.100.1", "198.51.100.2"])
  })
})
