import { ACK, Cm, type Command, decodeBody, encodeReply, hex, hexBytes, NAK, type Reply } from "./crt591-codec.js"
import { Crt591Device, type DeviceConfig } from "./crt591-device.js"
import { Crt591Reader } from "./crt591-reader.js"
import { damageReply, type Fault, type FaultKind, faultsOfKind, wireFaultKinds } from "./crt591-faults.js"
import { blankCard, type MifareCard } from "./mifare-card.js"
import { LinePacer, type Timer, type Wire } from "./line-pacer.js"
import { byteTimeMs, defaultLine, type LineSettings, type PortBinding, SerialConnection, systemBinding } from "./serial-port.js"

/**
 * A CRT-591 on a serial line, for a bench with no card unit: the device state machine
 * (crt591-device.ts) behind the wire protocol (ACK/NAK, reply resends, EOT), with wire time per byte,
 * mechanical time per move, a simulated user at the gate, and faults on demand. Real time: it runs
 * outside the core, as a separate program on the other end of a cable or a pty.
 *
 * Choices the manual leaves open: a command that arrives again while the unit is still busy with it,
 * or before the host has ACKed its reply, is taken as a retransmission (the host lost our ACK or our
 * reply): it is ACKed and not executed twice.
 */

export interface Crt591EmulatorOptions {
  readonly address: number
  readonly line: LineSettings
  /** Pace every byte at the line's baud rate, as a real cable would. Off for benchmarks. */
  readonly wireTiming: boolean
  /** The simulated user takes a presented card after this long; `null`: never (a card left at the gate). */
  readonly userTakesAfterMs: number | null
  /** How long the unit waits for the host to ACK a reply before dropping it. */
  readonly hostAckTimeoutMs: number
  /** Reply resends on the host's NAK before the unit gives up on that reply. */
  readonly replyResendsMax: number
  /** Silence inside a frame longer than this means the frame was cut short. */
  readonly interByteTimeoutMs: number
  readonly device: Partial<DeviceConfig>
  readonly faults: ReadonlyArray<Fault>
  readonly log: (line: string) => void
  /** Log every command and reply as it crosses the wire. */
  readonly trace: boolean
}

export const defaultEmulatorOptions: Crt591EmulatorOptions = {
  address: 0,
  line: defaultLine,
  wireTiming: true,
  userTakesAfterMs: 2000,
  hostAckTimeoutMs: 300,
  replyResendsMax: 3,
  interByteTimeoutMs: 50,
  device: {},
  faults: [],
  log: () => {},
  trace: false
}

export interface EmulatorStats {
  commands: number
  repliesSent: number
  resends: number
  naksSent: number
  corruptFrames: number
}

type Exchange = {
  readonly command: Command
  readonly key: string
  reply: Reply | undefined
  resends: number
  abandoned: boolean
}

export class Crt591Emulator {
  readonly options: Crt591EmulatorOptions
  readonly device: Crt591Device
  readonly stats: EmulatorStats = { commands: 0, repliesSent: 0, resends: 0, naksSent: 0, corruptFrames: 0 }
  /** Cards users took from the gate, most recent last (bounded). */
  readonly taken: Array<MifareCard> = []
  private readonly reader = new Crt591Reader()
  private readonly pacer: LinePacer
  private readonly faults: Array<Fault>
  private current: Exchange | undefined
  private busy = false
  private hostAckTimer: Timer | undefined
  private idleTimer: Timer | undefined
  private nakOnIdle = false
  private takeTimer: Timer | undefined
  private insertedCards = 0

  constructor(wire: Wire, options: Partial<Crt591EmulatorOptions> = {}) {
    this.options = { ...defaultEmulatorOptions, ...options }
    this.device = new Crt591Device(this.options.device)
    this.pacer = new LinePacer(wire, byteTimeMs(this.options.line), this.options.wireTiming, (error) => this.options.log(`write failed: ${String(error)}`))
    this.faults = [...this.options.faults]
    this.device.faults = {
      jamAtMove: faultsOfKind(this.faults, "jam")[0]?.at,
      sensorAtCommand: faultsOfKind(this.faults, "sensor")[0]?.at
    }
    if (faultsOfKind(this.faults, "stacker-empty").length > 0) this.device.stackerCards = 0
    if (faultsOfKind(this.faults, "bin-full").length > 0) this.device.binCards = this.device.config.binCapacity
    for (const insert of faultsOfKind(this.faults, "insert")) this.later(insert.at, () => this.insertCard())
  }

