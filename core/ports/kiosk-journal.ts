import { Context, type Effect } from "effect"
import type { CardUid, OrderId } from "../domain/ids.js"
import type { Medium } from "../domain/order.js"

/**
 * The kiosk's own durable memory of orders in flight (DESIGN §4): written before each irreversible
 * step, so that after a crash or power cut the kiosk knows how far an order got and can finish or
 * abort it with the server. Kept on the kiosk PC (a file in production, memory in the simulator).
 */
export type InFlightStage =
  /** Asked the server to place it; the answer may have been lost. */
  | "placing"
  /** Placed; a card is being taken from the stacker (uid unknown until the RF read). */
  | "dispensing"
  /** The card's UID is known and recorded with the server; writing or presenting it. */
  | "card-issued"
  /** Paper is printing. */
  | "printing"
  /** The customer has the coupon; the server may not know yet. */
  | "handed-over"
  /** The kiosk decided to abort (reason below); the server may not know yet. */
  | "aborting"

export interface InFlightOrder {
  readonly orderId: OrderId
  readonly medium: Medium
  readonly stage: InFlightStage
  readonly cardUid: CardUid | null
  /** With `aborting`: why, and whether the card (cardUid) was captured and is retained. */
  readonly abortReason: string | null
  readonly cardRetained: boolean
  readonly updatedAtMs: number
}

export interface KioskJournalService {
  readonly put: (entry: InFlightOrder) => Effect.Effect<void>
  readonly remove: (orderId: OrderId) => Effect.Effect<void>
  readonly all: Effect.Effect<ReadonlyArray<InFlightOrder>>
}

export class KioskJournal extends Context.Tag("ecoupon/KioskJournal")<KioskJournal, KioskJournalService>() {}
