/**
 * The usual set-up of an HTTP test file in one call: fresh stores, the whole application started
 * before the file's tests and stopped after them, and SQL on the file's database.
 */
import { afterAll, beforeAll } from "vitest"
import { withSql } from "./admin-sql.ts"
import { startAppPromise, testEnv } from "./app.ts"
import { createTestStores, type TestStores } from "./database.ts"

export interface TestApp {
  readonly app: Awaited<ReturnType<typeof startAppPromise>>
  readonly stores: TestStores
  /** Runs SQL on this file's database. */
  readonly query: <Row extends object>(text: string, params?: ReadonlyArray<unknown>) => Promise<ReadonlyArray<Row>>
}

/** Registers the hooks; read the fields inside tests (they exist once `beforeAll` has run). */
export const useTestApp = (extraEnv: Record<string, string> = {}): TestApp => {
  let started: { app: TestApp["app"]; stores: TestStores } | undefined
  beforeAll(async () => {
    const stores = await createTestStores()
    started = { stores, app: await startAppPromise(testEnv(stores, extraEnv)) }
  })
  afterAll(() => started?.app.stop())
  const get = () => {
    if (started === undefined) throw new Error("useTestApp: read the app inside a test, after beforeAll")
    return started
  }
  return {
    get app() {
      return get().app
    },
    get stores() {
      return get().stores
    },
    query: (text, params = []) => withSql(get().stores.databaseUrl, (sql) => sql.unsafe(text, params))
  }
}
