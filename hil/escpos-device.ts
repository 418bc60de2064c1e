import { allClear, DLE, encodeStatusByte, EOT, ESC, GS, LF, type StatusFlags, type StatusQuery } from "./escpos-codec.js"

/**
 * An 80 mm ESC/POS receipt printer as a state machine, with no wire and no clock: bytes go in, the
 * answers to real-time status queries come out, and every cut closes a page that tests and bench
 * engineers can read back (its text lines and QR payloads). Paper is a roll of so many lines, so
 * near-end and paper-out happen by printing; cover, offline and cutter faults are switches.
 *
 * Simplifications, stated: while the printer cannot print (offline for any reason) it discards what
 * it receives instead of buffering it, and marks the page in progress as interrupted. Unknown ESC
 * and GS commands are skipped as two-byte commands.
 */

export interface PrintedPage {
  readonly lines: ReadonlyArray<string>
  readonly qr: ReadonlyArray<string>
  readonly cut: "full" | "partial"
  /** Paper ran out, or the printer went offline, while this page was printing. */
  readonly interrupted: boolean
}

export interface PrinterConfig {
  /** Roll length, in text lines. */
  readonly paperLines: number
  /** At or below this many lines the near-end sensor trips. */
  readonly nearEndLines: number
  /** Paper a printed QR code takes, in text lines. */
  readonly qrLines: number
  /** Pages kept for reading back; older ones are dropped. */
  readonly pagesKept: number
}

export const defaultPrinterConfig: PrinterConfig = { paperLines: 5000, nearEndLines: 300, qrLines: 8, pagesKept: 1000 }

/** Longest command we wait for: a QR store of the largest payload, plus its header. */
const PENDING_BYTES_MAX = 8192

export class EscPosPrinter {
  readonly config: PrinterConfig
  paperLines: number
  coverOpen = false
  /** Offline with no other cause (the panel's online button, a firmware state). */
  forcedOffline = false
  cutterError = false
  unrecoverableError = false
  /** The next cut fails with a cutter error. */
  cutterFailsNext = false
  readonly pages: Array<PrintedPage> = []
  /** Called with each page as it is cut. */
  onPage: (page: PrintedPage) => void = () => {}
  bytesDiscarded = 0
  private lines: Array<string> = []
  private qr: Array<string> = []
  private text: Array<number> = []
  private qrData = ""
  private interrupted = false
  private pending = new Uint8Array(0)

  constructor(config: Partial<PrinterConfig> = {}) {
    this.config = { ...defaultPrinterConfig, ...config }
    this.paperLines = this.config.paperLines
  }

  get paperOut(): boolean {
    return this.paperLines <= 0
  }

  get canPrint(): boolean {
    return !this.coverOpen && !this.forcedOffline && !this.paperOut && !this.cutterError && !this.unrecoverableError
  }

  flags(): StatusFlags {
    const error = this.cutterError || this.unrecoverableError
    return {
      ...allClear,
      offline: !this.canPrint,
      coverOpen: this.coverOpen,
      paperEndStop: this.paperOut,
      errorOccurred: error,
      cutterError: this.cutterError,
      unrecoverableError: this.unrecoverableError,
      paperNearEnd: this.paperLines <= this.config.nearEndLines,
      paperOut: this.paperOut
    }
  }

  /** What the printer has printed on the page not yet cut. */
  get pageInProgress(): PrintedPage {
    return { lines: [...this.lines], qr: [...this.qr], cut: "partial", interrupted: this.interrupted }
  }

  /** Takes bytes off the wire; returns the answers to any status queries among them. */
  feed(chunk: Uint8Array): Array<number> {
    const bytes = this.pending.length === 0 ? chunk : Uint8Array.of(...this.pending, ...chunk)
    const answers: Array<number> = []
    let i = 0
    while (i < bytes.length) {
      const used = this.step(bytes, i, answers)
      if (used === 0) break
      i += used
    }
    this.pending = bytes.slice(i)
    if (this.pending.length > PENDING_BYTES_MAX) {
      // A command that claims more than any real one: drop it rather than grow without bound.
      this.bytesDiscarded += this.pending.length
      this.pending = new Uint8Array(0)
    }
    return answers
  }

