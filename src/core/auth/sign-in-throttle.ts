/**
 * How many password checks a client gets: counted per account *and address*, so guesses from one
 * place cannot lock the real user out everywhere, and per address over all accounts, so one place
 * cannot spray passwords across accounts. A distributed attack on one account (many addresses)
 * lowers each address's allowance instead of locking the account. The policy and its reasons:
 * docs/CONCEPTS/security.md, "Sign-in: throttling and what is recorded".
 */
import { createHash } from "node:crypto"
import { Effect } from "effect"
import type { SqlClient } from "effect/sql"

/** Every limit counts the failures of the last this many minutes (a sliding window). */
export const WINDOW_MINUTES = 15
/** Failures of one account from one address before that address is refused for that account. */
export const ACCOUNT_ADDRESS_LIMIT = 10
/** Failures from one address over all accounts and unknown identifiers before it is refused outright. */
export const ADDRESS_LIMIT = 30
/** Failures of one account from all addresses that mark a distributed attack on it. */
export const ATTACK_THRESHOLD = 100
/** {@link ACCOUNT_ADDRESS_LIMIT} while the account is under a distributed attack. */
export const UNDER_ATTACK_LIMIT = 3

/** The password is not checked: the address is over one of its limits. */
export interface Refused {
  readonly _tag: "Refused"
  /** `address`: over {@link ADDRESS_LIMIT}; `account`: over the account-and-address limit. */
  readonly by: "address" | "account"
  readonly addressFailures: number
  readonly accountFailures: number
}

/** The attempt is counted as a failure already (a right password takes it back); counts include it. */
export interface Admitted {
  readonly _tag: "Admitted"
  /** Failures of this address over everything, in the window. */
  readonly addressFailures: number
  /** Failures of this account from this address (0 without an account). */
  readonly accountFailures: number
  /** Failures of this account from everywhere, counted up to {@link ATTACK_THRESHOLD} + 1. */
  readonly accountWideFailures: number
  /** The account-and-address limit that applied: lower under a distributed attack. */
  readonly limit: number
}

export type Gate = Refused | Admitted

/** Which limits this failure has just reached: each is audited once, when it is reached. */
export const limitsReached = (gate: Admitted, hasAccount: boolean) => ({
  lockout: hasAccount && gate.accountFailures === gate.limit,
  throttle: gate.addressFailures === ADDRESS_LIMIT,
  attack: hasAccount && gate.accountWideFailures === ATTACK_THRESHOLD
})

/** Two-number advisory locks never meet the migrator's one-number lock; this first number is ours. */
const ADDRESS_LOCK_CLASS = 73_612_026

const addressLockKey = (address: string): number => createHash("sha256").update(address).digest().readInt32BE(0)

const refused = (by: Refused["by"], addressFailures: number, accountFailures: number): Gate => ({
  _tag: "Refused",
  by,
  addressFailures,
  accountFailures
})

const admitted = (
  addressFailures: number,
  accountFailures: number,
  accountWideFailures: number,
  limit: number
): Gate => ({
  _tag: "Admitted",
  addressFailures,
  accountFailures,
  accountWideFailures,
  limit
})

/**
 * Counts this attempt as a failure before its password is checked. One address at a time (an
 * advisory lock on it), then one account at a time (its row): concurrent guesses cannot slip in
 * under a limit, and the account-wide count crosses {@link ATTACK_THRESHOLD} in exactly one attempt.
 * The locks are always taken in this order, so two attempts cannot wait on each other.
 */
export const admit = (sql: SqlClient.SqlClient, address: string, userId: string | undefined) =>
  sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(${ADDRESS_LOCK_CLASS}::int, ${addressLockKey(address)}::int)`
      const [here] = yield* sql<{ address: string | number; account: string | number }>`SELECT
          count(*) AS address, count(*) FILTER (WHERE user_id = ${userId ?? null}::uuid) AS account
        FROM login_failures
        WHERE client_address = ${address} AND failed_at > now() - make_interval(mins => ${WINDOW_MINUTES})`
      const addressFailures = Number(here?.address ?? 0)
      const accountFailures = Number(here?.account ?? 0)
      if (addressFailures >= ADDRESS_LIMIT) return refused("address", addressFailures, accountFailures)
      if (userId === undefined) {
        yield* sql`INSERT INTO login_failures (user_id, client_address) VALUES (NULL, ${address})`
        return admitted(addressFailures + 1, 0, 0, ACCOUNT_ADDRESS_LIMIT)
      }
      yield* sql`SELECT 1 FROM users WHERE id = ${userId} FOR UPDATE`
      // Bounded: past the threshold the exact number changes nothing, and an attack may leave many rows.
      const [wide] = yield* sql<{ n: string | number }>`SELECT count(*) AS n FROM (
          SELECT 1 FROM login_failures
          WHERE user_id = ${userId} AND failed_at > now() - make_interval(mins => ${WINDOW_MINUTES})
          LIMIT ${ATTACK_THRESHOLD}) AS recent`
      const accountWideFailures = Number(wide?.n ?? 0)
      const limit = accountWideFailures >= ATTACK_THRESHOLD ? UNDER_ATTACK_LIMIT : ACCOUNT_ADDRESS_LIMIT
      if (accountFailures >= limit) return refused("account", addressFailures, accountFailures)
      yield* sql`INSERT INTO login_failures (user_id, client_address) VALUES (${userId}, ${address})`
      return admitted(addressFailures + 1, accountFailures + 1, accountWideFailures + 1, limit)
    })
  )

/**
 * A right password forgives this account's failures from this address only: guesses made elsewhere
 * still count against where they came from.
 */
export const forgive = (sql: SqlClient.SqlClient, address: string, userId: string) =>
  Effect.asVoid(sql`DELETE FROM login_failures WHERE user_id = ${userId} AND client_address = ${address}`)
