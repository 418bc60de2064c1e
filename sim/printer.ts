import { Clock, Context, Effect, Layer } from "effect"
import {
  CouponPrinter,
  type CouponPrinterService,
  type PrintedCoupon,
  type PrinterError,
  type PrinterStatus
} from "../core/ports/coupon-printer.js"
import { CoverOpen, Offline, PaperOut, PrinterFault } from "../core/ports/hardware-errors.js"
import { BoundedLog } from "./bounded.js"
import { type FaultKnob, type FaultSpec, FaultTable, knobsOf, type SimFaults } from "./faults.js"
import { deviceRandom } from "./rng.js"
import { mapNowMs } from "./clock-now.js"

/**
 * The coupon printer's twin (ESC/POS thermal class). A roll of paper is a length: each page uses its
 * length, the near-end sensor trips at `nearEndMm`, and a page longer than what is left comes out
 * short, after which the printer reports paper out (the coupon was not printed: the kiosk must not
 * hand it over). A cutter failure latches until an operator services the printer (`service`).
 * Printed pages are kept for inspection, the last `pagesKeptMax` of them.
 */

export type PrinterFaultKnob = Extract<FaultKnob, `printer.${string}`>

export interface PrintedPage {
  readonly coupon: PrintedCoupon
  readonly atMs: number
  readonly lengthMm: number
  /** False when the paper ran out during the page. */
  readonly complete: boolean
  /** False when the cutter failed on it. */
  readonly cut: boolean
}

export interface SimPrinterSnapshot {
  readonly online: boolean
  readonly coverOpen: boolean
  readonly cutterError: boolean
  readonly paperRemainingMm: number
  readonly rollLengthMm: number
  readonly printed: number
  readonly faultsFired: Readonly<Partial<Record<PrinterFaultKnob, number>>>
}

export interface SimPrinterControlService {
  /** A new roll (the operator's refill); `lengthMm` defaults to the layer's roll length. */
  readonly loadPaper: (lengthMm?: number) => Effect.Effect<void>
  readonly setCoverOpen: (open: boolean) => Effect.Effect<void>
  readonly setOnline: (online: boolean) => Effect.Effect<void>
  /** An operator's visit: clears a cutter error, closes the cover, puts the printer online. */
  readonly service: Effect.Effect<void>
  /** The pages printed so far (the last `pagesKeptMax`), oldest first. */
  readonly pages: Effect.Effect<ReadonlyArray<PrintedPage>>
  readonly setFault: (knob: PrinterFaultKnob, spec: FaultSpec) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<SimPrinterSnapshot>
}

export class SimPrinterControl extends Context.Tag("ecoupon/sim/SimPrinterControl")<SimPrinterControl, SimPrinterControlService>() {}

export interface SimPrinterConfig {
  /** A standard 80 mm thermal roll is about 80 m. */
  readonly rollLengthMm?: number
  /** Paper left at start (default a full roll). */
  readonly paperMm?: number
  /** The near-end sensor trips with this much paper left (default 5 m). */
  readonly nearEndMm?: number
  /** One text line (default 4 mm). */
  readonly lineMm?: number
  /** Header, QR code, margins and cut of every page (default 60 mm). */
  readonly fixedMm?: number
  /** Print speed as time per millimetre (default 5 ms: 200 mm/s). */
  readonly printMsPerMm?: number
  readonly faults?: SimFaults
  readonly seed?: number
  readonly pagesKeptMax?: number
}

const device = "printer"
const printerKnobs = knobsOf("printer")

/** Lines every coupon has besides its own: title, merchant, value, expiry, code. */
const standardLines = 5

