import { EscPosPrinter, type PrintedPage, type PrinterConfig } from "./escpos-device.js"
import type { PrinterFaultKind } from "./escpos-faults.js"
import { LinePacer, type Wire } from "./line-pacer.js"
import { byteTimeMs, defaultLine, type LineSettings, type PortBinding, SerialConnection, systemBinding } from "./serial-port.js"

/**
 * An ESC/POS printer on a serial line, for a bench with no printer: the printer model
 * (escpos-device.ts) with wire time per byte at the baud rate, faults on demand, and every printed
 * page kept (and reported through `onPage`). Real time: it runs outside the core.
 */

export interface EscPosEmulatorOptions {
  readonly line: LineSettings
  readonly wireTiming: boolean
  readonly printer: Partial<PrinterConfig>
  readonly faults: ReadonlyArray<PrinterFaultKind>
  readonly onPage: (page: PrintedPage) => void
  readonly log: (line: string) => void
}

export const defaultEscPosEmulatorOptions: EscPosEmulatorOptions = {
  line: defaultLine,
  wireTiming: true,
  printer: {},
  faults: [],
  onPage: () => {},
  log: () => {}
}

export class EscPosEmulator {
  readonly options: EscPosEmulatorOptions
  readonly printer: EscPosPrinter
  /** Powered off or unplugged: takes nothing in, answers nothing. */
  silent = false
  private readonly pacer: LinePacer

  constructor(wire: Wire, options: Partial<EscPosEmulatorOptions> = {}) {
    this.options = { ...defaultEscPosEmulatorOptions, ...options }
    this.pacer = new LinePacer(wire, byteTimeMs(this.options.line), this.options.wireTiming, (error) => this.options.log(`write failed: ${String(error)}`))
    this.printer = new EscPosPrinter(this.options.printer)
    this.printer.onPage = (page) => this.options.onPage(page)
    for (const fault of this.options.faults) this.arm(fault)
  }

  static async open(path: string, options: Partial<EscPosEmulatorOptions> = {}, binding: PortBinding = systemBinding) {
    const line = options.line ?? defaultLine
    const connection = await SerialConnection.open(path, line, binding)
    const emulator = new EscPosEmulator(connection, { ...options, line })
    connection.onData = (chunk) => emulator.receive(chunk)
    connection.onClose = (reason) => {
      if (reason !== undefined) emulator.options.log(`port ${path} went away: ${reason}`)
    }
    return { emulator, close: async () => (emulator.close(), await connection.close()) }
  }

  get pages(): ReadonlyArray<PrintedPage> {
    return this.printer.pages
  }

  arm(kind: PrinterFaultKind): void {
    const p = this.printer
    switch (kind) {
      case "cover-open":
        p.coverOpen = true
        return
      case "offline":
        p.forcedOffline = true
        return
      case "paper-out":
        p.paperLines = 0
        return
      case "near-end":
        p.paperLines = Math.min(p.paperLines, p.config.nearEndLines)
        return
      case "cutter":
        p.cutterFailsNext = true
        return
      case "unrecoverable":
        p.unrecoverableError = true
        return
      case "silent":
        this.silent = true
        return
    }
  }

  /** Clears every fault and loads a new roll: what an engineer does at the printer. */
  recover(): void {
    const p = this.printer
    p.coverOpen = false
    p.forcedOffline = false
    p.cutterError = false
    p.cutterFailsNext = false
    p.unrecoverableError = false
    p.paperLines = p.config.paperLines
    this.silent = false
  }

  close(): void {
    this.pacer.close()
  }

  receive(chunk: Uint8Array): void {
    if (this.silent) return
    this.pacer.receive(chunk, (c) => {
      if (this.silent) return
      const answers = this.printer.feed(c)
      if (answers.length > 0) this.pacer.transmit(Uint8Array.from(answers))
    })
  }
}
