/**
 * The settings service's fibers, one of each per replica (every process keeps its own copy of
 * the values): the follower applies the changes other replicas announce on the event bus, within
 * a second when the bus relays through Redis; the reload reads the latest versions every few
 * seconds, for an announcement that was lost (Redis down, a reader that fell behind).
 */
import { Effect } from "effect"
import { type FiberSpec, periodicFiber } from "../supervisor.ts"
import { Settings } from "./service.ts"

export const RELOAD_INTERVAL = "5 seconds"

export const settingsFollowerFiber: FiberSpec<Settings> = {
  name: "settings.follower",
  replicas: "each",
  // Runs until the subscription ends (the reader fell too far behind); the supervisor restarts it.
  run: (heartbeat) => Effect.flatMap(Settings, (settings) => settings.follow(heartbeat))
}

export const settingsReloadFiber: FiberSpec<Settings> = periodicFiber(
  "settings.reload",
  RELOAD_INTERVAL,
  Effect.flatMap(Settings, (settings) => settings.reload),
  { replicas: "each" }
)

export const settingsFibers = [settingsFollowerFiber, settingsReloadFiber] as const
