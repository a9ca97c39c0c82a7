/**
 * Where the running server listens for CLI commands: a Unix socket in a directory of the data
 * directory that only the owning OS user may enter. Shared by the server and the `breakwater`
 * client, which must start fast: node modules only here.
 */
import { join, resolve } from "node:path"

export const controlDirectory = (dataDir: string): string => resolve(join(dataDir, "control"))

export const controlSocketPath = (dataDir: string): string => join(controlDirectory(dataDir), "breakwater.sock")

/** Unix socket paths are limited (108 bytes on Linux, with the terminator). */
export const SOCKET_PATH_LIMIT = 107
