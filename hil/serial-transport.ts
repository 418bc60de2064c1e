import { Effect, Option, type Scope } from "effect"
import { Offline } from "../core/ports/hardware-errors.js"
import { defaultLine, type LineSettings, type PortBinding, SerialConnection, systemBinding } from "./serial-port.js"

/**
 * The serial transport as an Effect resource: a port opened with explicit line settings, received
 * bytes in a bounded buffer, a read that always has a timeout, and a close tied to the scope.
 * Protocol readers (CRT-591 frames, ESC/POS status bytes) sit on top of `read`. One reader at a time.
 */

export interface SerialLink {
  readonly path: string
  readonly line: LineSettings
  /** Queues the bytes for the port and waits until the operating system has taken them. */
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, Offline>
  /**
   * Queues the bytes and returns at once. For a last byte whose fate the caller cannot act on (the
   * closing ACK of an exchange); writes stay in order, and a port that died shows on the next call.
   */
  readonly post: (bytes: Uint8Array) => Effect.Effect<void>
  /** The next chunk of received bytes, or `None` when nothing arrived within `timeoutMs`. */
  readonly read: (timeoutMs: number) => Effect.Effect<Option.Option<Uint8Array>, Offline>
  /** Drops whatever has been received and not yet read; returns how many bytes that was. */
  readonly discardInput: Effect.Effect<number>
  /** Chunks dropped because the receive queue was full (a reader that stopped reading). */
  readonly droppedChunks: () => number
}

export interface LinkOptions {
  readonly path: string
  /** Names the device in errors: "CRT-591 on /dev/ttyUSB0". */
  readonly device: string
  readonly line?: Partial<LineSettings>
  /** Defaults to the operating system's ports; tests pass `@serialport/binding-mock` (see mock-pair.ts). */
  readonly binding?: PortBinding
  /** Received chunks held for the reader; each is at most 1 KiB. */
  readonly receiveChunksMax?: number
}

/** The clock Effect runs on when no test clock is provided. */
const liveClock = Effect.runSync(Effect.clock)

export const openLink = (options: LinkOptions): Effect.Effect<SerialLink, Offline, Scope.Scope> =>
  Effect.gen(function* () {
    const line: LineSettings = { ...defaultLine, ...options.line }
    const device = options.device
    const chunksMax = options.receiveChunksMax ?? 256
    // Received chunks, oldest first, and the one reader waiting for the next chunk, if any.
    const received: Array<Uint8Array> = []
    let waiter: ((chunk: Uint8Array | undefined) => void) | undefined
    let closedReason: string | undefined
    let dropped = 0

    const connection = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => SerialConnection.open(options.path, line, options.binding ?? systemBinding),
        catch: (error) =>
          new Offline({ device, detail: `cannot open ${options.path}: ${error instanceof Error ? error.message : String(error)}` })
      }),
      (c) => Effect.promise(() => c.close())
    )
    const wake = (chunk: Uint8Array | undefined) => {
      const w = waiter
      waiter = undefined
      w?.(chunk)
    }
    connection.onData = (chunk) => {
      if (waiter !== undefined) wake(chunk)
      else if (received.length < chunksMax) received.push(chunk)
      else dropped += 1
    }
    connection.onClose = (reason) => {
      closedReason = reason ?? "port closed"
      // A reader waiting for bytes learns at once that the port is gone, instead of timing out.
      wake(undefined)
    }

    const gone = () => new Offline({ device, detail: `${options.path} went away (${closedReason ?? "closed"})` })

    const write = (bytes: Uint8Array): Effect.Effect<void, Offline> =>
      Effect.tryPromise({
        try: () => connection.write(bytes),
        catch: (error) =>
          closedReason !== undefined
            ? gone()
            : new Offline({ device, detail: `write to ${options.path} failed: ${error instanceof Error ? error.message : String(error)}` })
      })

    const settle = (chunk: Uint8Array | undefined): Effect.Effect<Option.Option<Uint8Array>, Offline> =>
      chunk === undefined ? Effect.fail(gone()) : Effect.succeed(Option.some(chunk))

    /** Waits for the next chunk with no time limit; interruption withdraws the wait. */
    const nextChunk = Effect.async<Option.Option<Uint8Array>, Offline>((resume) => {
      waiter = (chunk) => resume(settle(chunk))
      return Effect.sync(() => {
        waiter = undefined
      })
    })

    /**
     * Under the live clock the time limit is a plain timer: the same semantics as Effect's timeout
     * without forking two fibers per read, which at one read per exchange was most of the garbage
     * (and so of the GC pauses) of a status exchange. Under a test clock it is Effect's timeout, so
     * tests can move time by hand.
     */
    const timedLive = (timeoutMs: number) =>
      Effect.async<Option.Option<Uint8Array>, Offline>((resume) => {
        const timer = setTimeout(() => {
          waiter = undefined
          resume(Effect.succeed(Option.none()))
        }, timeoutMs)
        waiter = (chunk) => {
          clearTimeout(timer)
          resume(settle(chunk))
        }
        return Effect.sync(() => {
          clearTimeout(timer)
          waiter = undefined
        })
      })

    const read = (timeoutMs: number): Effect.Effect<Option.Option<Uint8Array>, Offline> =>
      Effect.clockWith((clock) => {
        if (closedReason !== undefined) return Effect.fail(gone())
        const chunk = received.shift()
        if (chunk !== undefined) return Effect.succeed(Option.some(chunk))
        const ms = Math.max(0, timeoutMs)
        return clock === liveClock ? timedLive(ms) : Effect.map(Effect.timeoutOption(nextChunk, ms), Option.flatten)
      })

    const discardInput = Effect.sync(() => {
      let n = 0
      for (const chunk of received) n += chunk.length
      received.length = 0
      return n
    })

    const post = (bytes: Uint8Array): Effect.Effect<void> =>
      Effect.sync(() => {
        if (closedReason === undefined) connection.post(bytes)
      })

    return { path: options.path, line, write, post, read, discardInput, droppedChunks: () => dropped } satisfies SerialLink
  })
