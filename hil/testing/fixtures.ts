import { Effect, type Scope } from "effect"
import type { CardUnitService } from "../../core/ports/card-unit.js"
import type { CouponPrinterService } from "../../core/ports/coupon-printer.js"
import type { Offline } from "../../core/ports/hardware-errors.js"
import { type Crt591Timing, deviceName, makeCardUnit } from "../crt591-driver.js"
import { Crt591Emulator, type Crt591EmulatorOptions } from "../crt591-emulator.js"
import { type Crt591Link, type Crt591LinkOptions, defaultLinkOptions, makeCrt591Link } from "../crt591-link.js"
import { type EscPosTiming, makeCouponPrinter, printerDeviceName } from "../escpos-driver.js"
import { EscPosEmulator, type EscPosEmulatorOptions } from "../escpos-emulator.js"
import { makeMockPair } from "../mock-pair.js"
import { type PtyError, ptyPair } from "../pty.js"
import type { PortBinding } from "../serial-port.js"
import { openLink } from "../serial-transport.js"

/**
 * Test fixtures: a driver wired to an emulator, over `@serialport/binding-mock` in-process ("mock")
 * or over a socat pty pair ("pty"). Fast mechanical timing by default, so a suite of dozens of
 * exchanges takes well under a second.
 */

export type Wiring = "mock" | "pty"

export const fastDevice = { initMs: 5, moveMs: 10, rfMs: 1 } as const
export const fastTiming: Crt591Timing = { moveTimeoutMs: 2000, replyTimeoutMs: 1000, pollIntervalMs: 10 }
export const fastLink: Crt591LinkOptions = { ...defaultLinkOptions, ackTimeoutMs: 200, interByteTimeoutMs: 20 }

export interface Rig {
  readonly unit: CardUnitService
  readonly crt: Crt591Link
  readonly emulator: Crt591Emulator
  readonly driverPath: string
  readonly emulatorPath: string
  readonly binding: PortBinding | undefined
}

export interface RigOptions {
  readonly wiring?: Wiring
  readonly emulator?: Partial<Crt591EmulatorOptions>
  readonly link?: Partial<Crt591LinkOptions>
  readonly timing?: Partial<Crt591Timing>
}

/** Two ends of a line: the driver opens `a`, the emulator `b`. */
export const wires = (wiring: Wiring): Effect.Effect<{ a: string; b: string; binding: PortBinding | undefined }, PtyError, Scope.Scope> =>
  wiring === "mock"
    ? Effect.sync(() => {
        const pair = makeMockPair("rig")
        return { a: pair.pathA, b: pair.pathB, binding: pair.binding }
      })
    : Effect.map(ptyPair(), (pair) => ({ a: pair.pathA, b: pair.pathB, binding: undefined }))

export const crt591Rig = (options: RigOptions = {}): Effect.Effect<Rig, Offline | PtyError, Scope.Scope> =>
  Effect.gen(function* () {
    const { a, b, binding } = yield* wires(options.wiring ?? "mock")
    const emulatorOptions: Partial<Crt591EmulatorOptions> = {
      wireTiming: false,
      userTakesAfterMs: 30,
      interByteTimeoutMs: 20,
      hostAckTimeoutMs: 100,
      ...options.emulator,
      device: { ...fastDevice, ...options.emulator?.device }
    }
    const { emulator } = yield* Effect.acquireRelease(
      Effect.promise(() => Crt591Emulator.open(b, emulatorOptions, binding)),
      (opened) => Effect.promise(() => opened.close())
    )
    const device = deviceName(a)
    const serial = yield* openLink({ path: a, device, ...(binding === undefined ? {} : { binding }) })
    const crt = yield* makeCrt591Link(serial, device, { ...fastLink, ...options.link })
    const unit = makeCardUnit(crt, { ...fastTiming, ...options.timing })
    return { unit, crt, emulator, driverPath: a, emulatorPath: b, binding }
  })

export interface PrinterRig {
  readonly printer: CouponPrinterService
  readonly emulator: EscPosEmulator
}

/** The ESC/POS driver wired to the printer emulator, with short status and settle times. */
export const escposRig = (
  options: { readonly wiring?: Wiring; readonly emulator?: Partial<EscPosEmulatorOptions>; readonly timing?: Partial<EscPosTiming> } = {}
): Effect.Effect<PrinterRig, Offline | PtyError, Scope.Scope> =>
  Effect.gen(function* () {
    const { a, b, binding } = yield* wires(options.wiring ?? "mock")
    const { emulator } = yield* Effect.acquireRelease(
      Effect.promise(() => EscPosEmulator.open(b, { wireTiming: false, ...options.emulator }, binding)),
      (opened) => Effect.promise(() => opened.close())
    )
    const device = printerDeviceName(a)
    const serial = yield* openLink({ path: a, device, ...(binding === undefined ? {} : { binding }) })
    const printer = yield* makeCouponPrinter(serial, device, { statusTimeoutMs: 500, printSettleMs: 5, ...options.timing })
    return { printer, emulator }
  })
