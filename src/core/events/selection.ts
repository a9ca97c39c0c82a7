/**
 * Which topics a stream serves: the `topics` query parameter (comma-separated; absent or empty:
 * every topic the caller may read) against the declared topics and the caller's permissions.
 * Asking for a topic that does not exist is the caller's mistake (400); asking for one they may
 * not read is a refusal (403); neither is quietly left out, so a client never waits for events
 * that cannot come. Pure.
 */
import type { Permission } from "../auth/permissions.ts"
import type { TopicSpec } from "../contracts/event-bus.ts"

export type Selection =
  | { readonly _tag: "Topics"; readonly topics: ReadonlyArray<TopicSpec> }
  | { readonly _tag: "Unknown"; readonly names: ReadonlyArray<string> }
  | { readonly _tag: "Forbidden"; readonly topics: ReadonlyArray<TopicSpec> }

/** The distinct names of a `topics` parameter, in the order given. */
export const topicNames = (requested: string | undefined): ReadonlyArray<string> => [
  ...new Set(
    (requested ?? "")
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "")
  )
]

export const selectTopics = (
  requested: string | undefined,
  declared: ReadonlyArray<TopicSpec>,
  holds: (permission: Permission) => boolean
): Selection => {
  const names = topicNames(requested)
  if (names.length === 0) return { _tag: "Topics", topics: declared.filter((t) => holds(t.permission)) }
  const byName = new Map(declared.map((t) => [t.name, t]))
  const unknown = names.filter((name) => !byName.has(name))
  if (unknown.length > 0) return { _tag: "Unknown", names: unknown }
  const asked = names.map((name) => byName.get(name)!)
  const forbidden = asked.filter((t) => !holds(t.permission))
  return forbidden.length > 0 ? { _tag: "Forbidden", topics: forbidden } : { _tag: "Topics", topics: asked }
}
