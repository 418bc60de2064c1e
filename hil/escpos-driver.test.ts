import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { PrintedCoupon } from "../core/ports/coupon-printer.js"
import { escposRig, type Wiring } from "./testing/fixtures.js"
import { availableWirings } from "./testing/socat.js"

/**
 * The ESC/POS driver against the printer emulator, in process and through a socat pty pair: status
 * is read from the four real-time answers, a coupon prints with its code as text and QR, every fault
 * is the right typed error, and silence is Offline.
 */

const coupon: PrintedCoupon = {
  code: "7K3M-Q9RT-2XWB",
  title: "Americano",
  merchantName: "Cafe Gwanghwamun",
  valuePoints: 4500,
  expiresAt: "2026-12-31",
  lines: ["Show this coupon at the counter"]
}

const wirings: ReadonlyArray<Wiring> = availableWirings

describe.each(wirings)("ESC/POS driver against the emulator (%s)", (wiring) => {
  const rig = (options: Parameters<typeof escposRig>[0] = {}) => escposRig({ wiring, ...options })

  it.scopedLive("reads an all-clear status and prints a coupon with its code as text and QR", () =>
    Effect.gen(function* () {
      const { printer, emulator } = yield* rig()
      expect(yield* printer.status).toEqual({ online: true, coverOpen: false, paper: "ok", cutterError: false, unrecoverableError: false })
      yield* printer.print(coupon)
      expect(emulator.pages).toHaveLength(1)
      expect(emulator.pages[0]?.lines).toContain("7K3M-Q9RT-2XWB")
      expect(emulator.pages[0]?.lines[0]).toBe("Americano")
      expect(emulator.pages[0]?.qr).toEqual(["7K3M-Q9RT-2XWB"])
      expect(emulator.pages[0]?.interrupted).toBe(false)
    })
  )

  it.scopedLive("refuses to print, with the specific error, when status forbids it", () =>
    Effect.gen(function* () {
      const { printer, emulator } = yield* rig()
      const cases = [
        ["cover-open", "CoverOpen"],
        ["paper-out", "PaperOut"],
        ["offline", "Offline"],
        ["unrecoverable", "PrinterFault"]
      ] as const
      for (const [fault, tag] of cases) {
        emulator.arm(fault)
        expect((yield* Effect.flip(printer.print(coupon)))._tag, fault).toBe(tag)
        emulator.recover()
      }
      expect(emulator.pages).toHaveLength(0)
      emulator.arm("cover-open")
      expect(yield* printer.status).toMatchObject({ online: false, coverOpen: true })
    })
  )

  it.scopedLive("reports paper near end without failing, and paper running out during a print", () =>
    Effect.gen(function* () {
      const { printer, emulator } = yield* rig({ emulator: { printer: { paperLines: 30, nearEndLines: 15 } } })
      yield* printer.print(coupon)
      expect((yield* printer.status).paper).toBe("near-end")
      expect((yield* Effect.flip(printer.print(coupon)))._tag).toBe("PaperOut")
      expect(emulator.printer.pageInProgress.interrupted).toBe(true)
    })
  )

  it.scopedLive("reports a cutter error that happens while printing", () =>
    Effect.gen(function* () {
      const { printer, emulator } = yield* rig()
      emulator.arm("cutter")
      expect(yield* Effect.flip(printer.print(coupon))).toMatchObject({ _tag: "PrinterFault", kind: "cutter" })
      expect((yield* printer.status).cutterError).toBe(true)
    })
  )

  it.scopedLive("treats silence as Offline, never as all-clear", () =>
    Effect.gen(function* () {
      const { printer, emulator } = yield* rig()
      emulator.arm("silent")
      const error = yield* Effect.flip(printer.status)
      expect(error._tag).toBe("Offline")
      expect(error.message).toContain("no answer to DLE EOT 1")
      expect((yield* Effect.flip(printer.print(coupon)))._tag).toBe("Offline")
      expect(emulator.pages).toHaveLength(0)
    })
  )
})
