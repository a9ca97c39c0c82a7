/** Reads server-sent events off a raw response body in tests, one event at a time (comments skipped). */

export interface SseEvent {
  readonly event: string
  readonly data: unknown
}

export const sseEvents = (body: ReadableStream<Uint8Array>) => {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  const next = async (): Promise<SseEvent> => {
    for (;;) {
      const end = buffer.indexOf("\n\n")
      if (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        let event = "message"
        const data: Array<string> = []
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7)
          else if (line.startsWith("data: ")) data.push(line.slice(6))
        }
        if (data.length > 0) return { event, data: JSON.parse(data.join("\n")) }
        continue
      }
      const chunk = await reader.read()
      if (chunk.done) throw new Error("the event stream ended")
      buffer += decoder.decode(chunk.value, { stream: true })
    }
  }
  /** The first event `match` accepts, within `timeoutMs`. */
  const waitFor = async (what: string, match: (e: SseEvent) => boolean, timeoutMs = 5000): Promise<SseEvent> => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} event within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      for (;;) {
        const event = await Promise.race([next(), timeout])
        if (match(event)) return event
      }
    } finally {
      clearTimeout(timer)
    }
  }
  return { waitFor, close: () => reader.cancel() }
}
