import { concatBytes } from "./bytes.js"
/**
 * The emulators' side of a serial line in real time. A pty carries bytes as fast as the kernel moves
 * them; a cable at 9600 baud takes about 1 ms a byte. With pacing on, bytes from the host are handed
 * to the device only when the cable would have finished carrying them, and bytes to the host leave
 * one after another at the same rate. With pacing off, everything goes at once, and what the device
 * sends in one turn of the event loop leaves in one write (an ACK and an instant reply together).
 * Owns the emulator's timers, so closing it stops everything.
 */

export interface Wire {
  write(bytes: Uint8Array): Promise<void>
}

export type Timer = ReturnType<typeof setTimeout>


export class LinePacer {
  private readonly timers = new Set<Timer>()
  private rxFreeAt = 0
  private txFreeAt = 0
  private unsent: Array<Uint8Array> = []
  private closed = false

  constructor(
    private readonly wire: Wire,
    private readonly byteMs: number,
    private readonly paced: boolean,
    private readonly onWriteError: (error: unknown) => void
  ) {}

  /** Hands `chunk` to `deliver` when the line would have finished carrying it. */
  receive(chunk: Uint8Array, deliver: (chunk: Uint8Array) => void): void {
    if (this.closed) return
    if (!this.paced) return deliver(chunk)
    const now = performance.now()
    this.rxFreeAt = Math.max(now, this.rxFreeAt) + chunk.length * this.byteMs
    this.later(this.rxFreeAt - now, () => deliver(chunk))
  }

  transmit(bytes: Uint8Array): void {
    if (this.closed) return
    if (!this.paced) {
      if (this.unsent.length === 0) {
        queueMicrotask(() => {
          const parts = this.unsent
          this.unsent = []
          this.write(parts.length === 1 ? (parts[0] ?? new Uint8Array(0)) : concatBytes(parts))
        })
      }
      this.unsent.push(bytes)
      return
    }
    const now = performance.now()
    this.txFreeAt = Math.max(now, this.txFreeAt) + bytes.length * this.byteMs
    this.later(this.txFreeAt - now, () => this.write(bytes))
  }

  /** Runs `f` after `ms` unless the pacer is closed first. */
  later(ms: number, f: () => void): Timer {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      if (!this.closed) f()
    }, Math.max(0, ms))
    this.timers.add(timer)
    return timer
  }

  cancel(timer: Timer | undefined): void {
    if (timer === undefined) return
    clearTimeout(timer)
    this.timers.delete(timer)
  }

  close(): void {
    this.closed = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    this.unsent = []
  }

  private write(bytes: Uint8Array): void {
    if (!this.closed) this.wire.write(bytes).catch(this.onWriteError)
  }
}
