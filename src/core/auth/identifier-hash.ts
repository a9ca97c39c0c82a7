/**
 * What the audit log keeps of a sign-in identifier that matches no account: not the text (people
 * type their password into the email field), but a keyed hash of it, HMAC-SHA-256 under a random
 * key of this installation, truncated to 64 bits. An auditor still sees that one unknown
 * identifier was tried a thousand times; whoever reads the log (or a copy of it) without the key
 * cannot test guesses against it, which a plain hash of a password would allow.
 */
import { createHmac, randomBytes } from "node:crypto"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"

/** Hex characters kept: 64 bits tell identifiers apart in any log, and give little to an offline guess. */
export const IDENTIFIER_HASH_LENGTH = 16

const KEY = /^[0-9a-f]{64}$/

/** Matched the way sign-in matches an email: surrounding spaces and case do not matter. */
export const normaliseIdentifier = (typed: string): string => typed.trim().toLowerCase()

/** The `identifierHash` of what was typed, under the installation's key. */
export const identifierHash = (key: Redacted.Redacted<Uint8Array>, typed: string): string =>
  createHmac("sha256", Redacted.value(key))
    .update(normaliseIdentifier(typed), "utf8")
    .digest("hex")
    .slice(0, IDENTIFIER_HASH_LENGTH)

/**
 * The installation's key, created by the first process that needs it. Replicas starting together
 * both try to insert; the primary key keeps the first, and both read that one.
 */
export const loadIdentifierKey = Effect.fn("IdentifierHash.loadKey")(function* () {
  const sql = yield* SqlClient.SqlClient
  const read = sql<{ key: string }>`SELECT key FROM identifier_hash_key`
  let [row] = yield* read
  if (row === undefined) {
    yield* sql`INSERT INTO identifier_hash_key (key) VALUES (${randomBytes(32).toString("hex")})
      ON CONFLICT (singleton) DO NOTHING`
    ;[row] = yield* read
  }
  // The table's CHECK keeps the format; a missing row after the insert is a broken database.
  if (row === undefined || !KEY.test(row.key))
    return yield* Effect.die(new Error("identifier_hash_key holds no valid key after it was created"))
  return Redacted.make<Uint8Array>(Buffer.from(row.key, "hex"))
})
