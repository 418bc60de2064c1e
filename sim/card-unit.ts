import { Clock, Context, Deferred, Effect, Layer, Option } from "effect"
import { CardUnit, type CardUnitError, type CardUnitService, type InitMode } from "../core/ports/card-unit.js"
import { CardNotTaken, DeviceRefused, Jam, RfFailure } from "../core/ports/hardware-errors.js"
import { addressProblem, blockBytes, type CardFactory, keyBytes, makeCardFactory } from "./card-memory.js"
import { makeCardUnitControl, SimCardUnitControl, type SimCardUnitControlService } from "./card-unit-control.js"
import { captureState, restoreState, type SimCardUnitState } from "./card-unit-state.js"
import { type CardFaultKnob, CardUnitModel, type CardUnitTiming, device, pause } from "./card-unit-model.js"
import { FaultTable, knobsOf, type SimFaults } from "./faults.js"
import { deviceRandom } from "./rng.js"
import { withNowMs } from "./clock-now.js"

/**
 * The card reader-dispenser's twin (CRT-591 class, `shared/protocols/crt591.md`): stacker, transport
 * with an RF position, front gate, capture bin, per-card Mifare memory, mechanical time per move and
 * the faults of the `card.*` knobs. It behaves as the unit does where that surprises, so the kiosk
 * flow meets the same surprises here as on the bench (and as the `hil/` emulator models them):
 * - a move to the RF position or the gate with no card in the transport takes the next card from
 *   the stacker (`presentAtGate` too); `capture` with no card is refused (`DeviceRefused` 02);
 * - `dispenseToRf` with a card at the gate carries that card in, not a new one;
 * - a jam latches: every move fails with `Jam` until `initialise`, which stands for the operator
 *   clearing the path and then applies its mode to the card left in the transport (`capture` is a
 *   move, so it may jam again). A jam while picking leaves the card in the stacker. Note that the
 *   kiosk flow initialises only at start-up: in a fleet run the operator model must re-initialise
 *   a jammed unit, as the operator who clears it would;
 * - a failed RF authentication drops the authentication; `card.rf` drops the activation.
 */

export type { CardUnitTiming } from "./card-unit-model.js"

/** Times of a CRT-591 class unit. Tests on `TestClock` either advance the clock or pass zeros. */
export const defaultCardUnitTiming: CardUnitTiming = {
  dispenseMs: 1200,
  presentMs: 600,
  captureMs: 900,
  retractMs: 700,
  initMs: 400,
  rfMs: 20
}
export const instantCardUnitTiming: CardUnitTiming = { dispenseMs: 0, presentMs: 0, captureMs: 0, retractMs: 0, initMs: 0, rfMs: 0 }

export interface SimCardUnitConfig {
  /** Cards in the stacker at start (default 100, capped at the capacity, default 250). */
  readonly stackerCards?: number
  readonly stackerCapacity?: number
  /** The stacker reports "low" (pre-empty) at this many cards or fewer (default 20). */
  readonly preEmptyAt?: number
  readonly binCards?: number
  /** Default 60. */
  readonly binCapacity?: number
  readonly timing?: Partial<CardUnitTiming>
  /** The default customer: takes a presented card this long after it reaches the gate (default 3000), or "manual". */
  readonly takeAfterMs?: number | "manual"
  readonly faults?: SimFaults
  /** Without a seed the unit seeds itself from the `Random` service when built. */
  readonly seed?: number
  /** Share one factory across a fleet so no UID is made twice. */
  readonly cards?: CardFactory
  readonly firmware?: string
  /** A real unit answers moves with "not initialised" until the first Init; so does this one (default false). */
  readonly initialised?: boolean
  /** How many taken cards `drainTaken` keeps before dropping the oldest (default 10000). */
  readonly takenKeptMax?: number
  /** The unit as it was saved (`state` below): its cards, counts and the UIDs it made, instead of a new unit's. */
  readonly restore?: SimCardUnitState
}

const cardKnobs = knobsOf("card")

