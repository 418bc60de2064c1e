import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { PrintedCoupon } from "../core/ports/coupon-printer.js"
import {
  asciiEncoding,
  decodeStatusBytes,
  encodeCoupon,
  encodeStatusByte,
  isStatusByte,
  printerStatus,
  qrStore,
  type StatusFlags,
  statusQueries,
  statusRequest
} from "./escpos-codec.js"
import { EscPosPrinter } from "./escpos-device.js"

const flags: fc.Arbitrary<StatusFlags> = fc.record({
  offline: fc.boolean(),
  coverOpen: fc.boolean(),
  paperEndStop: fc.boolean(),
  errorOccurred: fc.boolean(),
  recoverableError: fc.boolean(),
  cutterError: fc.boolean(),
  unrecoverableError: fc.boolean(),
  autoRecoverableError: fc.boolean(),
  paperNearEnd: fc.boolean(),
  paperOut: fc.boolean()
})

const coupon: PrintedCoupon = {
  code: "7K3M-Q9RT-2XWB",
  title: "Americano",
  merchantName: "Cafe Gwanghwamun",
  valuePoints: 4500,
  expiresAt: "2026-12-31",
  lines: ["Show this coupon at the counter", "One per visit"]
}

describe("ESC/POS codec", () => {
  it("asks for status with DLE EOT n", () => {
    expect(Array.from(statusRequest(1))).toEqual([0x10, 0x04, 0x01])
    expect(Array.from(statusRequest(4))).toEqual([0x10, 0x04, 0x04])
  })

  it("round-trips every status flag through the four answer bytes, fixed bits always set", () => {
    fc.assert(
      fc.property(flags, (f) => {
        const answers = statusQueries.map((n) => encodeStatusByte(n, f))
        for (const a of answers) expect(isStatusByte(a)).toBe(true)
        const [b1 = 0, b2 = 0, b3 = 0, b4 = 0] = answers
        expect(decodeStatusBytes([b1, b2, b3, b4])).toEqual(f)
      })
    )
    expect(statusQueries.map((n) => encodeStatusByte(n, decodeStatusBytes([0x12, 0x12, 0x12, 0x12])))).toEqual([0x12, 0x12, 0x12, 0x12])
  })

  it("reads the page's bits: offline, cover open, paper end, cutter, near end, out", () => {
    const f = decodeStatusBytes([0x12 | 0x08, 0x12 | 0x04 | 0x20, 0x12 | 0x08, 0x12 | 0x0c | 0x60])
    expect(printerStatus(f)).toEqual({ online: false, coverOpen: true, paper: "out", cutterError: true, unrecoverableError: false })
    // One sensor of a pair is enough.
    expect(decodeStatusBytes([0x12, 0x12, 0x12, 0x12 | 0x04]).paperNearEnd).toBe(true)
    expect(decodeStatusBytes([0x12, 0x12, 0x12, 0x12 | 0x40]).paperOut).toBe(true)
  })

  it("tells a status answer from line noise by its fixed bits", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (b) => {
        expect(isStatusByte(b)).toBe((b & 0x93) === 0x12)
      })
    )
    expect(isStatusByte(0x00)).toBe(false)
    expect(isStatusByte(0xff)).toBe(false)
  })

  it("sizes the QR store command as the page says: pL + 256 pH = len + 3", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) => {
        const cmd = qrStore(data)
        expect((cmd[3] ?? 0) + 256 * (cmd[4] ?? 0)).toBe(data.length + 3)
        expect(Array.from(cmd.subarray(0, 3))).toEqual([0x1d, 0x28, 0x6b])
        expect(Array.from(cmd.subarray(5, 8))).toEqual([0x31, 0x50, 0x30])
      })
    )
  })

  it("prints a coupon that the printer model reads back: text lines, code, QR payload, one cut", () => {
    const printer = new EscPosPrinter()
    printer.feed(encodeCoupon(coupon))
    expect(printer.pages).toHaveLength(1)
    const page = printer.pages[0]
    expect(page?.lines).toEqual([
      "Americano",
      "Cafe Gwanghwamun",
      "4500 points",
      "valid until 2026-12-31",
      "Show this coupon at the counter",
      "One per visit",
      "7K3M-Q9RT-2XWB",
      ""
    ])
    expect(page?.qr).toEqual(["7K3M-Q9RT-2XWB"])
    expect(page?.cut).toBe("partial")
  })

  it("reads a coupon split into arbitrary chunks the same way", () => {
    const job = encodeCoupon(coupon)
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: job.length }), { maxLength: 12 }), (cuts) => {
        const printer = new EscPosPrinter()
        const points = [...new Set(cuts)].sort((a, b) => a - b)
        let from = 0
        for (const p of [...points, job.length]) {
          printer.feed(job.subarray(from, p))
          from = p
        }
        expect(printer.pages[0]?.qr).toEqual(["7K3M-Q9RT-2XWB"])
        expect(printer.pages[0]?.lines[0]).toBe("Americano")
      })
    )
  })

  it("prints characters outside the code page as '?', and never lets a newline split a line", () => {
    expect(String.fromCharCode(...asciiEncoding("카페 Cafe"))).toBe("?? Cafe")
    const printer = new EscPosPrinter()
    printer.feed(encodeCoupon({ ...coupon, title: "two\nlines" }))
    expect(printer.pages[0]?.lines[0]).toBe("two lines")
  })

  it("never throws on random bytes, answers status queries among them, and stays bounded", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 6 }), (chunks) => {
        const printer = new EscPosPrinter({ paperLines: 50 })
        for (const c of chunks) for (const a of printer.feed(c)) expect(isStatusByte(a)).toBe(true)
        expect(printer.pages.length).toBeLessThanOrEqual(1000)
      })
    )
  })

  it("runs out of paper by printing: near end first, then out, and the page is marked interrupted", () => {
    const printer = new EscPosPrinter({ paperLines: 35, nearEndLines: 25 })
    printer.feed(encodeCoupon(coupon))
    expect(printer.flags()).toMatchObject({ paperNearEnd: true, paperOut: false, offline: false })
    printer.feed(encodeCoupon(coupon))
    printer.feed(encodeCoupon(coupon))
    expect(printer.flags()).toMatchObject({ paperOut: true, offline: true, paperEndStop: true })
    expect(printer.pages).toHaveLength(1)
    expect(printer.pageInProgress.interrupted).toBe(true)
  })
})
