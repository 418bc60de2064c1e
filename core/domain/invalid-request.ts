import { Schema } from "effect"

/**
 * A request the services refuse before touching anything: a blank name, a negative count, a window
 * that ends before it starts. `reason` says what was wrong in words the caller can act on.
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  reason: Schema.String
}) {
  override get message() {
    return `invalid request: ${this.reason}`
  }
}

/** Bounds for the free-text names operators type (institutions, regions, merchants, kiosks). */
export const NAME_LENGTH_MAX = 200

/** The name trimmed, or the reason it is refused. */
export const checkName = (what: string, name: string): string | InvalidRequest => {
  const trimmed = name.trim()
  if (trimmed.length === 0) return new InvalidRequest({ reason: `${what} name is empty; give a name people will recognise` })
  if (trimmed.length > NAME_LENGTH_MAX) {
    return new InvalidRequest({ reason: `${what} name is ${trimmed.length} characters; keep it to ${NAME_LENGTH_MAX}` })
  }
  return trimmed
}