/** Builds one unit: the port and its control. The fleet calls this once per kiosk. */
export const makeSimCardUnit = (
  config: SimCardUnitConfig = {}
): Effect.Effect<{
  readonly port: CardUnitService
  readonly control: SimCardUnitControlService
  /** What the unit holds now, to save and `restore` later (card-unit-state.ts). */
  readonly state: Effect.Effect<SimCardUnitState>
}> =>
  Effect.gen(function*() {
    const random = yield* deviceRandom(config.seed)
    const originMs = yield* Clock.currentTimeMillis
    const cards = config.cards ?? makeCardFactory()
    const unit = new CardUnitModel(
      {
        timing: { ...defaultCardUnitTiming, ...config.timing },
        stackerCapacity: config.stackerCapacity ?? 250,
        preEmptyAt: config.preEmptyAt ?? 20,
        binCapacity: config.binCapacity ?? 60,
        defaultPlan: config.takeAfterMs === "manual" ? { _tag: "Manual" } : { _tag: "Take", afterMs: config.takeAfterMs ?? 3000 },
        takenKeptMax: config.takenKeptMax ?? 10_000,
        firmware: config.firmware ?? "CRT-591-SIM 1.0"
      },
      new FaultTable<CardFaultKnob>(cardKnobs, config.faults ?? {}, random, originMs),
      random,
      cards,
      { initialised: config.initialised ?? false, stackerCards: config.stackerCards ?? 100, binCards: config.binCards ?? 0 }
    )
    if (config.restore !== undefined) restoreState(unit, cards, config.restore)
    // Every card that passed through the transport or the slot: the UIDs a unit made again must avoid.
    const minted = new Set<string>(config.restore?.minted ?? [])
    const state = Effect.sync(() => {
      for (const card of [unit.transport, unit.slot]) if (card !== undefined) minted.add(card.uid)
      return captureState(unit, [...minted])
    })
    return { port: makePort(unit), control: makeCardUnitControl(unit), state }
  })

/** Runs one command: the common checks, then the command's own body. */
const command = <A, E>(unit: CardUnitModel, needsInit: boolean, body: (nowMs: number) => Effect.Effect<A, E>) =>
  withNowMs((nowMs): Effect.Effect<A, E | CardUnitError> => {
    const problem = unit.ready(nowMs, needsInit)
    return problem === undefined ? body(nowMs) : Effect.fail(problem)
  })

