/** The About page's fiber table: where each fiber runs, and who holds the lease of one on standby. */
import { describe, expect, it } from "vitest"
import { type FiberRow, fibersTable } from "../../src/plugins/system/fibers-table.ts"

const row = (overrides: Partial<FiberRow>): FiberRow => ({
  name: "retention.daily",
  state: "running",
  replicas: "one",
  leaseHolder: undefined,
  restarts: 0,
  lastSuccessAt: undefined,
  lastFailure: undefined,
  ...overrides
})
const text = (markup: string) => markup.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ")

describe("fibers table", () => {
  it("says where each fiber runs", () => {
    const markup = fibersTable([row({}), row({ name: "breaker.verifier", replicas: "each" })]).value
    expect(text(markup)).toContain("retention.daily one replica at a time running")
    expect(text(markup)).toContain("breaker.verifier every replica running")
  })

  it("names the replica holding the lease of a fiber on standby, escaped", () => {
    const markup = fibersTable([row({ state: "standby", leaseHolder: "host-b:4242:<x>" })]).value
    expect(markup).toContain("lease held by <code>host-b:4242:&lt;x&gt;</code>")
    expect(markup).toContain(">standby<")
  })
})