  /** Opens `path` and answers on it until `close()`. */
  static async open(path: string, options: Partial<Crt591EmulatorOptions> = {}, binding: PortBinding = systemBinding) {
    const line = options.line ?? defaultLine
    const connection = await SerialConnection.open(path, line, binding)
    const emulator = new Crt591Emulator(connection, { ...options, line })
    connection.onData = (chunk) => emulator.receive(chunk)
    connection.onClose = (reason) => {
      if (reason !== undefined) emulator.options.log(`port ${path} went away: ${reason}`)
    }
    return { emulator, close: async () => (emulator.close(), await connection.close()) }
  }

  /**
   * Arms a fault from now: line faults for the next `times` commands, `jam` for the next move,
   * `sensor` for the next command; the others change the unit's state at once.
   */
  arm(kind: FaultKind, times = 1): void {
    switch (kind) {
      case "jam":
        this.device.faults.jamAtMove = this.device.moves + 1
        return
      case "sensor":
        this.device.faults.sensorAtCommand = this.device.commands + 1
        return
      case "stacker-empty":
        this.device.stackerCards = 0
        return
      case "bin-full":
        this.device.binCards = this.device.config.binCapacity
        return
      case "insert":
        this.insertCard()
        return
      case "card-left":
        this.faults.push({ kind, at: 1 })
        return
      default:
        for (let i = 1; i <= times; i++) this.faults.push({ kind, at: this.stats.commands + i })
    }
  }

  /** Takes back every armed fault of `kind` (for `card-left`: the user takes cards again). */
  disarm(kind: FaultKind): void {
    for (let i = this.faults.length - 1; i >= 0; i--) if (this.faults[i]?.kind === kind) this.faults.splice(i, 1)
  }

  /** A user pushes a card into the gate: the last card taken, or a fresh one. False when refused. */
  insertCard(card?: MifareCard): boolean {
    const fromHand = card === undefined ? this.taken.at(-1) : undefined
    const inserted = card ?? fromHand ?? blankCard(this.device.config.uidSeed + 0x5eed, this.insertedCards + 1)
    if (!this.device.insert(inserted)) {
      this.options.log(`card ${inserted.uidHex} refused at the gate (front entry ${this.device.frontEntry ? "on, but the unit holds a card" : "off"})`)
      return false
    }
    // The card leaves the hand only once the unit has it.
    if (fromHand !== undefined) this.taken.pop()
    else if (card === undefined) this.insertedCards += 1
    this.options.log(`card ${inserted.uidHex} inserted at the gate`)
    this.later(this.device.config.moveMs, () => this.device.carryInserted())
    return true
  }

  /** The user takes the card at the gate now. */
  takeCard(): MifareCard | undefined {
    const card = this.device.take()
    if (card !== undefined) {
      this.taken.push(card)
      if (this.taken.length > 100) this.taken.shift()
      this.options.log(`card ${card.uidHex} taken from the gate`)
    }
    return card
  }

  close(): void {
    this.pacer.close()
  }

  /** Bytes from the host, as they come off the wire. */
  receive(chunk: Uint8Array): void {
    this.pacer.receive(chunk, (c) => this.process(c))
  }

  private process(chunk: Uint8Array): void {
    this.reader.push(chunk)
    for (let token = this.reader.next(); token !== undefined; token = this.reader.next()) {
      switch (token._tag) {
        case "Frame": {
          this.nakOnIdle = false
          const decoded = decodeBody(token.address, token.body)
          if (decoded._tag === "Command" && decoded.command.address === this.options.address) this.onCommand(decoded.command)
          else if (decoded._tag === "Invalid" && token.address === this.options.address) this.nakOnIdle = true
          break
        }
        case "Corrupt":
          this.stats.corruptFrames += 1
          this.nakOnIdle = true
          break
        case "Ack":
          if (this.current?.reply !== undefined) this.finishExchange()
          break
        case "Nak":
          if (this.current?.reply !== undefined) this.resendReply()
          break
        case "Eot":
          // The host abandons the exchange: a move in progress completes, but its reply is not sent.
          if (this.current !== undefined) this.current.abandoned = true
          if (!this.busy) this.finishExchange()
          break
      }
    }
    this.cancel(this.idleTimer)
    this.idleTimer = this.reader.pending || this.nakOnIdle ? this.later(this.options.interByteTimeoutMs, () => this.onIdle()) : undefined
  }

  /** The line went quiet: a frame cut short will never complete, and a damaged one gets its NAK. */
  private onIdle(): void {
    this.idleTimer = undefined
    while (this.reader.pending) {
      this.reader.expire()
      this.stats.corruptFrames += 1
      this.nakOnIdle = true
      this.process(new Uint8Array(0))
    }
    this.cancel(this.idleTimer)
    this.idleTimer = undefined
    if (this.nakOnIdle) {
      this.nakOnIdle = false
      this.stats.naksSent += 1
      this.transmit(Uint8Array.of(NAK))
    }
  }

