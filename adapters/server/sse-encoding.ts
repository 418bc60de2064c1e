/**
 * Server-sent events on the wire (the WHATWG `text/event-stream` format): one event is a few
 * `field: value` lines and a blank line. Data that holds newlines becomes several `data:` lines, which
 * the client joins back with "\n"; an id or event name cannot hold a newline at all (the client would
 * read the rest as another field), so such a value is a bug and is refused loudly.
 */

export interface SseEvent {
  /** Becomes the client's last event id; absent leaves it as it was (heartbeats). */
  readonly id?: string | undefined
  readonly event: string
  readonly data: string
  /** Milliseconds the client waits before it reconnects after the stream ends. */
  readonly retryMs?: number | undefined
}

const singleLine = (field: string, value: string): string => {
  if (/[\r\n\0]/.test(value)) throw new Error(`an SSE ${field} cannot hold a line break or NUL: ${JSON.stringify(value.slice(0, 80))}`)
  return value
}

export const encodeSseEvent = (event: SseEvent): string => {
  const lines: Array<string> = []
  if (event.retryMs !== undefined) lines.push(`retry: ${Math.max(0, Math.floor(event.retryMs))}`)
  if (event.id !== undefined) lines.push(`id: ${singleLine("id", event.id)}`)
  lines.push(`event: ${singleLine("event name", event.event)}`)
  for (const line of event.data.split(/\r\n|\r|\n/)) lines.push(`data: ${line}`)
  return `${lines.join("\n")}\n\n`
}

/** A comment line: clients ignore it; proxies see traffic. */
export const encodeSseComment = (text: string): string => `: ${text.replace(/[\r\n]+/g, " ")}\n\n`

/** What a client's events look like once parsed back (for tests and the kiosk agent). */
export interface ParsedSseEvent {
  readonly id: string | undefined
  readonly event: string
  readonly data: string
}

/**
 * Incremental parser of an event stream, per the WHATWG rules that matter here: fields split at the
 * first colon with one optional space, comments skipped, `data` lines joined by "\n", the event name
 * "message" when absent. Feed it text as it arrives; it returns the events completed so far.
 */
export const makeSseParser = () => {
  let buffer = ""
  let id: string | undefined
  let event = ""
  let data: Array<string> = []
  let hasData = false
  return (chunk: string): ReadonlyArray<ParsedSseEvent> => {
    buffer += chunk
    const events: Array<ParsedSseEvent> = []
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer)
      if (match === null) break
      const line = buffer.slice(0, match.index)
      buffer = buffer.slice(match.index + match[0].length)
      if (line === "") {
        if (hasData) events.push({ id, event: event === "" ? "message" : event, data: data.join("\n") })
        event = ""
        data = []
        hasData = false
        continue
      }
      if (line.startsWith(":")) continue
      const colon = line.indexOf(":")
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
      if (field === "data") {
        data.push(value)
        hasData = true
      } else if (field === "event") event = value
      else if (field === "id" && !value.includes("\0")) id = value
    }
    return events
  }
}
