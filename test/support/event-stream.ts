/**
 * A client of `GET /api/v1/events/stream` for tests: opens it with given headers and reads whole
 * frames (`id:`, `event:`, `data:`, `retry:`; comments counted, not returned), the way an
 * `EventSource` parses them, with a deadline on every wait.
 */

export interface Frame {
  readonly id: string | undefined
  readonly event: string
  readonly data: unknown
  readonly retry: number | undefined
}

export interface EventStreamClient {
  readonly response: Response
  /** The next frame with data, within `timeoutMs`. */
  readonly next: (timeoutMs?: number) => Promise<Frame>
  /** Frames until one `match` accepts (returned), within `timeoutMs` in all. */
  readonly waitFor: (what: string, match: (frame: Frame) => boolean, timeoutMs?: number) => Promise<Frame>
  /** Resolves once the server ends the stream (frames still unread are skipped), within `timeoutMs`. */
  readonly ended: (timeoutMs?: number) => Promise<void>
  /** Comment lines seen so far (keep-alives). */
  readonly comments: () => number
  readonly close: () => Promise<void>
}

const deadline = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export const readFrames = (response: Response): EventStreamClient => {
  if (response.body === null) throw new Error(`no body (status ${response.status})`)
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  let comments = 0
  let done = false
  /** The next frame with data, or undefined when the stream ended. */
  const read = async (): Promise<Frame | undefined> => {
    for (;;) {
      const end = buffer.indexOf("\n\n")
      if (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        let id: string | undefined
        let event = "message"
        let retry: number | undefined
        const data: Array<string> = []
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) comments++
          else if (line.startsWith("id: ")) id = line.slice(4)
          else if (line.startsWith("event: ")) event = line.slice(7)
          else if (line.startsWith("retry: ")) retry = Number(line.slice(7))
          else if (line.startsWith("data: ")) data.push(line.slice(6))
        }
        if (data.length > 0) return { id, event, data: JSON.parse(data.join("\n")), retry }
        continue
      }
      if (done) return undefined
      const chunk = await reader.read()
      if (chunk.done) done = true
      else buffer += decoder.decode(chunk.value, { stream: true })
    }
  }
  const next = async (timeoutMs = 5000) => {
    const frame = await deadline(read(), timeoutMs, "next frame")
    if (frame === undefined) throw new Error("the event stream ended")
    return frame
  }
  const waitFor = (what: string, match: (frame: Frame) => boolean, timeoutMs = 5000) =>
    deadline(
      (async () => {
        for (;;) {
          const frame = await read()
          if (frame === undefined) throw new Error(`the event stream ended before ${what}`)
          if (match(frame)) return frame
        }
      })(),
      timeoutMs,
      what
    )
  const ended = (timeoutMs = 5000) =>
    deadline(
      (async () => {
        while ((await read()) !== undefined) {}
      })(),
      timeoutMs,
      "end of the stream"
    )
  return { response, next, waitFor, ended, comments: () => comments, close: () => reader.cancel() }
}

/** Opens the stream; throws unless it answers 200 with `text/event-stream`. */
export const openEventStream = async (
  baseUrl: string,
  query = "",
  headers: Record<string, string> = {}
): Promise<EventStreamClient> => {
  const response = await fetch(`${baseUrl}/api/v1/events/stream${query}`, { headers })
  if (response.status !== 200 || !(response.headers.get("content-type") ?? "").startsWith("text/event-stream"))
    throw new Error(`the event stream answered ${response.status}: ${await response.text()}`)
  return readFrames(response)
}
