/** The `audit.sealer` fiber: every second, links what the writers committed into the hash chain. */
import { Effect } from "effect"
import type { SqlClient } from "effect/sql"
import type { FiberSpec } from "../supervisor.ts"
import { sealPending } from "./chain.ts"

/** Seals until nothing is pending (a burst needs several batches), then waits a second. */
export const sealerFiber: FiberSpec<SqlClient.SqlClient> = {
  name: "audit.sealer",
  // Each: `sealPending` serialises sealers with an advisory lock, so every replica may seal and
  // sealing goes on with no lease takeover delay while any replica is alive.
  replicas: "each",
  run: (heartbeat) =>
    sealPending.pipe(
      Effect.repeat({ while: (sealed) => sealed > 0 }),
      Effect.andThen(heartbeat),
      Effect.andThen(Effect.sleep("1 second")),
      Effect.forever
    )
}
