import { type Deferred, Effect } from "effect"
import type { CardPosition, CardUnitError, StackerLevel } from "../core/ports/card-unit.js"
import { BinFull, DeviceRefused, Jam, NotInitialised, RfFailure, SensorFault, StackerEmpty } from "../core/ports/hardware-errors.js"
import { BoundedLog } from "./bounded.js"
import { addressProblem, type CardFactory, type SimCard } from "./card-memory.js"
import type { FaultKnob, FaultTable } from "./faults.js"
import type { DeviceRandom } from "./rng.js"
import { mapNowMs, sleepMs, withNowMs } from "./clock-now.js"

/**
 * The state and mechanics of one simulated card unit (CRT-591 class): what is in the stacker, the
 * transport, the gate and the bin, and how a move changes it. `card-unit.ts` turns it into the port,
 * `card-unit-control.ts` into the control service. Plain mutable fields: a unit runs one command at a
 * time, like the real one, and a fleet run makes millions of calls.
 */

export type CardFaultKnob = Extract<FaultKnob, `card.${string}`>

/**
 * What the customer does with the next card presented at the gate: take it `afterMs` after it
 * arrives, leave it there, or wait for `takeFromGate` (a test or behaviour model acting by hand).
 * The `card.notTaken` fault turns any plan into `Leave`.
 */
export type HandOverPlan =
  | { readonly _tag: "Take"; readonly afterMs: number }
  | { readonly _tag: "Leave" }
  | { readonly _tag: "Manual" }

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

export interface CardUnitSettings {
  readonly timing: CardUnitTiming
  readonly stackerCapacity: number
  readonly preEmptyAt: number
  readonly binCapacity: number
  readonly defaultPlan: HandOverPlan
  readonly takenKeptMax: number
  readonly firmware: string
}

export const device = "card unit"

export const pause = (ms: number): Effect.Effect<void> => (ms > 0 ? sleepMs(ms) : Effect.void)

export class CardUnitModel {
  initialised: boolean
  jammed = false
  frontEntry = false
  stackerCards: number
  binCards: number
  bin: Array<SimCard> = []
  /** The card inside the unit: at the RF position, or at the gate when `atGate`. */
  transport: SimCard | undefined = undefined
  atGate = false
  activated = false
  authSector = -1
  /** A card a customer holds at the closed slot. */
  slot: SimCard | undefined = undefined
  nextPlan: HandOverPlan | undefined = undefined
  /** The presented card's plan and when it reached the gate. */
  handOver: { readonly plan: HandOverPlan; readonly atMs: number } | undefined = undefined
  readonly taken: BoundedLog<SimCard>
  takeWaiter: Deferred.Deferred<void> | undefined = undefined
  slotWaiter: Deferred.Deferred<void> | undefined = undefined
  dispensed = 0
  captured = 0
  takenCount = 0
  inserted = 0

  constructor(
    readonly settings: CardUnitSettings,
    readonly faults: FaultTable<CardFaultKnob>,
    readonly random: DeviceRandom,
    readonly factory: CardFactory,
    initial: { readonly initialised: boolean; readonly stackerCards: number; readonly binCards: number }
  ) {
    this.initialised = initial.initialised
    this.stackerCards = Math.min(initial.stackerCards, settings.stackerCapacity)
    this.binCards = initial.binCards
    this.taken = new BoundedLog(settings.takenKeptMax)
  }

  get position(): CardPosition {
    return this.transport === undefined ? "none" : this.atGate ? "gate" : "rf"
  }

  stackerLevel(nowMs: number): StackerLevel {
    if (this.stackerCards === 0 || this.faults.inForce("card.stackerEmpty", nowMs)) return "empty"
    return this.stackerCards <= this.settings.preEmptyAt ? "low" : "ok"
  }

  binFull(nowMs: number): boolean {
    return this.binCards >= this.settings.binCapacity || this.faults.inForce("card.binFull", nowMs)
  }

  /** The customer takes the card at the gate; it goes to the taken list, oldest dropped past the limit. */
  removeFromGate(): SimCard | undefined {
    const card = this.atGate ? this.transport : undefined
    if (card === undefined) return undefined
    this.transport = undefined
    this.atGate = false
    this.handOver = undefined
    this.takenCount++
    this.taken.push(card)
    return card
  }

  /** Applies what the customer did at the gate up to `nowMs`; every command looks at the unit after it. */
  settle(nowMs: number): void {
    const h = this.handOver
    if (h !== undefined && h.plan._tag === "Take" && h.atMs + h.plan.afterMs <= nowMs) this.removeFromGate()
  }

  /** The checks every command makes, in the unit's order: Init, then the sensors. */
  ready(nowMs: number, needsInit: boolean): CardUnitError | undefined {
    this.settle(nowMs)
    if (needsInit && !this.initialised) return new NotInitialised({ device })
    if (this.faults.fires("card.sensor", nowMs)) return new SensorFault({ device, detail: "position sensor reads inconsistent" })
    return undefined
  }

