import { Clock, Effect, Either, Layer, Schema } from "effect"
import { CardUid } from "../core/domain/ids.js"
import {
  CardUnit,
  type CardUnitError,
  type CardUnitService,
  type CardUnitStatus,
  type InitMode,
  type MifareKeyType,
  type RfCard
} from "../core/ports/card-unit.js"
import {
  BinFull,
  CardNotTaken,
  DeviceRefused,
  Jam,
  NotInitialised,
  RfFailure,
  SensorFault,
  StackerEmpty
} from "../core/ports/hardware-errors.js"
import {
  asciiText,
  BinCounterPm,
  Cm,
  decodeStatus,
  errorMeaning,
  FrontEntryPm,
  hex,
  InitPm,
  MovePm,
  type PositiveReply,
  RfPm,
  StatusPm
} from "./crt591-codec.js"
import { type Crt591Link, type Crt591LinkOptions, defaultLinkOptions, makeCrt591Link } from "./crt591-link.js"
import {
  ACTIVATE_DATA,
  decodeActivation,
  encodeMifareOp,
  MIFARE_BLOCK_BYTES,
  MIFARE_BLOCKS_PER_SECTOR,
  MIFARE_KEY_BYTES,
  MIFARE_SECTORS,
  type MifareOp,
  splitStatusWord,
  Sw
} from "./crt591-rf.js"
import type { LineSettings, PortBinding } from "./serial-port.js"
import { openLink } from "./serial-transport.js"

/**
 * The real layer of the `CardUnit` port: a CRT-591 class reader-dispenser on a serial line. Each port
 * operation is one or more protocol exchanges (crt591-link.ts); negative replies become the typed
 * hardware errors, so the kiosk flow cannot tell this layer from the simulated one.
 */

export interface Crt591Options extends Partial<Crt591LinkOptions> {
  readonly path: string
  readonly baudRate?: number
  readonly line?: Partial<LineSettings>
  /** Defaults to the operating system's ports. */
  readonly binding?: PortBinding
  /** Reply time allowed for commands that move a card or reset the unit (mechanical time). */
  readonly moveTimeoutMs?: number
  /** Reply time allowed for commands that move nothing (status, RF, counters). */
  readonly replyTimeoutMs?: number
  /** Status polling period while waiting for a card to be taken or inserted. */
  readonly pollIntervalMs?: number
}

export interface Crt591Timing {
  readonly moveTimeoutMs: number
  readonly replyTimeoutMs: number
  readonly pollIntervalMs: number
}

export const defaultTiming: Crt591Timing = { moveTimeoutMs: 10_000, replyTimeoutMs: 2_000, pollIntervalMs: 200 }

/** Maps a negative reply's code to the error a kiosk can act on. */
export const unitError = (device: string, code: string): CardUnitError => {
  switch (code) {
    case "10":
    case "13":
    case "14":
      return new Jam({ device, detail: `E${code} ${errorMeaning(code)}` })
    case "12":
      return new SensorFault({ device, detail: `E${code} ${errorMeaning(code)}` })
    case "A0":
      return new StackerEmpty()
    case "A1":
      return new BinFull()
    case "B0":
      return new NotInitialised({ device })
    default:
      return new DeviceRefused({ device, code, meaning: errorMeaning(code) })
  }
}

const rfError = (device: string, code: string): CardUnitError | RfFailure => {
  switch (code) {
    case "61":
      return new RfFailure({ reason: "no-card", detail: `E${code} ${errorMeaning(code)}` })
    case "05":
    case "67":
    case "68":
      return new RfFailure({ reason: "transmission", detail: `E${code} ${errorMeaning(code)}` })
    default:
      return unitError(device, code)
  }
}

const swError = (what: string, sw: number): RfFailure => {
  const code = sw.toString(16).toUpperCase().padStart(4, "0")
  switch (sw) {
    case Sw.failed:
      return new RfFailure({ reason: "auth", detail: `${what}: SW ${code} (wrong key, sector not authenticated, or no card)` })
    case Sw.address:
      return new RfFailure({ reason: "address", detail: `${what}: SW ${code} (address out of range)` })
    case Sw.length:
      return new RfFailure({ reason: "length", detail: `${what}: SW ${code} (length wrong)` })
    default:
      return new RfFailure({ reason: "transmission", detail: `${what}: SW ${code}` })
  }
}

/** Binary or ASCII: the manual gives "000"-"999", one field driver parses big-endian binary. */
export const parseBinCount = (data: Uint8Array): number | undefined => {
  if (data.length === 0) return undefined
  if (data.every((b) => b >= 0x30 && b <= 0x39)) return Number.parseInt(asciiText(data), 10)
  return data.reduce((n, b) => n * 256 + b, 0)
}

