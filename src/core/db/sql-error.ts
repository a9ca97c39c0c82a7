/**
 * The PostgreSQL message inside an SQL error. The client's own message is generic ("Query failed");
 * operators need the server's words ("relation "x" does not exist").
 */
export const sqlErrorDetail = (error: unknown): string => {
  let current: unknown = error
  let message = error instanceof Error ? error.message : String(error)
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const next: unknown =
      "reason" in current && current.reason !== undefined
        ? current.reason
        : "cause" in current
          ? current.cause
          : undefined
    if (next instanceof Error) message = next.message
    current = next
  }
  return message
}
