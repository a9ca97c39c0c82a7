/**
 * Splits a migration file into single statements. The SQL client speaks only the extended
 * protocol, which takes one statement at a time, so a file is run statement by statement.
 * Quotes, dollar-quoted bodies (functions, DO blocks) and comments are respected.
 */
export const splitSqlStatements = (text: string): ReadonlyArray<string> => {
  const statements: Array<string> = []
  let current = ""
  let i = 0
  const push = () => {
    const trimmed = current.trim()
    if (trimmed.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, "").trim().length > 0) statements.push(trimmed)
    current = ""
  }
  while (i < text.length) {
    const rest = text.slice(i)
    const ch = text[i]
    if (rest.startsWith("--")) {
      const end = text.indexOf("\n", i)
      const stop = end === -1 ? text.length : end
      current += text.slice(i, stop)
      i = stop
    } else if (rest.startsWith("/*")) {
      const end = text.indexOf("*/", i + 2)
      const stop = end === -1 ? text.length : end + 2
      current += text.slice(i, stop)
      i = stop
    } else if (ch === "'" || ch === '"') {
      let j = i + 1
      while (j < text.length) {
        if (text[j] === ch && text[j + 1] === ch) j += 2
        else if (text[j] === ch) break
        else j++
      }
      current += text.slice(i, j + 1)
      i = j + 1
    } else if (ch === "$") {
      const tag = /^\$[A-Za-z_0-9]*\$/.exec(rest)?.[0]
      if (tag === undefined) {
        current += ch
        i++
      } else {
        const end = text.indexOf(tag, i + tag.length)
        const stop = end === -1 ? text.length : end + tag.length
        current += text.slice(i, stop)
        i = stop
      }
    } else if (ch === ";") {
      push()
      i++
    } else {
      current += ch
      i++
    }
  }
  push()
  return statements
}
