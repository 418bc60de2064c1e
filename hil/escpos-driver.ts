import { Clock, Effect, Layer, Option } from "effect"
import { CouponPrinter, type CouponPrinterService, type PrinterError, type PrinterStatus } from "../core/ports/coupon-printer.js"
import { CoverOpen, Offline, PaperOut, PrinterFault } from "../core/ports/hardware-errors.js"
import {
  type CouponLayout,
  decodeStatusBytes,
  defaultLayout,
  encodeCoupon,
  isStatusByte,
  printerStatus,
  type StatusFlags,
  statusQueries,
  type StatusQuery,
  statusRequest
} from "./escpos-codec.js"
import { byteTimeMs, type LineSettings, type PortBinding } from "./serial-port.js"
import { openLink, type SerialLink } from "./serial-transport.js"

/**
 * The real layer of the `CouponPrinter` port: an ESC/POS receipt printer on a serial line. Status is
 * the four real-time queries `DLE EOT 1..4`, each answered by one byte at once; silence is reported
 * as `Offline`, never read as "all is well" (the mistake the popular open-source drivers make).
 */

export interface EscPosOptions {
  readonly path: string
  readonly baudRate?: number
  readonly line?: Partial<LineSettings>
  readonly binding?: PortBinding
  /** How long the printer has to answer one status query (the page: a few hundred ms). */
  readonly statusTimeoutMs?: number
  /** Time given to the mechanism to print a coupon before status is checked again. */
  readonly printSettleMs?: number
  readonly layout?: Partial<CouponLayout>
}

export interface EscPosTiming {
  readonly statusTimeoutMs: number
  readonly printSettleMs: number
}

export const defaultEscPosTiming: EscPosTiming = { statusTimeoutMs: 300, printSettleMs: 800 }

/** The error for a status that forbids printing, most specific cause first; `undefined` if fine. */
export const printerProblem = (device: string, f: StatusFlags): PrinterError | undefined => {
  if (f.unrecoverableError) return new PrinterFault({ kind: "unrecoverable", detail: "the printer reports an unrecoverable error" })
  if (f.cutterError) return new PrinterFault({ kind: "cutter", detail: "the printer reports an autocutter error" })
  if (f.coverOpen) return new CoverOpen()
  if (f.paperOut || f.paperEndStop) return new PaperOut()
  if (f.offline) return new Offline({ device, detail: "the printer reports itself offline with no cause given; press its online button" })
  return undefined
}

export const makeCouponPrinter = (
  link: SerialLink,
  device: string,
  timing: EscPosTiming = defaultEscPosTiming,
  layout: CouponLayout = defaultLayout
): Effect.Effect<CouponPrinterService> =>
  Effect.gen(function* () {
    const lock = yield* Effect.makeSemaphore(1)

    /** One query, one byte: bytes that cannot be a status answer are line noise and skipped. */
    const query = (n: StatusQuery): Effect.Effect<number, Offline> =>
      Effect.gen(function* () {
        yield* link.discardInput
        yield* link.write(statusRequest(n))
        const deadline = (yield* Clock.currentTimeMillis) + timing.statusTimeoutMs
        for (;;) {
          const left = deadline - (yield* Clock.currentTimeMillis)
          const chunk = left > 0 ? yield* link.read(left) : Option.none()
          if (Option.isNone(chunk)) {
            return yield* new Offline({
              device,
              detail: `no answer to DLE EOT ${n} within ${timing.statusTimeoutMs} ms: the printer is off, unplugged, or on other line settings`
            })
          }
          const answer = chunk.value.find(isStatusByte)
          if (answer !== undefined) return answer
        }
      })

    const flags: Effect.Effect<StatusFlags, Offline> = Effect.gen(function* () {
      const answers: Array<number> = []
      for (const n of statusQueries) answers.push(yield* query(n))
      const [b1 = 0, b2 = 0, b3 = 0, b4 = 0] = answers
      return decodeStatusBytes([b1, b2, b3, b4])
    })

    const checked = Effect.flatMap(flags, (f) => {
      const problem = printerProblem(device, f)
      return problem === undefined ? Effect.succeed(f) : Effect.fail(problem)
    })

    const status: Effect.Effect<PrinterStatus, PrinterError> = flags.pipe(Effect.map(printerStatus), lock.withPermits(1))

    const print = (coupon: Parameters<CouponPrinterService["print"]>[0]): Effect.Effect<void, PrinterError> =>
      Effect.gen(function* () {
        yield* checked
        const job = encodeCoupon(coupon, layout)
        yield* link.write(job)
        // The write returns when the OS has the bytes; the cable and the mechanism still need time.
        yield* Effect.sleep(Math.ceil(job.length * byteTimeMs(link.line)) + timing.printSettleMs)
        yield* checked
      }).pipe(lock.withPermits(1))

    return {
      status: status.pipe(Effect.withSpan("CouponPrinter.status")),
      print: (coupon) => print(coupon).pipe(Effect.withSpan("CouponPrinter.print"))
    }
  })

export const printerDeviceName = (path: string) => `ESC/POS printer on ${path}`

export const EscPos = {
  /** `CouponPrinter` on a real (or emulated) ESC/POS printer: `EscPos.layer({ path: "/dev/ttyUSB1" })`. */
  layer: (options: EscPosOptions) =>
    Layer.scoped(
      CouponPrinter,
      Effect.gen(function* () {
        const device = printerDeviceName(options.path)
        const line = { ...options.line, ...(options.baudRate === undefined ? {} : { baudRate: options.baudRate }) }
        const link = yield* openLink({ path: options.path, device, line, ...(options.binding === undefined ? {} : { binding: options.binding }) })
        return yield* makeCouponPrinter(
          link,
          device,
          {
            statusTimeoutMs: options.statusTimeoutMs ?? defaultEscPosTiming.statusTimeoutMs,
            printSettleMs: options.printSettleMs ?? defaultEscPosTiming.printSettleMs
          },
          { ...defaultLayout, ...options.layout }
        )
      })
    )
}
