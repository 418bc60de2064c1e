import { Effect, Layer } from "effect"
import type { OrderId } from "../core/domain/ids.js"
import { type InFlightOrder, KioskJournal, type KioskJournalService } from "../core/ports/kiosk-journal.js"

/**
 * The kiosk's journal of orders in flight, in memory: the simulator's stand-in for the file a kiosk
 * agent keeps. It survives what the simulator calls a kiosk restart (the flow is rebuilt over the same
 * journal), which is the point of it.
 *
 * Bounded: a kiosk has at most a handful of orders in flight (one customer at a time, plus orders
 * whose resolution the server could not be told yet). More than `entriesMax` means the kiosk stopped
 * reconciling, which is a bug worth dying for rather than a list worth growing.
 */
export const JOURNAL_ENTRIES_MAX = 1_000

export interface SimKioskJournal {
  readonly service: KioskJournalService
  /** What is in flight now, in the order it was first written. */
  readonly entries: () => ReadonlyArray<InFlightOrder>
}

export const makeSimKioskJournal = (entriesMax = JOURNAL_ENTRIES_MAX): SimKioskJournal => {
  const entries = new Map<OrderId, InFlightOrder>()
  const service: KioskJournalService = {
    put: (entry) =>
      Effect.suspend(() => {
        if (!entries.has(entry.orderId) && entries.size >= entriesMax) {
          return Effect.dieMessage(`kiosk journal: more than ${entriesMax} orders in flight; the kiosk is not reconciling them`)
        }
        entries.set(entry.orderId, entry)
        return Effect.void
      }),
    remove: (orderId) => Effect.sync(() => void entries.delete(orderId)),
    all: Effect.sync(() => [...entries.values()])
  }
  return { service, entries: () => [...entries.values()] }
}

/** A fresh, empty journal as a layer. */
export const SimKioskJournalLive = (entriesMax = JOURNAL_ENTRIES_MAX): Layer.Layer<KioskJournal> =>
  Layer.sync(KioskJournal, () => makeSimKioskJournal(entriesMax).service)
