import { Effect } from "effect"
import type { SimCard } from "./card-memory.js"
import type { SimCardUnitControlService } from "./card-unit-control.js"

/**
 * The customer's hands at a kiosk on simulated hardware: take the card at the gate, put a card back
 * in the slot. On a real kiosk a person does this; on sim hardware the touchscreen shows two buttons
 * for it (so a person can walk a purchase and a return by hand) and the browser tests press them.
 * Cards taken are kept, newest last, so the one bought can be returned; a bounded pocket.
 */

export const POCKET_CARDS_MAX = 100

/** The shape of adapters/kiosk-agent's `CustomerHands`, which this implements. */
export interface SimHands {
  /** Takes the card waiting at the gate; false if there is none. */
  readonly take: Effect.Effect<boolean>
  /** Offers the most recently taken card at the slot; false if the customer holds none. */
  readonly insert: Effect.Effect<boolean>
}

export const makeSimHands = (control: SimCardUnitControlService): SimHands => {
  const pocket: Array<SimCard> = []
  const keep = (cards: ReadonlyArray<SimCard>) => {
    pocket.push(...cards)
    if (pocket.length > POCKET_CARDS_MAX) pocket.splice(0, pocket.length - POCKET_CARDS_MAX)
  }
  // Cards a default hand-over plan took by itself are in the unit's taken log, not in our hands yet.
  const collect = Effect.map(control.drainTaken, keep)
  return {
    take: Effect.gen(function* () {
      const card = yield* control.takeFromGate
      yield* collect
      // takeFromGate records the card in the taken log too; collect picked it up.
      return card !== undefined
    }),
    insert: Effect.gen(function* () {
      yield* collect
      const card = pocket.pop()
      if (card === undefined) return false
      const snapshot = yield* control.snapshot
      if (snapshot.cardAtSlot !== undefined) {
        pocket.push(card)
        return false
      }
      yield* control.insertAtGate(card)
      return true
    })
  }
}
