import {
  asciiBytes,
  BinCounterPm,
  Cm,
  type Command,
  encodeStatus,
  FrontEntryPm,
  InitPm,
  MovePm,
  type Position,
  type Reply,
  RfPm,
  type Stacker,
  StatusPm
} from "./crt591-codec.js"
import { decodeMifareOp, encodeActivation, Sw, withStatusWord } from "./crt591-rf.js"
import { blankCard, type MifareCard } from "./mifare-card.js"

/**
 * The CRT-591 as a state machine, with no wire and no clock: a command goes in, the reply and the
 * mechanical time it took come out. The emulator (crt591-emulator.ts) puts it on a serial line.
 * Where the manual leaves a behaviour open the choice is written beside it.
 */

export interface DeviceConfig {
  readonly stackerCards: number
  /** At or below this many cards the stacker reports pre-empty ("low"). */
  readonly stackerLowAt: number
  readonly binCapacity: number
  readonly binCards: number
  readonly firmware: string
  readonly serialNumber: string
  /** Seeds the UIDs of the blank cards in the stacker. */
  readonly uidSeed: number
  readonly initMs: number
  readonly moveMs: number
  readonly rfMs: number
  /**
   * Until the first Init, answer every other command (status, counters, version queries included)
   * with B0 "not initialised", as some units do right after power-on. Off: status and the query
   * commands answer before Init, as the manual's examples show.
   */
  readonly refusesBeforeInit: boolean
}

export const defaultDeviceConfig: DeviceConfig = {
  stackerCards: 50,
  stackerLowAt: 5,
  binCapacity: 100,
  binCards: 0,
  firmware: "CRT-591-EMU V1.00",
  serialNumber: "EMU0000001",
  uidSeed: 1,
  initMs: 800,
  moveMs: 400,
  rfMs: 20,
  refusesBeforeInit: false
}

/** Mechanical faults armed on the device: each fires once, on the Nth command of its kind. */
export interface DeviceFaults {
  /** The Nth move (counting every Move command since power-on) jams; moves fail until Init. */
  jamAtMove?: number | undefined
  /** The Nth command of any kind answers "12" sensor failure. */
  sensorAtCommand?: number | undefined
}

export interface Outcome {
  readonly reply: Reply
  readonly busyMs: number
}

export class Crt591Device {
  readonly config: DeviceConfig
  stackerCards: number
  binCards: number
  position: Position = "none"
  card: MifareCard | undefined
  frontEntry = false
  initialised = false
  jammed = false
  faults: DeviceFaults = {}
  commands = 0
  moves = 0
  private dispensed = 0
  /** The sector authenticated on the activated card, if any. */
  private rf: { readonly activated: boolean; readonly sector: number | undefined } = { activated: false, sector: undefined }

  constructor(config: Partial<DeviceConfig> = {}) {
    this.config = { ...defaultDeviceConfig, ...config }
    this.stackerCards = this.config.stackerCards
    this.binCards = this.config.binCards
  }

  get stacker(): Stacker {
    return this.stackerCards === 0 ? "empty" : this.stackerCards <= this.config.stackerLowAt ? "low" : "ok"
  }

  get binFull(): boolean {
    return this.binCards >= this.config.binCapacity
  }

  execute(command: Command): Outcome {
    this.commands += 1
    const positive = (data: Uint8Array = new Uint8Array(0), busyMs = 0): Outcome => ({
      reply: {
        _tag: "Positive",
        address: command.address,
        cm: command.cm,
        pm: command.pm,
        status: encodeStatus({ position: this.position, stacker: this.stacker, binFull: this.binFull }),
        data
      },
      busyMs
    })
    const negative = (code: string, busyMs = 0): Outcome => ({
      reply: { _tag: "Negative", address: command.address, cm: command.cm, pm: command.pm, code },
      busyMs
    })

    if (this.faults.sensorAtCommand === this.commands) {
      this.faults.sensorAtCommand = undefined
      return negative("12")
    }
    if (this.config.refusesBeforeInit && !this.initialised && command.cm !== Cm.init) return negative("B0")
    switch (command.cm) {
      case Cm.init:
        return this.init(command.pm, positive, negative)
      case Cm.status:
        if (command.pm === StatusPm.basic) return positive()
        if (command.pm === StatusPm.sensors) return positive(asciiBytes(this.sensors()))
        return negative("01")
      case Cm.move:
        if (!this.initialised) return negative("B0")
        return this.move(command.pm, positive, negative)
      case Cm.frontEntry:
        if (!this.initialised) return negative("B0")
        if (command.pm !== FrontEntryPm.enable && command.pm !== FrontEntryPm.disable) return negative("01")
        this.frontEntry = command.pm === FrontEntryPm.enable
        return positive()
      case Cm.rf:
        if (!this.initialised) return negative("B0")
        return this.rfCommand(command, positive, negative)
      case Cm.serialNumber:
        return command.pm === 0x30 ? positive(asciiBytes(this.config.serialNumber)) : negative("01")
      case Cm.firmware:
        return command.pm === 0x30 ? positive(asciiBytes(this.config.firmware)) : negative("01")
      case Cm.binCounter:
        if (command.pm === BinCounterPm.read) return positive(asciiBytes(String(Math.min(this.binCards, 999)).padStart(3, "0")))
        if (command.pm === BinCounterPm.set) {
          const text = String.fromCharCode(...command.data)
          if (!/^[0-9]{3}$/.test(text)) return negative("04")
          this.binCards = Number.parseInt(text, 10)
          return positive()
        }
        return negative("01")
      default:
        return negative("00")
    }
  }

