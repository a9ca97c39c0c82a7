/**
 * The import graph reads as a house (ARCHITECTURE.md §2): core and views are the ground floor,
 * plugins stand on them, the composition (app, modules, CLI) on top. Checked over every import of
 * `src/` and `views/`: core never imports a plugin or the floors above; a plugin imports only
 * core, views and its own folder; views import only views; domain code does not import
 * the transport (`core/http`); and no file reaches itself through its imports.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, normalize, relative } from "node:path"
import { describe, expect, it } from "vitest"

const root = join(import.meta.dirname, "../..")

const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return filesUnder(path)
    return entry.name.endsWith(".ts") ? [path] : []
  })

/** Relative imports (static, dynamic and type-only) of a file, resolved to repository paths. */
const importsOf = (file: string): ReadonlyArray<string> => {
  const text = readFileSync(join(root, file), "utf8")
  const found = new Set<string>()
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    const target = match[1]
    if (target !== undefined) found.add(normalize(join(dirname(file), target)))
  }
  return [...found]
}

const files = [...filesUnder("src"), ...filesUnder("views")]
const graph = new Map(files.map((f) => [f, importsOf(f)]))

/** The plugin a file belongs to: `src/plugins/<name>/`, or `src/plugins/channels/<id>/` for a channel. */
const pluginOf = (path: string) => /^src\/plugins\/(channels\/[^/]+|[^/]+)\//.exec(path)?.[1]
const inCore = (path: string) => path.startsWith("src/core/")
const inViews = (path: string) => path.startsWith("views/")

/** Domain code: it must not know about HTTP (routes and the request guard live elsewhere). */
const domain = (path: string) =>
  /^src\/core\/(audit|contracts|db|errors|observability|redis)\//.test(path) ||
  /^src\/core\/auth\/(api-keys|api-key-authenticator|passwords|permissions|roles|sessions|users|identity)\.ts$/.test(
    path
  ) ||
  /^src\/core\/settings\/(service|store|model|spec|declarations|errors)\.ts$/.test(path)

const violations = (rule: (from: string, to: string) => string | undefined) =>
  [...graph].flatMap(([from, targets]) =>
    targets.flatMap((to) => {
      const problem = rule(from, to)
      return problem === undefined ? [] : [`${from} → ${to}: ${problem}`]
    })
  )

describe("house rules of the import graph", () => {
  it("finds the files and their imports (the rules below are not vacuous)", () => {
    expect(files.length).toBeGreaterThan(100)
    expect(graph.get("src/plugins/circuit-breaker/index.ts")).toContain("src/core/module.ts")
  })

  it("core never imports a plugin, the module list, the composition or the CLI", () => {
    expect(
      violations((from, to) =>
        inCore(from) && !inCore(to) && !inViews(to) ? "core imports above the ground floor" : undefined
      )
    ).toEqual([])
  })

  it("a plugin imports only core, views and its own folder", () => {
    expect(
      violations((from, to) => {
        const plugin = pluginOf(from)
        if (plugin === undefined || inCore(to) || inViews(to) || pluginOf(to) === plugin) return undefined
        return pluginOf(to) === undefined
          ? "a plugin imports outside core and views"
          : "a plugin imports another plugin (use a contract in src/core/contracts/)"
      })
    ).toEqual([])
  })

  it("views import only views: the layout and the shared components know no capability", () => {
    expect(
      violations((from, to) => (inViews(from) && !inViews(to) ? "views import outside views" : undefined))
    ).toEqual([])
  })

  it("domain code does not import the transport layer", () => {
    expect(
      violations((from, to) =>
        domain(from) && to.startsWith("src/core/http/") ? "domain imports core/http" : undefined
      )
    ).toEqual([])
  })

  it("contracts hold no implementation: they import only contracts, errors and the declaration types", () => {
    expect(
      violations((from, to) =>
        from.startsWith("src/core/contracts/") &&
        !to.startsWith("src/core/contracts/") &&
        !to.startsWith("src/core/errors/") &&
        !["src/core/auth/permissions.ts", "src/core/audit/entry.ts"].includes(to)
          ? "a contract imports an implementation"
          : undefined
      )
    ).toEqual([])
  })

  it("has no circular imports", () => {
    // Tarjan's strongly connected components: any component of more than one file is a cycle.
    let index = 0
    const indices = new Map<string, number>()
    const low = new Map<string, number>()
    const stack: Array<string> = []
    const onStack = new Set<string>()
    const cycles: Array<ReadonlyArray<string>> = []
    const connect = (v: string) => {
      indices.set(v, index)
      low.set(v, index)
      index++
      stack.push(v)
      onStack.add(v)
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue
        if (!indices.has(w)) {
          connect(w)
          low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0))
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, indices.get(w) ?? 0))
      }
      if (low.get(v) === indices.get(v)) {
        const component: Array<string> = []
        let w: string | undefined
        do {
          w = stack.pop()
          if (w !== undefined) {
            onStack.delete(w)
            component.push(w)
          }
        } while (w !== undefined && w !== v)
        if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort())
      }
    }
    for (const file of graph.keys()) if (!indices.has(file)) connect(file)
    expect(cycles.map((c) => c.map((f) => relative(root, join(root, f))).join(" ⇄ "))).toEqual([])
  })
})
