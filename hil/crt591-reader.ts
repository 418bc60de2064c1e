import { ACK, bcc, EOT, ETX, FRAME_LEN_MAX, FRAME_OVERHEAD_BYTES, NAK, STX } from "./crt591-codec.js"

/**
 * Turns the bytes arriving on a CRT-591 line into tokens: the single control bytes (ACK, NAK, EOT)
 * sent between frames, whole frames, and `Corrupt` where something frame-like failed its checks.
 * Pure and synchronous; the caller owns time and calls `expire()` when the line has gone quiet in
 * the middle of a frame.
 *
 * Resynchronisation: a candidate frame starts at an STX. When its length is impossible, its ETX is not
 * where LEN says, or its BCC is wrong, the reader reports `Corrupt` and restarts the search at the
 * byte after that STX, never after the whole candidate: a truncated frame followed by a good one is
 * therefore found, because the good frame's STX lies within what was skipped over byte by byte. The
 * one case no reader can tell: a frame cut short by exactly its BCC, followed by an STX equal to that
 * BCC, is a good frame on the wire; the exchange's timeouts recover from it. Nothing a line can
 * carry makes the reader throw.
 */

export type Token =
  | { readonly _tag: "Ack" }
  | { readonly _tag: "Nak" }
  | { readonly _tag: "Eot" }
  | { readonly _tag: "Frame"; readonly address: number; readonly body: Uint8Array }
  | { readonly _tag: "Corrupt"; readonly reason: "length" | "etx" | "bcc" | "truncated" }

const ackToken: Token = { _tag: "Ack" }
const nakToken: Token = { _tag: "Nak" }
const eotToken: Token = { _tag: "Eot" }

export interface ReaderOptions {
  /** Bytes held while waiting for the rest of a frame; older bytes are dropped past it. */
  readonly bufferBytesMax?: number
}

export class Crt591Reader {
  private buffer: Uint8Array
  private start = 0
  private end = 0
  /** Bytes that were neither a control byte nor part of a good frame. */
  noiseBytes = 0
  /** Bytes dropped because the buffer was full. */
  overflowBytes = 0

  constructor(options: ReaderOptions = {}) {
    // Always room for two of the largest frames, so one can never be pushed out by its own tail.
    const max = Math.max(options.bufferBytesMax ?? 4096, 2 * (FRAME_LEN_MAX + FRAME_OVERHEAD_BYTES))
    this.buffer = new Uint8Array(max)
  }

  /** True while the buffer holds the beginning of a frame whose end has not arrived. */
  get pending(): boolean {
    return this.start < this.end
  }

  get bufferedBytes(): number {
    return this.end - this.start
  }

  push(chunk: Uint8Array): void {
    const capacity = this.buffer.length
    if (chunk.length >= capacity) {
      this.overflowBytes += this.end - this.start + chunk.length - capacity
      this.buffer.set(chunk.subarray(chunk.length - capacity))
      this.start = 0
      this.end = capacity
      return
    }
    if (this.end + chunk.length > capacity) {
      const keep = Math.min(this.end - this.start, capacity - chunk.length)
      this.overflowBytes += this.end - this.start - keep
      this.buffer.copyWithin(0, this.end - keep, this.end)
      this.start = 0
      this.end = keep
    }
    this.buffer.set(chunk, this.end)
    this.end += chunk.length
  }

  /** Drops everything buffered (before a new exchange: stale bytes must not answer it). */
  clear(): void {
    this.noiseBytes += this.end - this.start
    this.start = 0
    this.end = 0
  }

  /**
   * The line went quiet in the middle of a frame: the frame will never complete. Gives up on the
   * candidate at the head of the buffer so `next()` can rescan what follows it.
   */
  expire(): Token | undefined {
    // Only a candidate at the head can be expired; anything else is for `next()` to consume.
    if (this.start >= this.end || this.buffer[this.start] !== STX) return undefined
    this.start += 1
    this.noiseBytes += 1
    return { _tag: "Corrupt", reason: "truncated" }
  }

  /** The next token, or `undefined` when the buffer holds nothing more that is complete. */
  next(): Token | undefined {
    const buf = this.buffer
    while (this.start < this.end) {
      const b = buf[this.start] ?? 0
      if (b !== STX) {
        this.start += 1
        if (b === ACK) return ackToken
        if (b === NAK) return nakToken
        if (b === EOT) return eotToken
        this.noiseBytes += 1
        continue
      }
      const available = this.end - this.start
      if (available < 4) return undefined
      const len = ((buf[this.start + 2] ?? 0) << 8) | (buf[this.start + 3] ?? 0)
      if (len < 3 || len > FRAME_LEN_MAX) return this.skipCandidate("length")
      const total = len + FRAME_OVERHEAD_BYTES
      if (available < total) return undefined
      if (buf[this.start + 4 + len] !== ETX) return this.skipCandidate("etx")
      if (bcc(buf, this.start, this.start + total - 1) !== buf[this.start + total - 1]) return this.skipCandidate("bcc")
      const address = buf[this.start + 1] ?? 0
      const body = buf.slice(this.start + 4, this.start + 4 + len)
      this.start += total
      if (this.start === this.end) {
        this.start = 0
        this.end = 0
      }
      return { _tag: "Frame", address, body }
    }
    this.start = 0
    this.end = 0
    return undefined
  }

  private skipCandidate(reason: "length" | "etx" | "bcc"): Token {
    this.start += 1
    this.noiseBytes += 1
    return { _tag: "Corrupt", reason }
  }
}
