import { Clock, Context, Deferred, Effect, Layer, Option } from "effect"
import { CardUnit, type CardUnitError, type CardUnitService, type InitMode } from "../core/ports/card-unit.js"
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
import { addressProblem, blockBytes, type CardFactory, keyBytes, makeCardFactory, type SimCard } from "./card-memory.js"
import {
  type CardFaultKnob,
  type HandOverPlan,
  SimCardUnitControl,
  type SimCardUnitControlService
} from "./card-unit-control.js"
import { FaultTable, knobsOf, type SimFaults } from "./faults.js"
import { deviceRandom } from "./rng.js"

/**
 * The card reader-dispenser's twin (CRT-591 class, `shared/protocols/crt591.md`): stacker, transport
 * with an RF position, front gate, capture bin, per-card Mifare memory, mechanical time per move and
 * the faults of `card.*` knobs. It behaves as the unit does where that surprises, so the kiosk flow
 * meets the same surprises here as on the bench:
 * - a move with no card in the transport takes the next card from the stacker (also `presentAtGate`
 *   and `capture`: capturing an empty transport puts a blank card in the bin);
 * - `dispenseToRf` with a card at the gate carries that card in, not a new one;
 * - a jam latches: every command but `status`, `binCount` and `initialise` fails with `Jam` until
 *   `initialise`, which stands for the operator clearing the path, and then applies its mode to the
 *   card left in the transport;
 * - a failed RF authentication drops the authentication (authenticate again before reading).
 */

export interface CardUnitTiming {
  readonly dispenseMs: number
  readonly presentMs: number
  readonly captureMs: number
  /** Carrying a card from the gate in to the RF position (front entry, or retracting). */
  readonly retractMs: number
  readonly initMs: number
  /** One RF exchange (activate, authenticate, read or write a block). */
  readonly rfMs: number
}

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
  readonly stackerCards?: number
  readonly stackerCapacity?: number
  /** The stacker reports "low" (pre-empty) at this many cards or fewer. */
  readonly preEmptyAt?: number
  readonly binCards?: number
  readonly binCapacity?: number
  readonly timing?: Partial<CardUnitTiming>
  /** The default customer: takes a presented card this long after it reaches the gate, or "manual". */
  readonly takeAfterMs?: number | "manual"
  readonly faults?: SimFaults
  /** Without a seed the unit seeds itself from the `Random` service when built. */
  readonly seed?: number
  /** Share one factory across a fleet so no UID is made twice. */
  readonly cards?: CardFactory
  readonly firmware?: string
  /** A real unit answers moves with "not initialised" until the first Init; so does this one. */
  readonly initialised?: boolean
  readonly takenKeptMax?: number
}

const device = "card unit"
const cardKnobs = knobsOf("card")

const pause = (ms: number): Effect.Effect<void> => (ms > 0 ? Effect.sleep(ms) : Effect.void)

