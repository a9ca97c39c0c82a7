/**
 * Where the real services of the integration tests are: `DATABASE_URL` (a role that may create
 * databases) and `REDIS_URL`, defaulting to the local PostgreSQL and Redis.
 */
export const adminDatabaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"

/** The same server, another database. */
export const databaseUrl = (name: string): string => {
  const url = new URL(adminDatabaseUrl)
  url.pathname = `/${name}`
  return url.toString()
}

declare module "vitest" {
  export interface ProvidedContext {
    /** A migrated database that each test file clones. */
    readonly templateDatabase: string
    /** Prefix of the databases this run creates; dropped when the run ends. */
    readonly runPrefix: string
  }
}