export const makeCardUnit = (crt: Crt591Link, timing: Crt591Timing = defaultTiming): CardUnitService => {
  const device = crt.device

  const command = (cm: number, pm: number, data: Uint8Array, timeoutMs: number): Effect.Effect<PositiveReply, CardUnitError> =>
    crt.exchange(cm, pm, data, timeoutMs).pipe(
      Effect.flatMap((reply) => (reply._tag === "Positive" ? Effect.succeed(reply) : Effect.fail(unitError(device, reply.code))))
    )
  const move = (pm: number) => Effect.asVoid(command(Cm.move, pm, new Uint8Array(0), timing.moveTimeoutMs))

  const rfCommand = (pm: number, data: Uint8Array): Effect.Effect<PositiveReply, CardUnitError | RfFailure> =>
    crt.exchange(Cm.rf, pm, data, timing.replyTimeoutMs).pipe(
      Effect.flatMap((reply) => (reply._tag === "Positive" ? Effect.succeed(reply) : Effect.fail(rfError(device, reply.code))))
    )
  const mifare = (what: string, op: MifareOp): Effect.Effect<Uint8Array, CardUnitError | RfFailure> =>
    rfCommand(RfPm.mifare, encodeMifareOp(op)).pipe(
      Effect.flatMap((reply) => {
        const split = splitStatusWord(reply.data)
        if (split === undefined) return Effect.fail(new RfFailure({ reason: "transmission", detail: `${what}: reply without a status word` }))
        return split.sw === Sw.ok ? Effect.succeed(split.payload) : Effect.fail(swError(what, split.sw))
      })
    )

  // Checked here, before the wire, so a bad call never reaches the card.
  const checkAddress = (sector: number, block: number) =>
    Number.isInteger(sector) && sector >= 0 && sector < MIFARE_SECTORS && Number.isInteger(block) && block >= 0 && block < MIFARE_BLOCKS_PER_SECTOR
      ? Effect.void
      : Effect.fail(new RfFailure({ reason: "address", detail: `sector ${sector} block ${block} is outside a Mifare Classic 1K (sectors 0-15, blocks 0-3)` }))

  const status: Effect.Effect<CardUnitStatus, CardUnitError> = command(Cm.status, StatusPm.basic, new Uint8Array(0), timing.replyTimeoutMs).pipe(
    Effect.flatMap((reply) => {
      const state = decodeStatus(reply.status)
      return "invalid" in state ? Effect.fail(new DeviceRefused({ device, code: "ST", meaning: state.invalid })) : Effect.succeed(state)
    })
  )

  /** Polls status until `done` holds or `timeoutMs` passes; true when it held. */
  const pollUntil = (done: (s: CardUnitStatus) => boolean, timeoutMs: number): Effect.Effect<boolean, CardUnitError> =>
    Effect.gen(function* () {
      const deadline = (yield* Clock.currentTimeMillis) + timeoutMs
      for (;;) {
        if (done(yield* status)) return true
        const left = deadline - (yield* Clock.currentTimeMillis)
        if (left <= 0) return false
        yield* Effect.sleep(Math.min(left, timing.pollIntervalMs))
      }
    })

  const initPm: Record<InitMode, number> = { hold: InitPm.hold, capture: InitPm.capture, leave: InitPm.leave }

  return {
    initialise: (mode) =>
      command(Cm.init, initPm[mode], new Uint8Array(0), timing.moveTimeoutMs).pipe(
        Effect.map((reply) => ({ firmware: asciiText(reply.data).trim() })),
        Effect.withSpan("CardUnit.initialise")
      ),
    status: status.pipe(Effect.withSpan("CardUnit.status")),
    dispenseToRf: move(MovePm.rf).pipe(Effect.withSpan("CardUnit.dispenseToRf")),
    activate: rfCommand(RfPm.activate, ACTIVATE_DATA).pipe(
      Effect.flatMap((reply): Effect.Effect<RfCard, RfFailure> => {
        const card = decodeActivation(reply.data)
        if (card === undefined) return Effect.fail(new RfFailure({ reason: "no-card", detail: "no RF card at the read position" }))
        if ("invalid" in card) return Effect.fail(new RfFailure({ reason: "transmission", detail: card.invalid }))
        const uid = Schema.decodeEither(CardUid)(Array.from(card.uid, hex).join(""))
        return Either.isRight(uid)
          ? Effect.succeed({ uid: uid.right, protocol: card.protocol, atqa: card.atqa, sak: card.sak })
          : Effect.fail(new RfFailure({ reason: "transmission", detail: "card UID is not 4, 7 or 10 bytes" }))
      }),
      Effect.withSpan("CardUnit.activate")
    ),
    authenticate: (sector: number, keyType: MifareKeyType, key: Uint8Array) =>
      (key.length !== MIFARE_KEY_BYTES
        ? Effect.fail(new RfFailure({ reason: "length", detail: `a Mifare key is ${MIFARE_KEY_BYTES} bytes, got ${key.length}` }))
        : checkAddress(sector, 0).pipe(Effect.zipRight(mifare(`authenticate sector ${sector}`, { _tag: "Auth", keyType, sector, key })))
      ).pipe(Effect.asVoid, Effect.withSpan("CardUnit.authenticate")),
    readBlock: (sector, block) =>
      checkAddress(sector, block).pipe(
        Effect.zipRight(mifare(`read sector ${sector} block ${block}`, { _tag: "Read", sector, block })),
        Effect.flatMap((data) =>
          data.length === MIFARE_BLOCK_BYTES
            ? Effect.succeed(data)
            : Effect.fail(new RfFailure({ reason: "transmission", detail: `read returned ${data.length} bytes, not ${MIFARE_BLOCK_BYTES}` }))
        ),
        Effect.withSpan("CardUnit.readBlock")
      ),
    writeBlock: (sector, block, data) =>
      (data.length !== MIFARE_BLOCK_BYTES
        ? Effect.fail(new RfFailure({ reason: "length", detail: `a block is ${MIFARE_BLOCK_BYTES} bytes, got ${data.length}` }))
        : checkAddress(sector, block).pipe(Effect.zipRight(mifare(`write sector ${sector} block ${block}`, { _tag: "Write", sector, block, data })))
      ).pipe(Effect.asVoid, Effect.withSpan("CardUnit.writeBlock")),
    presentAtGate: move(MovePm.gate).pipe(Effect.withSpan("CardUnit.presentAtGate")),
    awaitTaken: (timeoutMs) =>
      pollUntil((s) => s.position === "none", timeoutMs).pipe(
        Effect.flatMap((taken) => (taken ? Effect.void : Effect.fail(new CardNotTaken({ waitedMs: timeoutMs })))),
        Effect.withSpan("CardUnit.awaitTaken")
      ),
    capture: move(MovePm.capture).pipe(Effect.withSpan("CardUnit.capture")),
    setFrontEntry: (enabled) =>
      command(Cm.frontEntry, enabled ? FrontEntryPm.enable : FrontEntryPm.disable, new Uint8Array(0), timing.replyTimeoutMs).pipe(
        Effect.asVoid,
        Effect.withSpan("CardUnit.setFrontEntry")
      ),
    awaitInserted: (timeoutMs) => pollUntil((s) => s.position === "rf", timeoutMs).pipe(Effect.withSpan("CardUnit.awaitInserted")),
    binCount: command(Cm.binCounter, BinCounterPm.read, new Uint8Array(0), timing.replyTimeoutMs).pipe(
      Effect.flatMap((reply) => {
        const count = parseBinCount(reply.data)
        return count === undefined
          ? Effect.fail(new DeviceRefused({ device, code: "A5", meaning: "bin counter reply carries no count" }))
          : Effect.succeed(count)
      }),
      Effect.withSpan("CardUnit.binCount")
    ),
    // A CRT-591 senses only empty and pre-empty (ST1); it has no stacker counter to ask.
    stackerCount: Effect.succeed(null)
  }
}