/** Builds one unit: the port and its control. The fleet calls this once per kiosk. */
export const makeSimCardUnit = (config: SimCardUnitConfig = {}) =>
  Effect.gen(function*() {
    const random = yield* deviceRandom(config.seed)
    const originMs = yield* Clock.currentTimeMillis
    const faults = new FaultTable<CardFaultKnob>(cardKnobs, config.faults ?? {}, random, originMs)
    const factory = config.cards ?? makeCardFactory()
    const timing: CardUnitTiming = { ...defaultCardUnitTiming, ...config.timing }
    const stackerCapacity = config.stackerCapacity ?? 250
    const binCapacity = config.binCapacity ?? 60
    const preEmptyAt = config.preEmptyAt ?? 20
    const defaultPlan: HandOverPlan =
      config.takeAfterMs === "manual" ? { _tag: "Manual" } : { _tag: "Take", afterMs: config.takeAfterMs ?? 3000 }
    const takenKeptMax = config.takenKeptMax ?? 10_000
    const firmware = config.firmware ?? "CRT-591-SIM 1.0"

    const s = {
      initialised: config.initialised ?? false,
      jammed: false,
      frontEntry: false,
      stackerCards: Math.min(config.stackerCards ?? 100, stackerCapacity),
      binCards: config.binCards ?? 0,
      bin: [] as Array<SimCard>,
      transport: undefined as SimCard | undefined,
      atGate: false,
      activated: false,
      authSector: -1,
      slot: undefined as SimCard | undefined,
      nextPlan: undefined as HandOverPlan | undefined,
      /** The presented card's plan and when it reached the gate. */
      handOver: undefined as { readonly plan: HandOverPlan; readonly atMs: number } | undefined,
      taken: [] as Array<SimCard>,
      takeWaiter: undefined as Deferred.Deferred<void> | undefined,
      slotWaiter: undefined as Deferred.Deferred<void> | undefined,
      dispensed: 0,
      captured: 0,
      takenCount: 0,
      inserted: 0
    }

    const removeFromGate = (): SimCard | undefined => {
      const card = s.atGate ? s.transport : undefined
      if (card === undefined) return undefined
      s.transport = undefined
      s.atGate = false
      s.handOver = undefined
      s.takenCount++
      if (s.taken.length >= takenKeptMax) s.taken.shift()
      s.taken.push(card)
      return card
    }

    /** Applies what the customer did at the gate up to `nowMs`; every command looks at the unit after it. */
    const settle = (nowMs: number): void => {
      const h = s.handOver
      if (h !== undefined && h.plan._tag === "Take" && h.atMs + h.plan.afterMs <= nowMs) removeFromGate()
    }

    /** The checks every command makes, in the unit's order: Init, a latched jam, the sensors. */
    const ready = (nowMs: number, needsInit: boolean): CardUnitError | undefined => {
      settle(nowMs)
      if (needsInit && !s.initialised) return new NotInitialised({ device })
      if (needsInit && s.jammed) return new Jam({ device, detail: "still jammed" })
      if (faults.fires("card.sensor", nowMs)) return new SensorFault({ device, detail: "position sensor reads inconsistent" })
      return undefined
    }

    /** A stray card pushed in at the gate while the transport is empty (`card.inserted`). */
    const maybeStray = (nowMs: number): void => {
      if (s.transport === undefined && faults.fires("card.inserted", nowMs)) {
        s.transport = factory.mint(random)
        s.atGate = true
        s.handOver = undefined
      }
    }

    const leaveRf = (): void => {
      s.activated = false
      s.authSector = -1
    }

    /** A move: the mechanical time, then either the jam (latched, card stays) or the state change. */
    const move = (ms: number, what: string, apply: () => void): Effect.Effect<void, Jam> =>
      Effect.gen(function*() {
        const jams = faults.fires("card.jam", yield* Clock.currentTimeMillis)
        yield* pause(ms)
        if (jams) {
          s.jammed = true
          leaveRf()
          return yield* new Jam({ device, detail: what })
        }
        apply()
      })

    /** Takes the next card off the stacker into the transport, as every move with an empty transport does. */
    const pick = (nowMs: number, ms: number, what: string, apply: () => void): Effect.Effect<void, StackerEmpty | Jam> =>
      Effect.gen(function*() {
        if (s.stackerCards === 0 || faults.fires("card.stackerEmpty", nowMs)) return yield* new StackerEmpty()
        // The card leaves the stacker as the move starts: a jam leaves it stuck inside the unit.
        s.stackerCards--
        s.dispensed++
        s.transport = factory.mint(random)
        s.atGate = false
        return yield* move(ms, what, apply)
      })

    const present = (nowMs: number): Effect.Effect<void, StackerEmpty | Jam> => {
      const toGate = () => {
        s.atGate = true
        leaveRf()
      }
      // The plan is fixed when the card reaches the gate, so a failed move does not use it up.
      const arrive = Effect.flatMap(Clock.currentTimeMillis, (atMs) =>
        Effect.sync(() => {
          const plan = faults.fires("card.notTaken", atMs) ? { _tag: "Leave" as const } : (s.nextPlan ?? defaultPlan)
          s.nextPlan = undefined
          s.handOver = { plan, atMs }
        })
      )
      if (s.transport === undefined) {
        return Effect.zipRight(pick(nowMs, timing.dispenseMs + timing.presentMs, "dispensing to the gate", toGate), arrive)
      }
      if (s.atGate) return Effect.void
      return Effect.zipRight(move(timing.presentMs, "moving the card to the gate", toGate), arrive)
    }

    const captureCard = (nowMs: number): Effect.Effect<void, BinFull | StackerEmpty | Jam> => {
      if (s.binCards >= binCapacity || faults.fires("card.binFull", nowMs)) return Effect.fail(new BinFull())
      const toBin = () => {
        // Just checked: a card is in the transport (a move with an empty transport picked one first).
        const card = s.transport as SimCard
        s.bin.push(card)
        s.binCards++
        s.captured++
        s.transport = undefined
        s.atGate = false
        s.handOver = undefined
        leaveRf()
      }
      if (s.transport === undefined) return pick(nowMs, timing.dispenseMs + timing.captureMs, "dispensing to the bin", toBin)
      return move(timing.captureMs, s.atGate ? "capturing from the gate" : "capturing", toBin)
    }

    /** Why an RF operation cannot start: no card at the RF position, or not activated. */
    const rfAbsent = (op: string): RfFailure | undefined => {
      if (s.transport === undefined || s.atGate) return new RfFailure({ reason: "no-card", detail: `no card at the RF position to ${op}` })
      if (op !== "activate" && !s.activated) {
        return new RfFailure({ reason: "no-card", detail: `the card is not activated; activate it before you ${op}` })
      }
      return undefined
    }

    /** The `card.rf` fault: the card stops answering and must be activated again. */
    const rfLost = (nowMs: number, op: string): RfFailure | undefined => {
      if (!faults.fires("card.rf", nowMs)) return undefined
      leaveRf()
      return new RfFailure({ reason: "transmission", detail: `no answer from the card during ${op}` })
    }

    /** Runs one command: the common checks, then the command's own body. */
    const command = <A, E>(needsInit: boolean, body: (nowMs: number) => Effect.Effect<A, E>) =>
      Effect.flatMap(Clock.currentTimeMillis, (nowMs): Effect.Effect<A, E | CardUnitError> => {
        const problem = ready(nowMs, needsInit)
        return problem === undefined ? body(nowMs) : Effect.fail(problem)
      })

    const port: CardUnitService = {
      initialise: (mode: InitMode) =>
        command(false, (nowMs) =>
          Effect.gen(function*() {
            yield* pause(timing.initMs)
            s.jammed = false
            s.initialised = true
            s.frontEntry = false
            leaveRf()
            if (s.transport !== undefined && mode === "hold") {
              s.atGate = false
              s.handOver = undefined
            }
            if (s.transport !== undefined && mode === "capture") yield* captureCard(nowMs)
            return { firmware }
          })),

      status: command(false, (nowMs) =>
        Effect.sync(() => {
          maybeStray(nowMs)
          return {
            position: s.transport === undefined ? "none" as const : s.atGate ? "gate" as const : "rf" as const,
            stacker: s.stackerCards === 0 || faults.inForce("card.stackerEmpty", nowMs)
              ? "empty" as const
              : s.stackerCards <= preEmptyAt ? "low" as const : "ok" as const,
            binFull: s.binCards >= binCapacity || faults.inForce("card.binFull", nowMs)
          }
        })),

      dispenseToRf: command(true, (nowMs) => {
        maybeStray(nowMs)
        if (s.transport === undefined) return pick(nowMs, timing.dispenseMs, "dispensing to the RF position", leaveRf)
        if (!s.atGate) return Effect.void
        return move(timing.retractMs, "carrying the card in from the gate", () => {
          s.atGate = false
          s.handOver = undefined
        })
      }),

      activate: command(true, (nowMs) => {
        const problem = rfAbsent("activate") ?? rfLost(nowMs, "activate")
        if (problem !== undefined) return Effect.fail(problem)
        // Just checked by rfReady: a card is at the RF position.
        const card = s.transport as SimCard
        s.activated = true
        s.authSector = -1
        return Effect.as(pause(timing.rfMs), { uid: card.uid, protocol: "M" as const, atqa: card.atqa, sak: card.sak })
      }),

      authenticate: (sector, keyType, key) =>
        command(true, (nowMs) => {
          const address = addressProblem(sector, 0, "read")
          const problem = rfAbsent("authenticate") ??
            (address !== undefined ? new RfFailure({ reason: "address", detail: address }) : undefined) ??
            (key.length !== keyBytes ? new RfFailure({ reason: "length", detail: `a key is ${keyBytes} bytes, not ${key.length}` }) : undefined) ??
            rfLost(nowMs, "authenticate")
          if (problem !== undefined) return Effect.fail(problem)
          const card = s.transport as SimCard
          const ok = card.keyMatches(sector, keyType, key)
          s.authSector = ok ? sector : -1
          return Effect.zipRight(
            pause(timing.rfMs),
            ok ? Effect.void : Effect.fail(new RfFailure({ reason: "auth", detail: `key ${keyType} does not open sector ${sector}` }))
          )
        }),

      readBlock: (sector, block) =>
        command(true, (nowMs) => {
          const problem = rfAbsent("read") ?? blockProblem(sector, block, "read") ?? rfLost(nowMs, "read")
          if (problem !== undefined) return Effect.fail(problem)
          return Effect.as(pause(timing.rfMs), (s.transport as SimCard).read(sector, block))
        }),

      writeBlock: (sector, block, data) =>
        command(true, (nowMs) => {
          const problem = rfAbsent("write") ??
            blockProblem(sector, block, "write") ??
            (data.length !== blockBytes ? new RfFailure({ reason: "length", detail: `a block is ${blockBytes} bytes, not ${data.length}` }) : undefined) ??
            rfLost(nowMs, "write")
          if (problem !== undefined) return Effect.fail(problem)
          ;(s.transport as SimCard).write(sector, block, data)
          return pause(timing.rfMs)
        }),

      presentAtGate: command(true, present),

      awaitTaken: (timeoutMs) =>
        command(true, () =>
          Effect.gen(function*() {
            if (s.transport === undefined) return
            if (!s.atGate) {
              return yield* new DeviceRefused({ device, code: "02", meaning: "the card is inside the unit, not at the gate; present it first" })
            }
            const h = s.handOver
            const nowMs = yield* Clock.currentTimeMillis
            if (h !== undefined && h.plan._tag === "Take" && h.atMs + h.plan.afterMs <= nowMs + timeoutMs) {
              yield* pause(h.atMs + h.plan.afterMs - nowMs)
              settle(yield* Clock.currentTimeMillis)
              return
            }
            if (h !== undefined && h.plan._tag === "Manual") {
              const waiter = yield* Deferred.make<void>()
              s.takeWaiter = waiter
              const woken = yield* Effect.timeoutOption(Deferred.await(waiter), timeoutMs)
              s.takeWaiter = undefined
              if (Option.isSome(woken)) return
            } else {
              yield* pause(timeoutMs)
            }
            return yield* new CardNotTaken({ waitedMs: timeoutMs })
          })),

      capture: command(true, captureCard),

      setFrontEntry: (enabled) =>
        command(true, () =>
          Effect.sync(() => {
            s.frontEntry = enabled
          })),

      awaitInserted: (timeoutMs) =>
        command(true, () =>
          Effect.gen(function*() {
            if (!s.frontEntry) {
              return yield* new DeviceRefused({ device, code: "02", meaning: "front entry is disabled; enable it before waiting for a card" })
            }
            if (s.transport !== undefined && !s.atGate) {
              return yield* new DeviceRefused({ device, code: "02", meaning: "a card is already inside the unit; capture or present it first" })
            }
            if (s.transport === undefined && s.slot === undefined) {
              const waiter = yield* Deferred.make<void>()
              s.slotWaiter = waiter
              const woken = yield* Effect.timeoutOption(Deferred.await(waiter), timeoutMs)
              s.slotWaiter = undefined
              if (Option.isNone(woken) || s.slot === undefined) return false
            }
            if (s.transport === undefined) {
              // The customer's card enters the transport at the gate; a jam drawing it in leaves it there.
              s.transport = s.slot
              s.slot = undefined
              s.atGate = true
              s.inserted++
            }
            yield* move(timing.retractMs, "drawing in an inserted card", () => {
              s.atGate = false
              s.handOver = undefined
              leaveRf()
            })
            return true
          })),

      binCount: Effect.sync(() => s.binCards)
    }

    const control: SimCardUnitControlService = {
      loadStacker: (cards) =>
        Effect.sync(() => {
          const loaded = Math.max(0, Math.min(cards, stackerCapacity - s.stackerCards))
          s.stackerCards += loaded
          return loaded
        }),
      emptyBin: Effect.sync(() => {
        const cards = s.bin
        s.bin = []
        s.binCards = 0
        return cards
      }),
      insertAtGate: (card) =>
        Effect.suspend(() => {
          if (s.slot !== undefined) return Effect.dieMessage("sim card unit: a card is already waiting at the slot")
          s.slot = card
          return s.slotWaiter === undefined ? Effect.void : Deferred.succeed(s.slotWaiter, undefined)
        }),
      withdrawFromSlot: Effect.sync(() => {
        const card = s.slot
        s.slot = undefined
        return card
      }),
      takeFromGate: Effect.suspend(() => {
        const card = removeFromGate()
        return s.takeWaiter === undefined ? Effect.succeed(card) : Effect.as(Deferred.succeed(s.takeWaiter, undefined), card)
      }),
      planHandOver: (plan) =>
        Effect.sync(() => {
          s.nextPlan = plan
        }),
      drainTaken: Effect.sync(() => {
        const cards = s.taken
        s.taken = []
        return cards
      }),
      mintCard: Effect.sync(() => factory.mint(random)),
      setFault: (knob, spec) => Effect.sync(() => faults.set(knob, spec)),
      snapshot: Effect.map(Clock.currentTimeMillis, (nowMs) => {
        settle(nowMs)
        return {
          initialised: s.initialised,
          jammed: s.jammed,
          frontEntry: s.frontEntry,
          position: s.transport === undefined ? "none" : s.atGate ? "gate" : "rf",
          cardInTransport: s.transport,
          cardAtSlot: s.slot,
          stackerCards: s.stackerCards,
          stackerCapacity,
          binCards: s.binCards,
          binCapacity,
          dispensed: s.dispensed,
          captured: s.captured,
          taken: s.takenCount,
          inserted: s.inserted,
          faultsFired: faults.firedCounts()
        }
      })
    }

    const blockProblem = (sector: number, block: number, op: "read" | "write"): RfFailure | undefined => {
      const address = addressProblem(sector, block, op)
      if (address !== undefined) return new RfFailure({ reason: "address", detail: address })
      if (s.authSector !== sector) {
        return new RfFailure({ reason: "auth", detail: `sector ${sector} is not authenticated; authenticate it first` })
      }
      return undefined
    }

    return { port, control }
  })

/** The card unit and its control as one layer (one unit per context: a single kiosk or a test). */
export const SimCardUnitLive = (config: SimCardUnitConfig = {}): Layer.Layer<CardUnit | SimCardUnitControl> =>
  Layer.effectContext(
    Effect.map(makeSimCardUnit(config), ({ control, port }) =>
      Context.make(CardUnit, port).pipe(Context.add(SimCardUnitControl, control)))
  )
