import { Context, type Effect } from "effect"
import type { CoverOpen, LinkTimeout, Offline, PaperOut, PrinterFault } from "./hardware-errors.js"

/** The kiosk's thermal receipt printer (ESC/POS class): paper is the fallback medium. */

export interface PrinterStatus {
  readonly online: boolean
  readonly coverOpen: boolean
  readonly paper: "ok" | "near-end" | "out"
  readonly cutterError: boolean
  readonly unrecoverableError: boolean
}

/** What goes on one printed coupon. All strings are plain text; the code is also printed as a QR. */
export interface PrintedCoupon {
  readonly code: string
  readonly title: string
  readonly merchantName: string
  readonly valuePoints: number
  readonly expiresAt: string
  readonly lines: ReadonlyArray<string>
}

export type PrinterError = PaperOut | CoverOpen | Offline | PrinterFault | LinkTimeout

export interface CouponPrinterService {
  readonly status: Effect.Effect<PrinterStatus, PrinterError>
  /** Checks status, prints the coupon with its code as text and QR, cuts, checks status again. */
  readonly print: (coupon: PrintedCoupon) => Effect.Effect<void, PrinterError>
}

export class CouponPrinter extends Context.Tag("ecoupon/CouponPrinter")<CouponPrinter, CouponPrinterService>() {}
