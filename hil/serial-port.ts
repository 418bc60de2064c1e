import { readSync, writeSync } from "node:fs"
import { SerialPort } from "serialport"

/**
 * One open serial port, on serialport v13's binding layer. We use the binding (open, read, write,
 * close) rather than the `SerialPort` stream: the stream's buffering adds milliseconds of tail
 * latency per exchange, and we need neither its back-pressure nor its parsers. Works the same over
 * a USB adapter, a pty from socat, and `@serialport/binding-mock`.
 *
 * On Linux and macOS the binding's own read and write go through libuv's thread pool twice per
 * chunk (a read that fails with EAGAIN, a wait on the poller, the read again), and the thread
 * pool's hand-offs put a millisecond or more on the tail. Where the opened port exposes its
 * non-blocking descriptor and poller (the unix bindings do), we wait on that same poller and then
 * read or write the descriptor directly; a non-blocking read or write returns at once, so nothing
 * blocks the event loop. Other bindings (Windows, the mock) keep the binding's read and write.
 */

/** Mark and space parity exist on some platforms only; the devices here never use them. */
export type Parity = "none" | "even" | "odd"

export interface LineSettings {
  readonly baudRate: number
  readonly dataBits: 5 | 6 | 7 | 8
  readonly parity: Parity
  readonly stopBits: 1 | 1.5 | 2
  /** Hardware (RTS/CTS) flow control. */
  readonly rtscts: boolean
}

/** 9600 8N1, no flow control: the default of both devices. */
export const defaultLine: LineSettings = { baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1, rtscts: false }

/** Milliseconds one byte takes on the wire: start bit, data bits, parity, stop bits. */
export const byteTimeMs = (line: LineSettings): number =>
  ((1 + line.dataBits + (line.parity === "none" ? 0 : 1) + line.stopBits) * 1000) / line.baudRate

/** The slice of serialport's `BindingPortInterface` we use; the real and the mock binding both fit. */
export interface PortHandle {
  readonly isOpen: boolean
  read(buffer: Buffer, offset: number, length: number): Promise<{ readonly bytesRead: number }>
  write(buffer: Buffer): Promise<void>
  close(): Promise<void>
}

export interface PortOpenOptions {
  readonly path: string
  readonly baudRate: number
  readonly dataBits: 5 | 6 | 7 | 8
  readonly parity: Parity
  readonly stopBits: 1 | 1.5 | 2
  readonly rtscts: boolean
  readonly lock: boolean
}

/** The slice of serialport's `BindingInterface` we use. */
export interface PortBinding {
  open(options: PortOpenOptions): Promise<PortHandle>
}

/** What serialport's unix bindings expose besides `PortHandle`: the open descriptor and its poller. */
interface UnixPortHandle extends PortHandle {
  readonly fd: number | null
  readonly poller: {
    once(event: "readable" | "writable", callback: (error: Error | null) => void): unknown
  }
}

const isUnixHandle = (handle: PortHandle): handle is UnixPortHandle => {
  const h = handle as Partial<UnixPortHandle>
  return typeof h.fd === "number" && typeof h.poller?.once === "function"
}

/** Reads and writes one chunk; the binding's own, or the direct path on a unix descriptor. */
interface PortIo {
  read(buffer: Buffer): Promise<number>
  write(buffer: Buffer): Promise<void>
}

const isRetry = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR"
}

const bindingIo = (handle: PortHandle): PortIo => ({
  read: (buffer) => handle.read(buffer, 0, buffer.length).then((r) => r.bytesRead),
  write: (buffer) => handle.write(buffer)
})

const unixIo = (handle: UnixPortHandle): PortIo => {
  const ready = (event: "readable" | "writable") =>
    new Promise<void>((resolve, reject) => handle.poller.once(event, (error) => (error ? reject(error) : resolve())))
  const descriptor = () => {
    if (handle.fd === null || !handle.isOpen) throw new Error("Port is not open")
    return handle.fd
  }
  return {
    // Wait first, then read: a read straight after the last one would mostly find nothing, and
    // waiting each time lets other work run between chunks when the line is busy.
    read: async (buffer) => {
      for (;;) {
        await ready("readable")
        try {
          const n = readSync(descriptor(), buffer, 0, buffer.length, null)
          if (n > 0) return n
        } catch (error) {
          if (!isRetry(error)) throw error
        }
      }
    },
    write: async (buffer) => {
      let offset = 0
      while (offset < buffer.length) {
        try {
          offset += writeSync(descriptor(), buffer, offset, buffer.length - offset)
        } catch (error) {
          if (!isRetry(error)) throw error
          await ready("writable")
        }
      }
    }
  }
}

