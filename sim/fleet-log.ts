import { createHash, type Hash } from "node:crypto"
import type { VirtualTime } from "./virtual-time.js"

/**
 * The fleet's event log: one JSON object per line (`events.ndjson`), in the order events happen in
 * virtual time, each with its time `t` (ms since the epoch, virtual) and kind `k`. The same seed and
 * configuration write the same bytes, so the log's SHA-256 is the run's fingerprint.
 *
 * No phone number is ever written (DESIGN §5, invariant 10): customers appear by user id, and every
 * line is checked for anything that looks like an E.164 number before it is written; a line that
 * does is a bug in the simulator, and the run dies on it rather than leak it.
 */

export type EventValue = string | number | boolean | null

export interface EventSink {
  readonly write: (line: string) => void
}

/** A sink that only hashes (tests), optionally passing every line on. */
export const hashingSink = (next?: EventSink): EventSink & { readonly digest: () => string; readonly bytes: () => number } => {
  const hash: Hash = createHash("sha256")
  let bytes = 0
  return {
    write: (line) => {
      hash.update(line)
      bytes += line.length
      next?.write(line)
    },
    digest: () => hash.copy().digest("hex"),
    bytes: () => bytes
  }
}

/** Anything that reads like a mobile number in E.164 form. */
const PHONE_LIKE = /\+\d{8,15}/

export class FleetLog {
  lines = 0

  constructor(
    private readonly time: VirtualTime,
    private readonly sink: EventSink
  ) {}

  emit(kind: string, fields: Readonly<Record<string, EventValue>> = {}): void {
    const line = JSON.stringify({ t: this.time.nowMs, k: kind, ...fields })
    if (PHONE_LIKE.test(line)) throw new Error(`event log: a ${kind} event carries what looks like a phone number; mask it with maskPhone (DESIGN §5, invariant 10)`)
    this.sink.write(`${line}\n`)
    this.lines++
  }
}
