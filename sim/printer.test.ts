import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { CouponPrinter, type PrintedCoupon } from "../core/ports/coupon-printer.js"
import { always, at, window } from "./faults.js"
import { type SimPrinterConfig, SimPrinterControl, SimPrinterLive } from "./printer.js"
import { advancing } from "./testing.js"

const coupon: PrintedCoupon = {
  code: "7K3M-Q9RT-2XWB",
  title: "Americano",
  merchantName: "Cafe One",
  valuePoints: 4500,
  expiresAt: "2026-12-31",
  lines: ["one line", "another"]
}
/** 60 fixed + 4 mm x (5 standard + 2 own) lines. */
const pageMm = 88

const withPrinter = <A, E>(body: Effect.Effect<A, E, CouponPrinter | SimPrinterControl>, config: SimPrinterConfig = {}) =>
  advancing(body).pipe(Effect.provide(SimPrinterLive({ seed: 1, ...config })))

const tagOf = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (e) => e._tag)

describe("sim printer", () => {
  it.effect("prints a page, keeps it, uses its length of paper and its print time", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.gen(function*() {
          const printer = yield* CouponPrinter
          const control = yield* SimPrinterControl
          yield* printer.print(coupon)
          return [yield* control.pages, yield* control.snapshot] as const
        }).pipe(Effect.provide(SimPrinterLive({ seed: 1, printMsPerMm: 5 })))
      )
      yield* TestClock.adjust(pageMm * 5 - 1)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      const [pages, snapshot] = yield* Fiber.join(fiber)
      expect(pages).toEqual([{ coupon, atMs: pageMm * 5, lengthMm: pageMm, complete: true, cut: true }])
      expect([snapshot.printed, snapshot.paperRemainingMm]).toEqual([1, 80_000 - pageMm])
    }))

  it.effect("paper goes near-end, then runs out mid-page: a short page and PaperOut; a new roll fixes it", () =>
    withPrinter(Effect.gen(function*() {
      const printer = yield* CouponPrinter
      const control = yield* SimPrinterControl
      expect((yield* printer.status).paper).toBe("near-end")
      yield* printer.print(coupon)
      const error = yield* Effect.flip(printer.print(coupon))
      expect(error._tag).toBe("PaperOut")
      expect(error.message).toContain("load a new roll")
      expect((yield* control.pages).map((p) => p.complete)).toEqual([true, false])
      expect((yield* printer.status).paper).toBe("out")
      expect(yield* tagOf(printer.print(coupon))).toBe("PaperOut")
      yield* control.loadPaper()
      expect((yield* printer.status).paper).toBe("ok")
      yield* printer.print(coupon)
    }), { paperMm: pageMm + 10, nearEndMm: 1_000 }))

  it.effect("cover open: CoverOpen until closed; a window shows in status", () =>
    Effect.gen(function*() {
      yield* withPrinter(Effect.gen(function*() {
        const printer = yield* CouponPrinter
        const control = yield* SimPrinterControl
        yield* control.setCoverOpen(true)
        expect((yield* printer.status).coverOpen).toBe(true)
        expect(yield* tagOf(printer.print(coupon))).toBe("CoverOpen")
        yield* control.setCoverOpen(false)
        yield* printer.print(coupon)
      }))
      yield* withPrinter(Effect.gen(function*() {
        const printer = yield* CouponPrinter
        expect((yield* printer.status).coverOpen).toBe(false)
        yield* Effect.sleep(60_000)
        expect((yield* printer.status).coverOpen).toBe(true)
        expect(yield* tagOf(printer.print(coupon))).toBe("CoverOpen")
        yield* Effect.sleep(60_000)
        yield* printer.print(coupon)
      }), { faults: { "printer.coverOpen": window(60_000, 120_000) } })
    }))

  it.effect("offline: Offline on print, online false in status", () =>
    withPrinter(Effect.gen(function*() {
      const printer = yield* CouponPrinter
      const control = yield* SimPrinterControl
      expect(yield* tagOf(printer.print(coupon))).toBe("Offline")
      yield* control.setFault("printer.offline", { _tag: "Never" })
      yield* control.setOnline(false)
      expect((yield* printer.status).online).toBe(false)
      expect(yield* tagOf(printer.print(coupon))).toBe("Offline")
      yield* control.setOnline(true)
      yield* printer.print(coupon)
    }), { faults: { "printer.offline": at(1) } }))

  it.effect("cutter: PrinterFault cutter, latched until serviced", () =>
    withPrinter(Effect.gen(function*() {
      const printer = yield* CouponPrinter
      const control = yield* SimPrinterControl
      const error = yield* Effect.flip(printer.print(coupon))
      expect(error._tag === "PrinterFault" && error.kind).toBe("cutter")
      expect((yield* printer.status).cutterError).toBe(true)
      expect(yield* tagOf(printer.print(coupon))).toBe("PrinterFault")
      yield* control.service
      yield* printer.print(coupon)
      expect((yield* control.pages).map((p) => p.cut)).toEqual([false, true])
      expect((yield* control.snapshot).faultsFired).toEqual({ "printer.cutter": 1 })
    }), { faults: { "printer.cutter": at(1) } }))

  it.effect("printer.paperOut: PaperOut with paper left", () =>
    withPrinter(Effect.gen(function*() {
      const printer = yield* CouponPrinter
      expect(yield* tagOf(printer.print(coupon))).toBe("PaperOut")
      expect((yield* printer.status).paper).toBe("out")
    }), { faults: { "printer.paperOut": always } }))
})
