/**
 * The hash chain: the sealer links pending entries, in the order it seals them; `verify` walks
 * the chain and names the first entry that was edited, deleted or reordered.
 */
import { Effect } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { chainHash, GENESIS_HASH } from "./entry.ts"
import { AUDIT_COLUMNS, type AuditRow, toEntry } from "./store.ts"

/** Serialises sealers across replicas: the chain has one tip. */
const SEAL_LOCK = 7_361_202_613
const SEAL_BATCH = 5000

/** Seals up to one batch of pending entries; returns how many it sealed. */
export const sealPending: Effect.Effect<number, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(${SEAL_LOCK})`
      const pending = yield* sql.unsafe<AuditRow>(
        `SELECT ${AUDIT_COLUMNS.split(", ")
          .map((c) => `l.${c}`)
          .join(
            ", "
          )} FROM audit_pending p JOIN audit_log l ON l.id = p.entry_id ORDER BY p.entry_id LIMIT ${SEAL_BATCH}`
      )
      if (pending.length === 0) return 0
      const tip = yield* sql<{
        seq: string | number
        hash: string
      }>`SELECT seq, hash FROM audit_seal ORDER BY seq DESC LIMIT 1`
      let seq = tip.length === 0 ? 0 : Number(tip[0]!.seq)
      let previous = tip.length === 0 ? GENESIS_HASH : tip[0]!.hash
      const seals = pending.map((row) => {
        const hash = chainHash(previous, toEntry(row))
        seq += 1
        const seal = { seq, entry_id: String(row.id), prev_hash: previous, hash }
        previous = hash
        return seal
      })
      yield* sql`INSERT INTO audit_seal (seq, entry_id, prev_hash, hash)
        SELECT seq, entry_id, prev_hash, hash
        FROM jsonb_to_recordset(${JSON.stringify(seals)}::jsonb) AS x(seq bigint, entry_id bigint, prev_hash text, hash text)`
      yield* sql`DELETE FROM audit_pending WHERE entry_id = ANY(${`{${seals.map((s) => s.entry_id).join(",")}}`}::bigint[])`
      return seals.length
    })
  )
})

export type VerifyResult =
  | { readonly ok: true; readonly sealed: number; readonly pending: number }
  | {
      readonly ok: false
      readonly sealed: number
      /** The first bad link: its chain position (if sealed), entry id and what is wrong. */
      readonly problem: { readonly seq: number | null; readonly entryId: string | null; readonly message: string }
    }

interface SealJoinRow extends Omit<AuditRow, "id"> {
  readonly seq: string | number
  readonly entry_id: string | number
  readonly prev_hash: string
  readonly hash: string
  readonly id: string | number | null
}

const PAGE = 5000

/** Walks the whole chain in order, then looks for entries that were never sealed. */
export const verifyChain: Effect.Effect<VerifyResult, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(
  function* () {
    const sql = yield* SqlClient.SqlClient
    let expectedSeq = 1
    let previous = GENESIS_HASH
    while (true) {
      const rows = yield* sql.unsafe<SealJoinRow>(
        `SELECT s.seq, s.entry_id, s.prev_hash, s.hash, ${AUDIT_COLUMNS.split(", ")
          .map((c) => `l.${c}`)
          .join(", ")}
       FROM audit_seal s LEFT JOIN audit_log l ON l.id = s.entry_id
       WHERE s.seq >= $1 ORDER BY s.seq LIMIT ${PAGE}`,
        [expectedSeq]
      )
      for (const row of rows) {
        const seq = Number(row.seq)
        const entryId = String(row.entry_id)
        const fail = (message: string): VerifyResult => ({
          ok: false,
          sealed: expectedSeq - 1,
          problem: { seq, entryId, message }
        })
        if (seq !== expectedSeq)
          return fail(`chain position ${expectedSeq} is missing (next is ${seq}): a seal was deleted`)
        if (row.prev_hash !== previous)
          return fail(`entry ${entryId} does not follow the previous seal: the chain was reordered or cut`)
        if (row.id === null) return fail(`entry ${entryId} was deleted`)
        if (chainHash(previous, toEntry({ ...row, id: row.id })) !== row.hash)
          return fail(`entry ${entryId} was changed after it was sealed`)
        previous = row.hash
        expectedSeq++
      }
      if (rows.length < PAGE) break
    }
    const unsealed = yield* sql<{ id: string | number }>`SELECT l.id FROM audit_log l
    WHERE NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.entry_id = l.id)
      AND NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.entry_id = l.id)
    ORDER BY l.id LIMIT 1`
    if (unsealed.length > 0) {
      const entryId = String(unsealed[0]!.id)
      return {
        ok: false,
        sealed: expectedSeq - 1,
        problem: { seq: null, entryId, message: `entry ${entryId} was never sealed and is not waiting to be` }
      }
    }
    const [pending] = yield* sql<{ n: string | number }>`SELECT count(*) AS n FROM audit_pending`
    return { ok: true, sealed: expectedSeq - 1, pending: Number(pending?.n ?? 0) }
  }
)
