import { Effect, Layer, SubscriptionRef } from "effect"
import { CardUnit } from "../../core/ports/card-unit.js"
import { type InFlightStage, KioskJournal } from "../../core/ports/kiosk-journal.js"
import type { Progress } from "./journey-view.js"

/**
 * The order's progress as the customer watches it ("take your card"), read off the ports the kiosk
 * flow already uses rather than added to the flow: the journal says which stage the order reached,
 * and the card unit says when the card reaches the gate. Both layers wrap the real ones and pass
 * every call through unchanged.
 */

const stageProgress: Record<InFlightStage, Progress> = {
  placing: "placing",
  dispensing: "dispensing",
  "card-issued": "writing",
  printing: "printing",
  "handed-over": "finishing",
  aborting: "cancelling"
}

export type ProgressBoard = SubscriptionRef.SubscriptionRef<Progress | null>

export const makeProgressBoard: Effect.Effect<ProgressBoard> = SubscriptionRef.make<Progress | null>(null)

/** The journal, telling the board each stage an order reaches. */
export const reportingJournal = (board: ProgressBoard): Layer.Layer<KioskJournal, never, KioskJournal> =>
  Layer.effect(
    KioskJournal,
    Effect.map(KioskJournal, (journal) => ({
      ...journal,
      put: (entry) => Effect.zipRight(journal.put(entry), SubscriptionRef.set(board, stageProgress[entry.stage]))
    }))
  )

/** The card unit, telling the board when a card waits at the gate for the customer. */
export const reportingCardUnit = (board: ProgressBoard): Layer.Layer<CardUnit, never, CardUnit> =>
  Layer.effect(
    CardUnit,
    Effect.map(CardUnit, (unit) => ({
      ...unit,
      presentAtGate: Effect.tap(unit.presentAtGate, () => SubscriptionRef.set(board, "take-card"))
    }))
  )