const linkOptionsOf = (options: Crt591Options): Crt591LinkOptions => ({
  address: options.address ?? defaultLinkOptions.address,
  ackTimeoutMs: options.ackTimeoutMs ?? defaultLinkOptions.ackTimeoutMs,
  retransmitsMax: options.retransmitsMax ?? defaultLinkOptions.retransmitsMax,
  interByteTimeoutMs: options.interByteTimeoutMs ?? defaultLinkOptions.interByteTimeoutMs,
  corruptRepliesMax: options.corruptRepliesMax ?? defaultLinkOptions.corruptRepliesMax
})

export const deviceName = (path: string) => `CRT-591 on ${path}`

/** Opens the port and the protocol link; the port closes with the scope. */
export const openCrt591 = (options: Crt591Options) =>
  Effect.gen(function* () {
    const device = deviceName(options.path)
    const line = { ...options.line, ...(options.baudRate === undefined ? {} : { baudRate: options.baudRate }) }
    const serial = yield* openLink({ path: options.path, device, line, ...(options.binding === undefined ? {} : { binding: options.binding }) })
    return yield* makeCrt591Link(serial, device, linkOptionsOf(options))
  })

export const Crt591 = {
  /** `CardUnit` on a real (or emulated) CRT-591: `Crt591.layer({ path: "/dev/ttyUSB0" })`. */
  layer: (options: Crt591Options) =>
    Layer.scoped(
      CardUnit,
      Effect.map(openCrt591(options), (crt) =>
        makeCardUnit(crt, {
          moveTimeoutMs: options.moveTimeoutMs ?? defaultTiming.moveTimeoutMs,
          replyTimeoutMs: options.replyTimeoutMs ?? defaultTiming.replyTimeoutMs,
          pollIntervalMs: options.pollIntervalMs ?? defaultTiming.pollIntervalMs
        })
      )
    )
}