/** The operating system's serial ports, through serialport's auto-detected native binding. */
export const systemBinding: PortBinding = SerialPort.binding

const READ_CHUNK_BYTES = 1024

interface PendingWrite {
  readonly bytes: Uint8Array
  readonly resolve?: () => void
  readonly reject?: (error: unknown) => void
}

/** Writes merged into one go out with their order kept, as one buffer. */
const joined = (parts: ReadonlyArray<PendingWrite>): Buffer => {
  const only = parts.length === 1 ? parts[0] : undefined
  if (only !== undefined) return Buffer.from(only.bytes.buffer, only.bytes.byteOffset, only.bytes.byteLength)
  return Buffer.concat(parts.map((p) => p.bytes))
}

/**
 * An open port with a read loop. Received chunks go to `onData`. Writes go out one at a time (the
 * binding forbids overlapping writes), and whatever queued up behind a write in flight leaves
 * with the next one, in order. `onClose` fires once, with a reason when the port went away under
 * us (a USB adapter unplugged) and `undefined` when we closed it.
 */
export class SerialConnection {
  onData: (chunk: Uint8Array) => void = () => {}
  onClose: (reason: string | undefined) => void = () => {}
  private closed = false
  private queued: Array<PendingWrite> = []
  private inFlight: Promise<void> | undefined
  private postScheduled = false
  private readonly reading: Promise<void>
  private readonly io: PortIo

  private constructor(
    readonly path: string,
    readonly line: LineSettings,
    private readonly handle: PortHandle
  ) {
    this.io = isUnixHandle(handle) ? unixIo(handle) : bindingIo(handle)
    this.reading = this.readLoop()
  }

  static async open(path: string, line: LineSettings, binding: PortBinding = systemBinding): Promise<SerialConnection> {
    const handle = await binding.open({ path, ...line, lock: true })
    return new SerialConnection(path, line, handle)
  }

  get isOpen(): boolean {
    return !this.closed
  }

  /** Resolves when the operating system has taken the bytes. */
  write(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.path} is closed`))
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ bytes, resolve, reject })
      this.pump()
    })
  }

  /**
   * Queues bytes nobody waits for (the closing ACK of an exchange). They leave with the next
   * write if one follows within this turn of the event loop (saving a system call and a wake-up
   * on the other end), or on their own right after it.
   */
  post(bytes: Uint8Array): void {
    if (this.closed) return
    this.queued.push({ bytes })
    if (this.postScheduled) return
    this.postScheduled = true
    setImmediate(() => {
      this.postScheduled = false
      this.pump()
    })
  }

  private pump(): void {
    if (this.inFlight !== undefined || this.queued.length === 0) return
    const batch = this.queued
    this.queued = []
    this.inFlight = this.io.write(joined(batch)).then(
      () => {
        for (const w of batch) w.resolve?.()
      },
      (error: unknown) => {
        for (const w of batch) w.reject?.(error)
      }
    )
    void this.inFlight.finally(() => {
      this.inFlight = undefined
      if (!this.closed) this.pump()
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Bytes already queued still go out (a final ACK); then the port closes.
    while (this.inFlight !== undefined || this.queued.length > 0) {
      this.pump()
      await this.inFlight
    }
    await this.handle.close().catch(() => undefined)
    await this.reading
    this.onClose(undefined)
  }

  private async readLoop(): Promise<void> {
    const buffer = Buffer.alloc(READ_CHUNK_BYTES)
    for (;;) {
      try {
        const bytesRead = await this.io.read(buffer)
        // Copied out: the read buffer is reused for the next read.
        if (bytesRead > 0) this.onData(new Uint8Array(buffer.subarray(0, bytesRead)))
      } catch (error) {
        if (this.closed) return
        // A read error on an open port means the device went away: close and say why.
        this.closed = true
        await this.handle.close().catch(() => undefined)
        this.onClose(error instanceof Error ? error.message : String(error))
        return
      }
    }
  }
}
