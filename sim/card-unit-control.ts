import { Context, Deferred, Effect } from "effect"
import type { CardPosition } from "../core/ports/card-unit.js"
import type { SimCard } from "./card-memory.js"
import type { CardFaultKnob, CardUnitModel, HandOverPlan } from "./card-unit-model.js"
import type { FaultSpec } from "./faults.js"
import { mapNowMs } from "./clock-now.js"

export type { CardFaultKnob, HandOverPlan } from "./card-unit-model.js"

/**
 * What the simulator and tests may do to a simulated card unit that the kiosk flow cannot: play the
 * operator (load the stacker, empty the bin), play the customer (take the card, offer one at the
 * slot), inject faults, and look inside. A separate tag from `CardUnit`, so core never sees it.
 */

export interface SimCardUnitSnapshot {
  readonly initialised: boolean
  readonly jammed: boolean
  readonly frontEntry: boolean
  readonly position: CardPosition
  /** The card in the transport (at the RF position or the gate), if any. */
  readonly cardInTransport: SimCard | undefined
  /** A card a customer holds at the closed slot, waiting for front entry. */
  readonly cardAtSlot: SimCard | undefined
  readonly stackerCards: number
  readonly stackerCapacity: number
  readonly binCards: number
  readonly binCapacity: number
  readonly dispensed: number
  readonly captured: number
  readonly taken: number
  readonly inserted: number
  /** How often each fault knob fired on this unit. */
  readonly faultsFired: Readonly<Partial<Record<CardFaultKnob, number>>>
}

export interface SimCardUnitControlService {
  /** Adds blank cards to the stacker, up to its capacity; returns how many went in. */
  readonly loadStacker: (cards: number) => Effect.Effect<number>
  /** Takes every captured card out of the bin (the operator's collection) and zeroes the counter. */
  readonly emptyBin: Effect.Effect<ReadonlyArray<SimCard>>
  /**
   * A customer offers a card at the slot. With front entry enabled the unit draws it in on
   * `awaitInserted`; otherwise it waits at the slot until front entry is enabled or it is withdrawn.
   */
  readonly insertAtGate: (card: SimCard) => Effect.Effect<void>
  /** The customer gives up and keeps the card that waited at the slot. */
  readonly withdrawFromSlot: Effect.Effect<SimCard | undefined>
  /** The customer takes the card at the gate now (for the `Manual` plan); undefined if none is there. */
  readonly takeFromGate: Effect.Effect<SimCard | undefined>
  /** The plan for the next presentation only; later ones go back to the layer's default. */
  readonly planHandOver: (plan: HandOverPlan) => Effect.Effect<void>
  /** Cards customers took since the last call, oldest first (kept up to the layer's `takenKeptMax`). */
  readonly drainTaken: Effect.Effect<ReadonlyArray<SimCard>>
  /** A blank card from this unit's factory, e.g. a card for a test to insert. */
  readonly mintCard: Effect.Effect<SimCard>
  readonly setFault: (knob: CardFaultKnob, spec: FaultSpec) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<SimCardUnitSnapshot>
}

export class SimCardUnitControl extends Context.Tag("ecoupon/sim/SimCardUnitControl")<
  SimCardUnitControl,
  SimCardUnitControlService
>() {}

export const makeCardUnitControl = (unit: CardUnitModel): SimCardUnitControlService => ({
  loadStacker: (cards) =>
    Effect.sync(() => {
      const loaded = Math.max(0, Math.min(cards, unit.settings.stackerCapacity - unit.stackerCards))
      unit.stackerCards += loaded
      return loaded
    }),
  emptyBin: Effect.sync(() => {
    const cards = unit.bin
    unit.bin = []
    unit.binCards = 0
    return cards
  }),
  insertAtGate: (card) =>
    Effect.suspend(() => {
      if (unit.slot !== undefined) return Effect.dieMessage("sim card unit: a card is already waiting at the slot")
      unit.slot = card
      return unit.slotWaiter === undefined ? Effect.void : Deferred.succeed(unit.slotWaiter, undefined)
    }),
  withdrawFromSlot: Effect.sync(() => {
    const card = unit.slot
    unit.slot = undefined
    return card
  }),
  takeFromGate: Effect.suspend(() => {
    const card = unit.removeFromGate()
    return unit.takeWaiter === undefined ? Effect.succeed(card) : Effect.as(Deferred.succeed(unit.takeWaiter, undefined), card)
  }),
  planHandOver: (plan) =>
    Effect.sync(() => {
      unit.nextPlan = plan
    }),
  drainTaken: Effect.sync(() => unit.taken.drain()),
  mintCard: Effect.sync(() => unit.factory.mint(unit.random)),
  setFault: (knob, spec) => Effect.sync(() => unit.faults.set(knob, spec)),
  snapshot: mapNowMs((nowMs) => {
    unit.settle(nowMs)
    return {
      initialised: unit.initialised,
      jammed: unit.jammed,
      frontEntry: unit.frontEntry,
      position: unit.position,
      cardInTransport: unit.transport,
      cardAtSlot: unit.slot,
      stackerCards: unit.stackerCards,
      stackerCapacity: unit.settings.stackerCapacity,
      binCards: unit.binCards,
      binCapacity: unit.settings.binCapacity,
      dispensed: unit.dispensed,
      captured: unit.captured,
      taken: unit.takenCount,
      inserted: unit.inserted,
      faultsFired: unit.faults.firedCounts()
    }
  })
})