export const makeSimPrinter = (
  config: SimPrinterConfig = {}
): Effect.Effect<{ readonly port: CouponPrinterService; readonly control: SimPrinterControlService }> =>
  Effect.gen(function*() {
    const random = yield* deviceRandom(config.seed)
    const faults = new FaultTable<PrinterFaultKnob>(printerKnobs, config.faults ?? {}, random, yield* Clock.currentTimeMillis)
    const rollLengthMm = config.rollLengthMm ?? 80_000
    const nearEndMm = config.nearEndMm ?? 5_000
    const lineMm = config.lineMm ?? 4
    const fixedMm = config.fixedMm ?? 60
    const printMsPerMm = config.printMsPerMm ?? 5
    const pagesKeptMax = config.pagesKeptMax ?? 1_000
    const s = {
      paperMm: config.paperMm ?? rollLengthMm,
      online: true,
      coverOpen: false,
      cutterError: false,
      printed: 0,
      pages: new BoundedLog<PrintedPage>(pagesKeptMax)
    }

    const statusAt = (nowMs: number): PrinterStatus => ({
      online: s.online && !faults.inForce("printer.offline", nowMs),
      coverOpen: s.coverOpen || faults.inForce("printer.coverOpen", nowMs),
      paper: s.paperMm <= 0 || faults.inForce("printer.paperOut", nowMs) ? "out" : s.paperMm <= nearEndMm ? "near-end" : "ok",
      cutterError: s.cutterError,
      unrecoverableError: false
    })

    /** The check before printing, in the order a printer reports: offline, cover, paper, cutter. */
    const refusal = (nowMs: number): PrinterError | undefined => {
      if (!s.online || faults.fires("printer.offline", nowMs)) return new Offline({ device, detail: "the printer reports offline" })
      if (s.coverOpen || faults.fires("printer.coverOpen", nowMs)) return new CoverOpen()
      if (s.paperMm <= 0 || faults.fires("printer.paperOut", nowMs)) return new PaperOut()
      if (s.cutterError) return new PrinterFault({ kind: "cutter", detail: "the cutter failed earlier and has not been cleared" })
      return undefined
    }

    const print = (coupon: PrintedCoupon): Effect.Effect<void, PrinterError> =>
      Effect.gen(function*() {
        const nowMs = yield* Clock.currentTimeMillis
        const problem = refusal(nowMs)
        if (problem !== undefined) return yield* problem
        const pageMm = fixedMm + lineMm * (standardLines + coupon.lines.length)
        const lengthMm = Math.min(pageMm, s.paperMm)
        const cutFails = lengthMm === pageMm && faults.fires("printer.cutter", nowMs)
        if (printMsPerMm > 0) yield* Effect.sleep(lengthMm * printMsPerMm)
        s.paperMm -= lengthMm
        s.printed++
        s.pages.push({ coupon, atMs: yield* Clock.currentTimeMillis, lengthMm, complete: lengthMm === pageMm, cut: !cutFails })
        if (lengthMm < pageMm) return yield* new PaperOut()
        if (cutFails) {
          s.cutterError = true
          return yield* new PrinterFault({ kind: "cutter", detail: "the cutter did not cut the coupon" })
        }
      })

    const port: CouponPrinterService = {
      status: mapNowMs(statusAt),
      print
    }

    const control: SimPrinterControlService = {
      loadPaper: (lengthMm) =>
        Effect.sync(() => {
          s.paperMm = lengthMm ?? rollLengthMm
        }),
      setCoverOpen: (open) =>
        Effect.sync(() => {
          s.coverOpen = open
        }),
      setOnline: (online) =>
        Effect.sync(() => {
          s.online = online
        }),
      service: Effect.sync(() => {
        s.cutterError = false
        s.coverOpen = false
        s.online = true
      }),
      pages: Effect.sync(() => s.pages.toArray()),
      setFault: (knob, spec) => Effect.sync(() => faults.set(knob, spec)),
      snapshot: Effect.sync(() => ({
        online: s.online,
        coverOpen: s.coverOpen,
        cutterError: s.cutterError,
        paperRemainingMm: s.paperMm,
        rollLengthMm,
        printed: s.printed,
        faultsFired: faults.firedCounts()
      }))
    }
    return { port, control }
  })

export const SimPrinterLive = (config: SimPrinterConfig = {}): Layer.Layer<CouponPrinter | SimPrinterControl> =>
  Layer.effectContext(
    Effect.map(makeSimPrinter(config), ({ control, port }) =>
      Context.make(CouponPrinter, port).pipe(Context.add(SimPrinterControl, control)))
  )
