/**
 * Bounds on free-form JSON, and JSON walks that cannot overflow the stack. `JSON.parse` accepts
 * any depth, but `JSON.stringify` and every recursive walk throw a `RangeError` past a few
 * thousand levels: a value that deep must be refused at the boundary, and a reader of what is
 * already stored (written before the bounds existed) must cope with it. Everything here walks
 * with an explicit stack.
 */

/** Free-form fields (a trip's `details`, audit details) nest at most this deep… */
export const MAX_JSON_DEPTH = 16
/** …and take at most this many bytes as JSON. */
export const MAX_JSON_BYTES = 16 * 1024

const isContainer = (value: unknown): value is object => typeof value === "object" && value !== null

/**
 * The nesting depth of a value (a scalar is 0, `{}` and `[]` are 1), counted up to `limit + 1`:
 * the walk stops as soon as the value is known to be too deep.
 */
export const jsonDepth = (value: unknown, limit: number): number => {
  if (!isContainer(value)) return 0
  let deepest = 0
  const stack: Array<readonly [unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop() ?? [undefined, 0]
    if (!isContainer(current)) continue
    if (depth > deepest) deepest = depth
    if (deepest > limit) return deepest
    for (const child of Object.values(current)) if (isContainer(child)) stack.push([child, depth + 1])
  }
  return deepest
}

/** Why a free-form value is out of bounds, or undefined when it is within them. */
export const jsonBoundsProblem = (
  value: unknown,
  maxDepth: number = MAX_JSON_DEPTH,
  maxBytes: number = MAX_JSON_BYTES
): string | undefined => {
  if (jsonDepth(value, maxDepth) > maxDepth) return `must nest at most ${maxDepth} levels deep`
  // Safe to stringify now: the depth is bounded.
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? "")
  return bytes > maxBytes ? `must be at most ${maxBytes} bytes as JSON (got ${bytes})` : undefined
}

/**
 * A stored free-form object as readers may show it: itself when within bounds, else a small
 * object saying it was withheld. The stored value is not changed (the audit chain hashes it).
 */
export const shownJson = (value: Record<string, unknown>): Record<string, unknown> => {
  const problem = jsonBoundsProblem(value)
  return problem === undefined
    ? value
    : { withheld: `these details are not shown: they ${problem}; the stored value is unchanged` }
}

/** The problem with a string a PostgreSQL `text` or `jsonb` cannot hold, or undefined. */
export const unstorableTextProblem = (text: string): string | undefined => {
  if (text.includes("\u0000")) return "must not contain the NUL character (U+0000)"
  if (!text.isWellFormed()) return "must be valid Unicode (it contains a lone surrogate)"
  return undefined
}

/** Text the database must take: lone surrogates and NUL replaced by U+FFFD. */
export const storableText = (text: string): string => text.toWellFormed().replaceAll("\u0000", "\ufffd")

/** The first strings (keys included) in a decoded input that the database cannot store, with their paths. */
export const unstorableStrings = (
  value: unknown,
  maxIssues = 10
): ReadonlyArray<{ readonly path: string; readonly message: string }> => {
  const issues: Array<{ path: string; message: string }> = []
  const stack: Array<readonly [unknown, string]> = [[value, ""]]
  const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`)
  while (stack.length > 0 && issues.length < maxIssues) {
    const [current, path] = stack.pop() ?? [undefined, ""]
    if (typeof current === "string") {
      const problem = unstorableTextProblem(current)
      if (problem !== undefined) issues.push({ path, message: problem })
    } else if (isContainer(current)) {
      for (const [key, child] of Object.entries(current)) {
        const keyProblem = unstorableTextProblem(key)
        if (keyProblem !== undefined) issues.push({ path, message: `a key ${keyProblem}` })
        stack.push([child, join(path, key)])
      }
    }
  }
  return issues
}

/**
 * JSON with object keys sorted at every level, so equal content always gives the same text (the
 * audit chain hashes it). Same output as a recursive `JSON.stringify` with sorted keys: `undefined`
 * members are left out of objects and written `null` in arrays.
 */
export const canonicalJson = (value: unknown): string => {
  const out: Array<string> = []
  // Either a value to write, or literal text (brackets, commas, keys) to emit as is.
  const stack: Array<{ readonly text: string } | { readonly value: unknown }> = [{ value }]
  while (stack.length > 0) {
    const item = stack.pop()
    if (item === undefined) break
    if ("text" in item) {
      out.push(item.text)
      continue
    }
    const current = item.value
    if (!isContainer(current)) {
      out.push(JSON.stringify(current) ?? "null")
      continue
    }
    const pending: Array<{ readonly text: string } | { readonly value: unknown }> = []
    if (Array.isArray(current)) {
      pending.push({ text: "[" })
      current.forEach((child: unknown, i) => {
        if (i > 0) pending.push({ text: "," })
        pending.push({ value: child })
      })
      pending.push({ text: "]" })
    } else {
      const entries = Object.entries(current)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      pending.push({ text: "{" })
      entries.forEach(([key, child], i) => {
        pending.push({ text: `${i > 0 ? "," : ""}${JSON.stringify(key)}:` })
        pending.push({ value: child })
      })
      pending.push({ text: "}" })
    }
    // Pushed in reverse so they are written in order.
    for (let i = pending.length - 1; i >= 0; i--) stack.push(pending[i] as (typeof pending)[number])
  }
  return out.join("")
}