  private onCommand(command: Command): void {
    this.stats.commands += 1
    const n = this.stats.commands
    const key = `${command.cm}:${command.pm}:${command.data.join(",")}`
    if (this.fire("no-ack", n)) return this.options.log(`fault: command ${n} lost on the wire (no ACK)`)
    if (this.fire("nak", n)) {
      this.stats.naksSent += 1
      this.options.log(`fault: command ${n} NAKed as if its BCC were bad`)
      return this.transmit(Uint8Array.of(NAK))
    }
    const current = this.current
    if (current !== undefined && current.key === key && !current.abandoned) {
      // A retransmission of the command in hand: the host lost our ACK or our reply.
      this.transmit(Uint8Array.of(ACK))
      if (current.reply !== undefined) this.resendReply()
      return
    }
    if (this.busy) return // Still moving a card for an abandoned or other command: not listening.
    this.finishExchange()
    const exchange: Exchange = { command, key, reply: undefined, resends: 0, abandoned: false }
    this.current = exchange
    this.transmit(Uint8Array.of(ACK))
    const { reply, busyMs } = this.device.execute(command)
    if (this.options.trace) this.options.log(`#${n} command ${hex(command.cm)} ${hex(command.pm)}${command.data.length > 0 ? ` data ${hexBytes(command.data)}` : ""}`)
    this.afterMove(command)
    const silent = this.fire("no-reply", n)
    const send = () => {
      this.busy = false
      if (exchange.abandoned || this.current !== exchange) return this.finishExchange()
      if (silent) return this.options.log(`fault: command ${n} executed but never answered`)
      exchange.reply = reply
      this.sendReply(exchange, n)
    }
    this.busy = true
    if (busyMs > 0) this.later(busyMs, send)
    else send()
  }

  /** A card presented at the gate is taken by the simulated user after a while. */
  private afterMove(command: Command): void {
    if (command.cm !== Cm.move) return
    this.cancel(this.takeTimer)
    this.takeTimer = undefined
    const takesAfter = faultsOfKind(this.faults, "card-left").length > 0 ? null : this.options.userTakesAfterMs
    if (this.device.position === "gate" && takesAfter !== null) {
      this.takeTimer = this.later(this.device.config.moveMs + takesAfter, () => this.takeCard())
    }
  }

  private sendReply(exchange: Exchange, n: number): void {
    const reply = exchange.reply
    if (reply === undefined) return
    let frame = encodeReply(reply)
    for (const kind of wireFaultKinds) {
      if (!this.fire(kind, n)) continue
      const damaged = damageReply(kind, frame)
      frame = damaged.frame
      this.options.log(`fault: reply ${n} ${damaged.what}`)
      break
    }
    this.stats.repliesSent += 1
    if (this.options.trace) {
      this.options.log(
        `#${n} reply ${reply._tag === "Positive" ? `P status ${String.fromCharCode(reply.status.st0, reply.status.st1, reply.status.st2)}${reply.data.length > 0 ? ` data ${hexBytes(reply.data)}` : ""}` : `N E${reply.code}`}`
      )
    }
    this.transmit(frame)
    this.armHostAckTimer()
  }

  private resendReply(): void {
    const exchange = this.current
    if (exchange?.reply === undefined) return
    if (exchange.resends >= this.options.replyResendsMax) return this.finishExchange()
    exchange.resends += 1
    this.stats.resends += 1
    this.transmit(encodeReply(exchange.reply))
    this.armHostAckTimer()
  }

  private armHostAckTimer(): void {
    this.cancel(this.hostAckTimer)
    this.hostAckTimer = this.later(this.options.hostAckTimeoutMs, () => {
      this.hostAckTimer = undefined
      if (!this.busy) this.finishExchange()
    })
  }

  private finishExchange(): void {
    this.cancel(this.hostAckTimer)
    this.hostAckTimer = undefined
    this.current = undefined
  }

  /** True, once, when a fault of `kind` is armed for command/reply number `n` (consumed). */
  private fire(kind: FaultKind, n: number): boolean {
    const i = this.faults.findIndex((f) => f.kind === kind && f.at === n)
    if (i < 0) return false
    this.faults.splice(i, 1)
    return true
  }

  private transmit(bytes: Uint8Array): void {
    this.pacer.transmit(bytes)
  }

  private later(ms: number, f: () => void): Timer {
    return this.pacer.later(ms, f)
  }

  private cancel(timer: Timer | undefined): void {
    this.pacer.cancel(timer)
  }
}