const makePort = (unit: CardUnitModel): CardUnitService => {
  const { timing } = unit.settings
  return {
    initialise: (mode: InitMode) =>
      command(unit, false, (nowMs) =>
        Effect.gen(function*() {
          yield* pause(timing.initMs)
          unit.jammed = false
          unit.initialised = true
          unit.frontEntry = false
          unit.leaveRf()
          if (unit.transport !== undefined && mode === "hold") {
            unit.atGate = false
            unit.handOver = undefined
          }
          if (unit.transport !== undefined && mode === "capture") yield* unit.capture(nowMs)
          return { firmware: unit.settings.firmware }
        })),

    status: command(unit, false, (nowMs) =>
      Effect.sync(() => {
        unit.maybeStray(nowMs)
        return { position: unit.position, stacker: unit.stackerLevel(nowMs), binFull: unit.binFull(nowMs) }
      })),

    dispenseToRf: command(unit, true, (nowMs) => {
      unit.maybeStray(nowMs)
      if (unit.transport === undefined) return unit.pick(nowMs, timing.dispenseMs, "dispensing to the RF position", () => unit.leaveRf())
      if (!unit.atGate) return Effect.void
      return unit.move(timing.retractMs, "carrying the card in from the gate", () => {
        unit.atGate = false
        unit.handOver = undefined
      })
    }),

    activate: command(unit, true, (nowMs) => {
      const problem = unit.rfAbsent("activate") ?? unit.rfLost(nowMs, "activate")
      if (problem !== undefined) return Effect.fail(problem)
      const card = unit.rfCard()
      unit.activated = true
      unit.authSector = -1
      return Effect.as(pause(timing.rfMs), { uid: card.uid, protocol: "M" as const, atqa: card.atqa, sak: card.sak })
    }),

    authenticate: (sector, keyType, key) =>
      command(unit, true, (nowMs) => {
        const address = addressProblem(sector, 0, "read")
        const problem = unit.rfAbsent("authenticate") ??
          (address === undefined ? undefined : new RfFailure({ reason: "address", detail: address })) ??
          (key.length === keyBytes ? undefined : new RfFailure({ reason: "length", detail: `a key is ${keyBytes} bytes, not ${key.length}` })) ??
          unit.rfLost(nowMs, "authenticate")
        if (problem !== undefined) return Effect.fail(problem)
        const ok = unit.rfCard().keyMatches(sector, keyType, key)
        unit.authSector = ok ? sector : -1
        return Effect.zipRight(
          pause(timing.rfMs),
          ok ? Effect.void : Effect.fail(new RfFailure({ reason: "auth", detail: `key ${keyType} does not open sector ${sector}` }))
        )
      }),

    readBlock: (sector, block) =>
      command(unit, true, (nowMs) => {
        const problem = unit.rfAbsent("read") ?? unit.blockProblem(sector, block, "read") ?? unit.rfLost(nowMs, "read")
        if (problem !== undefined) return Effect.fail(problem)
        return Effect.as(pause(timing.rfMs), unit.rfCard().read(sector, block))
      }),

    writeBlock: (sector, block, data) =>
      command(unit, true, (nowMs) => {
        const problem = unit.rfAbsent("write") ??
          unit.blockProblem(sector, block, "write") ??
          (data.length === blockBytes ? undefined : new RfFailure({ reason: "length", detail: `a block is ${blockBytes} bytes, not ${data.length}` })) ??
          unit.rfLost(nowMs, "write")
        if (problem !== undefined) return Effect.fail(problem)
        unit.rfCard().write(sector, block, data)
        return pause(timing.rfMs)
      }),

    presentAtGate: command(unit, true, (nowMs) => unit.present(nowMs)),

    awaitTaken: (timeoutMs) =>
      command(unit, true, () =>
        Effect.gen(function*() {
          if (unit.transport === undefined) return
          if (!unit.atGate) {
            return yield* new DeviceRefused({ device, code: "02", meaning: "the card is inside the unit, not at the gate; present it first" })
          }
          const h = unit.handOver
          const nowMs = yield* Clock.currentTimeMillis
          if (h !== undefined && h.plan._tag === "Take" && h.atMs + h.plan.afterMs <= nowMs + timeoutMs) {
            // The customer takes the card once the wait is over, whatever the clock reads on waking: on
            // real time a timer may wake a millisecond before the wall clock says the delay has passed (Node
            // counts timers on its loop's cached monotonic clock), and a second look at the clock would
            // then leave the card at the gate although awaitTaken answers that it was taken.
            yield* pause(h.atMs + h.plan.afterMs - nowMs)
            if (unit.handOver === h) unit.removeFromGate()
            return
          }
          if (h !== undefined && h.plan._tag === "Manual") {
            const waiter = yield* Deferred.make<void>()
            unit.takeWaiter = waiter
            const woken = yield* Effect.timeoutOption(Deferred.await(waiter), timeoutMs)
            unit.takeWaiter = undefined
            if (Option.isSome(woken)) return
          } else {
            // Left at the gate; a customer who means to take it later than the timeout comes back too late.
            yield* pause(timeoutMs)
          }
          return yield* new CardNotTaken({ waitedMs: timeoutMs })
        })),

    capture: command(unit, true, (nowMs) => unit.capture(nowMs)),

    setFrontEntry: (enabled) =>
      command(unit, true, () =>
        Effect.sync(() => {
          unit.frontEntry = enabled
        })),

    awaitInserted: (timeoutMs) =>
      command(unit, true, () =>
        Effect.gen(function*() {
          if (!unit.frontEntry) {
            return yield* new DeviceRefused({ device, code: "02", meaning: "front entry is disabled; enable it before waiting for a card" })
          }
          // Checked before the wait too, so a jammed unit never half-swallows a customer's card.
          if (unit.jammed) return yield* new Jam({ device, detail: "still jammed from an earlier move" })
          if (unit.transport !== undefined && !unit.atGate) {
            return yield* new DeviceRefused({ device, code: "02", meaning: "a card is already inside the unit; capture or present it first" })
          }
          if (unit.transport === undefined && unit.slot === undefined) {
            const waiter = yield* Deferred.make<void>()
            unit.slotWaiter = waiter
            const woken = yield* Effect.timeoutOption(Deferred.await(waiter), timeoutMs)
            unit.slotWaiter = undefined
            if (Option.isNone(woken) || unit.slot === undefined) return false
          }
          if (unit.transport === undefined) {
            // The customer's card enters the transport at the gate; a jam drawing it in leaves it there.
            unit.transport = unit.slot
            unit.slot = undefined
            unit.atGate = true
            unit.inserted++
          }
          yield* unit.move(timing.retractMs, "drawing in an inserted card", () => {
            unit.atGate = false
            unit.handOver = undefined
            unit.leaveRf()
          })
          return true
        })),

    binCount: Effect.sync(() => unit.binCards),
    // The sim knows its count (the real unit only senses empty and pre-empty).
    stackerCount: Effect.sync(() => unit.stackerCards)
  }
}

/** The card unit and its control as one layer (one unit per context: a single kiosk or a test). */
export const SimCardUnitLive = (config: SimCardUnitConfig = {}): Layer.Layer<CardUnit | SimCardUnitControl> =>
  Layer.effectContext(
    Effect.map(makeSimCardUnit(config), ({ control, port }) =>
      Context.make(CardUnit, port).pipe(Context.add(SimCardUnitControl, control)))
  )