  /** Handles the command at `i`; returns the bytes it used, or 0 when it is not complete yet. */
  private step(b: Uint8Array, i: number, answers: Array<number>): number {
    const at = (k: number) => b[i + k]
    const first = at(0) ?? 0
    if (first === DLE) {
      if (at(1) === undefined || at(2) === undefined) return 0
      if (at(1) === EOT && (at(2) ?? 0) >= 1 && (at(2) ?? 0) <= 4) answers.push(encodeStatusByte(at(2) as StatusQuery, this.flags()))
      return 3
    }
    if (first === ESC) {
      const cmd = at(1)
      if (cmd === undefined) return 0
      if (cmd === 0x40) {
        this.reset()
        return 2
      }
      if (cmd === 0x45 || cmd === 0x61 || cmd === 0x21 || cmd === 0x74 || cmd === 0x4d) return at(2) === undefined ? 0 : 3
      if (cmd === 0x64) {
        const n = at(2)
        if (n === undefined) return 0
        this.endLine()
        for (let k = 1; k < n; k++) this.advance(1)
        return 3
      }
      return 2
    }
    if (first === GS) {
      const cmd = at(1)
      if (cmd === undefined) return 0
      if (cmd === 0x28) return at(2) === undefined ? 0 : at(2) === 0x6b ? this.qrCommand(b, i) : 2
      if (cmd === 0x56) {
        const m = at(2)
        if (m === undefined) return 0
        const withFeed = m === 0x41 || m === 0x42
        if (withFeed && at(3) === undefined) return 0
        this.cut(m === 0x00 || m === 0x30 || m === 0x41 ? "full" : "partial")
        return withFeed ? 4 : 3
      }
      return 2
    }
    if (first === LF) {
      this.endLine()
      return 1
    }
    if (first >= 0x20) this.printable(first)
    return 1
  }

  private qrCommand(b: Uint8Array, i: number): number {
    const pL = b[i + 3]
    const pH = b[i + 4]
    if (pL === undefined || pH === undefined) return 0
    const len = pL + 256 * pH
    if (i + 5 + len > b.length) return 0
    const fn = b[i + 6]
    if (fn === 0x50 && len >= 3) this.qrData = String.fromCharCode(...b.subarray(i + 8, i + 5 + len))
    if (fn === 0x51 && this.printing()) {
      this.qr.push(this.qrData)
      this.advance(this.config.qrLines)
    }
    return 5 + len
  }

  private printable(byte: number): void {
    if (!this.printing()) return
    if (this.text.length < 256) this.text.push(byte)
  }

  private endLine(): void {
    if (!this.printing()) return
    this.lines.push(String.fromCharCode(...this.text))
    this.text = []
    this.advance(1)
  }

  private cut(kind: "full" | "partial"): void {
    if (!this.printing()) return
    if (this.text.length > 0) this.endLine()
    if (this.cutterFailsNext) {
      this.cutterFailsNext = false
      this.cutterError = true
      this.interrupted = true
      return
    }
    this.advance(3)
    const page: PrintedPage = { lines: this.lines, qr: this.qr, cut: kind, interrupted: this.interrupted }
    this.pages.push(page)
    if (this.pages.length > this.config.pagesKept) this.pages.shift()
    this.onPage(page)
    this.lines = []
    this.qr = []
    this.interrupted = false
  }

  private reset(): void {
    this.text = []
    this.qrData = ""
  }

  /** True when the printer can put ink on paper now; otherwise the page is marked interrupted. */
  private printing(): boolean {
    if (this.canPrint) return true
    this.interrupted = true
    this.bytesDiscarded += 1
    return false
  }

  private advance(lines: number): void {
    this.paperLines = Math.max(0, this.paperLines - lines)
    if (this.paperOut) this.interrupted = true
  }
}