  /** A stray card pushed in at the gate while the transport is empty (`card.inserted`). */
  maybeStray(nowMs: number): void {
    if (this.transport === undefined && this.faults.fires("card.inserted", nowMs)) {
      this.transport = this.factory.mint(this.random)
      this.atGate = true
      this.handOver = undefined
    }
  }

  leaveRf(): void {
    this.activated = false
    this.authSector = -1
  }

  /**
   * A move: refused while a jam is latched; else the mechanical time, then either a new jam (latched,
   * the card stays where it was) or the state change.
   */
  move(ms: number, what: string, apply: () => void): Effect.Effect<void, Jam> {
    if (this.jammed) return Effect.fail(new Jam({ device, detail: "still jammed from an earlier move" }))
    return withNowMs((nowMs) => {
      const jams = this.faults.fires("card.jam", nowMs)
      return Effect.flatMap(pause(ms), () => {
        if (jams) {
          this.jammed = true
          this.leaveRf()
          return Effect.fail(new Jam({ device, detail: what }))
        }
        apply()
        return Effect.void
      })
    })
  }

  /**
   * Takes the next card off the stacker into the transport, as a move to the RF position or the gate
   * with an empty transport does. A jam stops the pick before the card leaves the stacker (as the
   * `hil/` emulator does), so the stacker count stays what the kiosk's card ledger expects.
   */
  pick(nowMs: number, ms: number, what: string, apply: () => void): Effect.Effect<void, StackerEmpty | Jam> {
    if (this.stackerCards === 0 || this.faults.fires("card.stackerEmpty", nowMs)) return Effect.fail(new StackerEmpty())
    return this.move(ms, what, () => {
      this.stackerCards--
      this.dispensed++
      this.transport = this.factory.mint(this.random)
      this.atGate = false
      apply()
    })
  }

  present(nowMs: number): Effect.Effect<void, StackerEmpty | Jam> {
    const { presentMs, dispenseMs } = this.settings.timing
    const toGate = () => {
      this.atGate = true
      this.leaveRf()
    }
    // The plan is fixed when the card reaches the gate, so a failed move does not use it up.
    const arrive = mapNowMs((atMs) => {
      const plan = this.faults.fires("card.notTaken", atMs) ? { _tag: "Leave" as const } : (this.nextPlan ?? this.settings.defaultPlan)
      this.nextPlan = undefined
      this.handOver = { plan, atMs }
    })
    if (this.transport === undefined) return Effect.zipRight(this.pick(nowMs, dispenseMs + presentMs, "dispensing to the gate", toGate), arrive)
    if (this.atGate) return Effect.void
    return Effect.zipRight(this.move(presentMs, "moving the card to the gate", toGate), arrive)
  }

  /** Carries the card in the transport (or at the gate) into the bin; with no card there, error 02. */
  capture(nowMs: number): Effect.Effect<void, BinFull | DeviceRefused | Jam> {
    const card = this.transport
    if (card === undefined) {
      return Effect.fail(new DeviceRefused({ device, code: "02", meaning: "no card in the transport to capture" }))
    }
    if (this.binCards >= this.settings.binCapacity || this.faults.fires("card.binFull", nowMs)) return Effect.fail(new BinFull())
    return this.move(this.settings.timing.captureMs, this.atGate ? "capturing from the gate" : "capturing", () => {
      this.bin.push(card)
      this.binCards++
      this.captured++
      this.transport = undefined
      this.atGate = false
      this.handOver = undefined
      this.leaveRf()
    })
  }

  /** Why an RF operation cannot start: no card at the RF position, or not activated. */
  rfAbsent(op: string): RfFailure | undefined {
    if (this.transport === undefined || this.atGate) return new RfFailure({ reason: "no-card", detail: `no card at the RF position to ${op}` })
    if (op !== "activate" && !this.activated) {
      return new RfFailure({ reason: "no-card", detail: `the card is not activated; activate it before you ${op}` })
    }
    return undefined
  }

  /** The card at the RF position, once `rfAbsent` has said there is one (asserted, not assumed). */
  rfCard(): SimCard {
    if (this.transport === undefined || this.atGate) throw new Error("sim card unit: no card at the RF position after rfAbsent passed")
    return this.transport
  }

  /** The `card.rf` fault: the card stops answering and must be activated again. */
  rfLost(nowMs: number, op: string): RfFailure | undefined {
    if (!this.faults.fires("card.rf", nowMs)) return undefined
    this.leaveRf()
    return new RfFailure({ reason: "transmission", detail: `no answer from the card during ${op}` })
  }

  blockProblem(sector: number, block: number, op: "read" | "write"): RfFailure | undefined {
    const address = addressProblem(sector, block, op)
    if (address !== undefined) return new RfFailure({ reason: "address", detail: address })
    if (this.authSector !== sector) {
      return new RfFailure({ reason: "auth", detail: `sector ${sector} is not authenticated; authenticate it first` })
    }
    return undefined
  }
}
