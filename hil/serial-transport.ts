import { Effect, Option, Queue, type Scope } from "effect"
import { Offline } from "../core/ports/hardware-errors.js"
import { defaultLine, type LineSettings, type PortBinding, SerialConnection, systemBinding } from "./serial-port.js"

/**
 * The serial transport as an Effect resource: a port opened with explicit line settings, received
 * bytes in a bounded queue, a read that always has a timeout, and a close tied to the scope. Protocol
 * readers (CRT-591 frames, ESC/POS status bytes) sit on top of `read`.
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

const EMPTY = new Uint8Array(0)

export const openLink = (options: LinkOptions): Effect.Effect<SerialLink, Offline, Scope.Scope> =>
  Effect.gen(function* () {
    const line: LineSettings = { ...defaultLine, ...options.line }
    const device = options.device
    const queue = yield* Queue.dropping<Uint8Array>(options.receiveChunksMax ?? 256)
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
    connection.onData = (chunk) => {
      if (!queue.unsafeOffer(chunk)) dropped += 1
    }
    connection.onClose = (reason) => {
      closedReason = reason ?? "port closed"
      // Wakes a reader blocked in `take` so it sees the port is gone instead of timing out.
      queue.unsafeOffer(EMPTY)
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

    const read = (timeoutMs: number): Effect.Effect<Option.Option<Uint8Array>, Offline> =>
      Effect.suspend(() => {
        if (closedReason !== undefined) return Effect.fail(gone())
        return Queue.take(queue).pipe(
          Effect.timeoutOption(Math.max(0, timeoutMs)),
          Effect.flatMap((chunk) =>
            Option.isSome(chunk) && chunk.value.length === 0 && closedReason !== undefined ? Effect.fail(gone()) : Effect.succeed(chunk)
          )
        )
      })

    const discardInput = Queue.takeAll(queue).pipe(
      Effect.map((chunks) => {
        let n = 0
        for (const chunk of chunks) n += chunk.length
        return n
      })
    )

    const post = (bytes: Uint8Array): Effect.Effect<void> =>
      Effect.sync(() => {
        if (closedReason === undefined) connection.write(bytes).catch(() => undefined)
      })

    return { path: options.path, line, write, post, read, discardInput, droppedChunks: () => dropped } satisfies SerialLink
  })
