/** The running Breakwater version, read once from package.json. */
import { readFileSync } from "node:fs"

const pkg: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))

export const version: string =
  typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string" ? pkg.version : "0.0.0"

/** When this process started (ms since epoch), for uptime. */
export const startedAt: number = Date.now()
