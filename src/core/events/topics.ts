/**
 * The topics of the bus: who declared each and what a reader needs. Checked the way the route
 * table checks routes (`http/route.ts` `validateRoute`): a whole declaration is refused, naming
 * the modules involved, before any of it is added, so a bad module stops the start.
 */
import { Schema } from "effect"
import { TopicName, type TopicSpec } from "../contracts/event-bus.ts"

export interface DeclaredTopic extends TopicSpec {
  readonly module: string
}

const isTopicName = Schema.is(TopicName)

/** The first problem of declaring `specs` for `module` next to `existing`, or `undefined`. */
export const topicProblem = (
  module: string,
  specs: ReadonlyArray<TopicSpec>,
  existing: ReadonlyMap<string, DeclaredTopic>,
  isPermission: (value: unknown) => boolean
): string | undefined => {
  const seen = new Set<string>()
  for (const spec of specs) {
    if (!isTopicName(spec.name))
      return `module ${module} declares the topic "${spec.name}": a topic is a lower-case letter, then at most 31 lower-case letters, digits, _ or -`
    const other = existing.get(spec.name)
    if (other !== undefined) return `topic ${spec.name} is declared by both ${other.module} and ${module}`
    if (seen.has(spec.name)) return `module ${module} declares the topic ${spec.name} twice`
    seen.add(spec.name)
    if (!isPermission(spec.permission))
      return `module ${module} declares the topic ${spec.name} readable with ${String(spec.permission)}, which no installed module declares`
    if (spec.description.trim() === "") return `module ${module} declares the topic ${spec.name} without a description`
  }
  return undefined
}

export interface TopicRegistry {
  /** Adds every spec, or none and says why. */
  readonly declare: (module: string, specs: ReadonlyArray<TopicSpec>) => string | undefined
  readonly get: (name: string) => DeclaredTopic | undefined
  readonly all: () => ReadonlyArray<DeclaredTopic>
}

export const makeTopicRegistry = (isPermission: (value: unknown) => boolean): TopicRegistry => {
  const topics = new Map<string, DeclaredTopic>()
  return {
    declare: (module, specs) => {
      const problem = topicProblem(module, specs, topics, isPermission)
      if (problem !== undefined) return problem
      for (const spec of specs) topics.set(spec.name, { ...spec, module })
      return undefined
    },
    get: (name) => topics.get(name),
    all: () => [...topics.values()].sort((a, b) => a.name.localeCompare(b.name))
  }
}
