import { Cause, HashMap, Logger } from "effect"
import { maskPhone } from "../../core/domain/ids.js"

/**
 * `ecoupon serve`'s log: one JSON object per line on stderr (stdout keeps what the command itself
 * says: where it listens, and the one-time bootstrap token), for a log shipper to read as it is:
 *
 *     {"time":"2026-12-05T23:59:01.123Z","level":"info","message":"answered","requestId":"…","route":"kiosks.place","method":"POST","status":200,"durationMs":4.2}
 *
 * `time`, `level` and `message` always; then the log's annotations (the request pipeline adds
 * requestId, route, method, status, durationMs to its line per answered request); `cause` when the
 * log carries one. No phone number ever (invariant 10): the server never logs one, and as a last guard
 * every string in the line has anything shaped like a phone number (8 to 15 digits standing alone,
 * with or without a leading +) masked as the core masks numbers (+8210****2345).
 */

// Not inside a longer word: a UUID's all-digit group or an id like ord_20261205123456 stays whole.
const PHONE_SHAPED = /(?<![\w-])\+?\d{8,15}(?![\w-])/g

/** A string with every phone-shaped run of digits masked. */
export const maskPhones = (text: string): string => text.replace(PHONE_SHAPED, (digits) => maskPhone(digits))

const levelName = (label: string) => label.toLowerCase()

/** Strings masked, everything else kept; what JSON cannot say becomes its string form. */
const plain = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return maskPhones(value)
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value
  if (typeof value === "bigint") return value.toString()
  if (value === undefined) return null
  if (depth > 4) return maskPhones(String(value))
  if (Array.isArray(value)) return value.map((item) => plain(item, depth + 1))
  if (value instanceof Error) return maskPhones(value.message)
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item, depth + 1)]))
  return maskPhones(String(value))
}

const messageText = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts.map((part) => (typeof part === "string" ? part : JSON.stringify(plain(part)))).join(" ")
}

/** The line for one log entry (without its newline). */
export const jsonLogLine = (entry: Logger.Logger.Options<unknown>): string => {
  const line: Record<string, unknown> = { time: entry.date.toISOString(), level: levelName(entry.logLevel.label), message: maskPhones(messageText(entry.message)) }
  for (const [key, value] of HashMap.toEntries(entry.annotations)) {
    if (!(key in line)) line[key] = plain(value)
  }
  if (!Cause.isEmpty(entry.cause)) line["cause"] = maskPhones(Cause.pretty(entry.cause))
  return JSON.stringify(line)
}

/** Writes each entry as a JSON line to stderr. */
export const jsonLogger: Logger.Logger<unknown, void> = Logger.make((entry) => {
  process.stderr.write(`${jsonLogLine(entry)}\n`)
})
