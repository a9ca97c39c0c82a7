/**
 * `breakwater audit verify`: walks the audit hash chain. Exit 0 when intact; otherwise prints the
 * first bad entry and exits 1. `breakwater audit identifier-hash`: the hash under which a sign-in
 * with an unknown identifier was audited, for a value an administrator suspects.
 */
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { sealPending, verifyChain } from "../audit/chain.ts"
import { CommandExit } from "../run.ts"
import { identifierHashCommand } from "./identifier-hash.ts"

const verify = Command.make("verify", {}, () =>
  Effect.gen(function* () {
    // Seal what is pending first, so a fresh entry is checked too rather than reported as waiting.
    while ((yield* sealPending) > 0) {}
    const result = yield* verifyChain
    if (result.ok) {
      yield* Console.log(`audit chain intact: ${result.sealed} entries sealed, ${result.pending} pending`)
      return
    }
    const where = result.problem.seq === null ? "" : ` at chain position ${result.problem.seq}`
    yield* Console.error(`audit chain BROKEN${where}: ${result.problem.message}`)
    yield* Console.error(`${result.sealed} entries before it verified`)
    return yield* new CommandExit({ code: 1 })
  })
).pipe(Command.withDescription("Verify the audit log's hash chain; exit 1 naming the first bad entry."))

export const auditCommand = Command.make("audit").pipe(
  Command.withDescription("Audit log tools."),
  Command.withSubcommands([verify, identifierHashCommand])
)