  /** The user takes the card at the gate; returns it, or undefined when there is none. */
  take(): MifareCard | undefined {
    if (this.position !== "gate") return undefined
    const card = this.card
    this.card = undefined
    this.position = "none"
    return card
  }

  /** A card pushed into the gate. Refused (false) when front entry is off or the unit holds a card. */
  insert(card: MifareCard): boolean {
    if (!this.frontEntry || this.position !== "none") return false
    this.card = card
    this.position = "gate"
    return true
  }

  /** The transport carries an inserted card from the gate to the RF position. */
  carryInserted(): void {
    if (this.frontEntry && this.position === "gate") this.position = "rf"
  }

  private init(pm: number, positive: (d?: Uint8Array, ms?: number) => Outcome, negative: (c: string, ms?: number) => Outcome): Outcome {
    // 0x34/0x35/0x37 are 0x30/0x31/0x33 "with the capture counter"; the emulator always counts.
    const mode = pm === InitPm.hold || pm === 0x34 ? "hold" : pm === InitPm.capture || pm === 0x35 ? "capture" : pm === InitPm.leave || pm === 0x37 ? "leave" : undefined
    if (mode === undefined) return negative("01")
    const ms = this.config.initMs
    this.jammed = false
    this.initialised = true
    this.frontEntry = false
    this.rf = { activated: false, sector: undefined }
    if (this.card !== undefined) {
      // A card at the gate counts as "in the transport": hold pulls it back in, capture bins it.
      if (mode === "capture") {
        if (this.binFull) return negative("A1", ms)
        this.binCards += 1
        this.card = undefined
        this.position = "none"
      } else if (mode === "hold") {
        this.position = "rf"
      }
    }
    return positive(asciiBytes(this.config.firmware), ms)
  }

  private move(pm: number, positive: (d?: Uint8Array, ms?: number) => Outcome, negative: (c: string, ms?: number) => Outcome): Outcome {
    const ms = this.config.moveMs
    if (pm !== MovePm.hold && pm !== MovePm.ic && pm !== MovePm.rf && pm !== MovePm.capture && pm !== MovePm.gate) return negative("01")
    this.moves += 1
    this.rf = { activated: false, sector: undefined }
    if (this.jammed) return negative("10", ms)
    if (this.faults.jamAtMove === this.moves) {
      this.faults.jamAtMove = undefined
      this.jammed = true
      return negative("10", ms)
    }
    if (pm === MovePm.capture) {
      if (this.card === undefined) return negative("02")
      if (this.binFull) return negative("A1")
      this.binCards += 1
      this.card = undefined
      this.position = "none"
      return positive(undefined, ms)
    }
    if (this.card === undefined) {
      if (this.stackerCards === 0) return negative("A0")
      this.stackerCards -= 1
      this.card = blankCard(this.config.uidSeed, this.dispensed)
      this.dispensed += 1
    }
    // Holding, IC and RF positions are all "inside the transport" to the status bytes (ST0 '2').
    this.position = pm === MovePm.gate ? "gate" : "rf"
    return positive(undefined, ms)
  }

  private rfCommand(command: Command, positive: (d?: Uint8Array, ms?: number) => Outcome, negative: (c: string, ms?: number) => Outcome): Outcome {
    const ms = this.config.rfMs
    const card = this.position === "rf" ? this.card : undefined
    if (command.pm === RfPm.activate) {
      if (card === undefined) return negative("61", ms)
      this.rf = { activated: true, sector: undefined }
      return positive(encodeActivation({ protocol: "M", atqa: card.atqa, uid: card.uid, sak: card.sak }), ms)
    }
    if (command.pm !== RfPm.mifare) return negative("01")
    const op = decodeMifareOp(command.data)
    if ("sw" in op) return positive(withStatusWord(new Uint8Array(0), op.sw), ms)
    if (card === undefined || !this.rf.activated) return positive(withStatusWord(new Uint8Array(0), Sw.failed), ms)
    switch (op._tag) {
      case "Auth": {
        const ok = card.keyMatches(op.sector, op.keyType, op.key)
        this.rf = { activated: true, sector: ok ? op.sector : undefined }
        return positive(withStatusWord(new Uint8Array(0), ok ? Sw.ok : Sw.failed), ms)
      }
      case "Read":
        if (this.rf.sector !== op.sector) return positive(withStatusWord(new Uint8Array(0), Sw.failed), ms)
        return positive(withStatusWord(card.read(op.sector, op.block), Sw.ok), ms)
      case "Write":
        if (this.rf.sector !== op.sector || !card.write(op.sector, op.block, op.data)) {
          return positive(withStatusWord(new Uint8Array(0), Sw.failed), ms)
        }
        return positive(withStatusWord(new Uint8Array(0), Sw.ok), ms)
    }
  }

  /** One ASCII '0'/'1' per sensor: gate, RF position, stacker present, stacker low, bin full, front entry. */
  private sensors(): string {
    const bit = (b: boolean) => (b ? "1" : "0")
    return [this.position === "gate", this.position === "rf", this.stackerCards > 0, this.stacker !== "ok", this.binFull, this.frontEntry]
      .map(bit)
      .join("")
  }
}
