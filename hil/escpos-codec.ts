import type { PrintedCoupon, PrinterStatus } from "../core/ports/coupon-printer.js"
import { concatBytes } from "./bytes.js"

/**
 * The ESC/POS subset of shared/protocols/escpos.md: the bytes of a printed coupon, and the real-time
 * status query `DLE EOT n` with its one-byte answers. Pure; the driver and the emulator share it.
 */

export const ESC = 0x1b
export const GS = 0x1d
export const DLE = 0x10
export const EOT = 0x04
export const LF = 0x0a

export type StatusQuery = 1 | 2 | 3 | 4
export const statusQueries: ReadonlyArray<StatusQuery> = [1, 2, 3, 4]

export const statusRequest = (n: StatusQuery): Uint8Array => Uint8Array.of(DLE, EOT, n)

/** Bits 1 and 4 are always set in an answer, bits 0 and 7 always clear: all clear is 0x12. */
export const isStatusByte = (byte: number): boolean => (byte & 0b1001_0011) === 0b0001_0010

const bit = (byte: number, n: number) => (byte & (1 << n)) !== 0

/** The flags the four answers carry, as the protocol page names them. */
export interface StatusFlags {
  readonly offline: boolean
  readonly coverOpen: boolean
  readonly paperEndStop: boolean
  readonly errorOccurred: boolean
  readonly recoverableError: boolean
  readonly cutterError: boolean
  readonly unrecoverableError: boolean
  readonly autoRecoverableError: boolean
  readonly paperNearEnd: boolean
  readonly paperOut: boolean
}

export const allClear: StatusFlags = {
  offline: false,
  coverOpen: false,
  paperEndStop: false,
  errorOccurred: false,
  recoverableError: false,
  cutterError: false,
  unrecoverableError: false,
  autoRecoverableError: false,
  paperNearEnd: false,
  paperOut: false
}

export const encodeStatusByte = (n: StatusQuery, f: StatusFlags): number => {
  const set = (on: boolean, ...bits: ReadonlyArray<number>) => (on ? bits.reduce((b, i) => b | (1 << i), 0) : 0)
  const fixed = 0b0001_0010
  switch (n) {
    case 1:
      return fixed | set(f.offline, 3)
    case 2:
      return fixed | set(f.coverOpen, 2) | set(f.paperEndStop, 5) | set(f.errorOccurred, 6)
    case 3:
      return fixed | set(f.recoverableError, 2) | set(f.cutterError, 3) | set(f.unrecoverableError, 5) | set(f.autoRecoverableError, 6)
    case 4:
      return fixed | set(f.paperNearEnd, 2, 3) | set(f.paperOut, 5, 6)
  }
}

/** Reads the four answers (to n = 1, 2, 3, 4, in that order). */
export const decodeStatusBytes = (answers: readonly [number, number, number, number]): StatusFlags => {
  const [b1, b2, b3, b4] = answers
  return {
    offline: bit(b1, 3),
    coverOpen: bit(b2, 2),
    paperEndStop: bit(b2, 5),
    errorOccurred: bit(b2, 6),
    recoverableError: bit(b3, 2),
    cutterError: bit(b3, 3),
    unrecoverableError: bit(b3, 5),
    autoRecoverableError: bit(b3, 6),
    // Either bit of a pair counts: printers with one sensor set only one of them.
    paperNearEnd: bit(b4, 2) || bit(b4, 3),
    paperOut: bit(b4, 5) || bit(b4, 6)
  }
}

export const printerStatus = (f: StatusFlags): PrinterStatus => ({
  online: !f.offline,
  coverOpen: f.coverOpen,
  paper: f.paperOut || f.paperEndStop ? "out" : f.paperNearEnd ? "near-end" : "ok",
  cutterError: f.cutterError,
  unrecoverableError: f.unrecoverableError
})

// ---- printing -------------------------------------------------------------------------------------

export const init = Uint8Array.of(ESC, 0x40)
export const bold = (on: boolean) => Uint8Array.of(ESC, 0x45, on ? 1 : 0)
export const align = (how: "left" | "centre") => Uint8Array.of(ESC, 0x61, how === "centre" ? 1 : 0)
export const qrModel2 = Uint8Array.of(GS, 0x28, 0x6b, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00)
export const qrModuleSize = (n: number) => Uint8Array.of(GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, Math.min(16, Math.max(1, n)))
export const qrErrorCorrection = (level: "L" | "M" | "Q" | "H") => Uint8Array.of(GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x45, 0x30 + "LMQH".indexOf(level))
export const qrPrint = Uint8Array.of(GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x51, 0x30)
/** Feed `lines` then a partial cut (most kiosk printers leave a tab so the coupon does not fall). */
export const feedAndCut = (lines: number, cut: "full" | "partial") => Uint8Array.of(GS, 0x56, cut === "full" ? 0x41 : 0x42, lines)

/** The largest QR model 2 payload (numeric mode, version 40, level L); real payloads are far shorter. */
export const QR_DATA_MAX = 7089

export const qrStore = (data: Uint8Array): Uint8Array => {
  if (data.length > QR_DATA_MAX) throw new RangeError(`QR payload of ${data.length} bytes exceeds ${QR_DATA_MAX}`)
  const len = data.length + 3
  return Uint8Array.of(GS, 0x28, 0x6b, len & 0xff, len >> 8, 0x31, 0x50, 0x30, ...data)
}

/**
 * Text as bytes of the printer's code page. The default keeps printable ASCII and prints anything
 * else as '?': a Korean or Japanese deployment supplies the encoder for its printer's code page.
 */
export type TextEncoding = (text: string) => Uint8Array
export const asciiEncoding: TextEncoding = (text) =>
  Uint8Array.from(text, (c) => {
    const code = c.charCodeAt(0)
    return code >= 0x20 && code < 0x7f ? code : 0x3f
  })

export interface CouponLayout {
  readonly encodeText: TextEncoding
  readonly qrModuleSize: number
  readonly feedLines: number
  readonly cut: "full" | "partial"
}

export const defaultLayout: CouponLayout = { encodeText: asciiEncoding, qrModuleSize: 6, feedLines: 4, cut: "partial" }


/** The whole print job for one coupon: header, lines, the code as text and as a QR, cut. */
export const encodeCoupon = (coupon: PrintedCoupon, layout: CouponLayout = defaultLayout): Uint8Array => {
  const line = (text: string) => concatBytes([layout.encodeText(text.replace(/[\r\n]+/g, " ")), Uint8Array.of(LF)])
  return concatBytes([
    init,
    align("centre"),
    bold(true),
    line(coupon.title),
    bold(false),
    line(coupon.merchantName),
    line(`${coupon.valuePoints} points`),
    line(`valid until ${coupon.expiresAt}`),
    align("left"),
    ...coupon.lines.map(line),
    align("centre"),
    bold(true),
    line(coupon.code),
    bold(false),
    qrModel2,
    qrModuleSize(layout.qrModuleSize),
    qrErrorCorrection("M"),
    qrStore(layout.encodeText(coupon.code)),
    qrPrint,
    Uint8Array.of(LF),
    feedAndCut(layout.feedLines, layout.cut)
  ])
}
