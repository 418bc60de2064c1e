import { Effect, Either, Option } from "effect"
import { AbortOrder, DeliverOrder } from "./domain/order.js"
import type { KioskBackendService } from "./ports/kiosk-backend.js"
import type { InFlightOrder, KioskJournalService } from "./ports/kiosk-journal.js"
import { traced } from "./traced.js"

/**
 * What `reconcile` did with one order the journal had in flight. The rule, stage by stage:
 * - placing: if the server never saw it, forget it; if it is placed, abort it (nothing was handed over);
 * - dispensing / card-issued / printing: the start-up Init captured any card in the unit and nothing
 *   was handed over (a page may have printed: its code is void), so abort, retaining the card if its
 *   UID is known;
 * - card-issued, when start-up looked in the unit and the card was not there: it was presented and
 *   taken (the flow presents a card only once its coupon reads back), so deliver;
 * - handed-over: the customer has it, so deliver;
 * - aborting: finish the abort the kiosk had decided.
 * An order the server already resolved is forgotten. If the server is unreachable the entry stays.
 */
export type Reconciled =
  | { readonly _tag: "Delivered" | "Aborted" | "Forgotten"; readonly entry: InFlightOrder }
  | { readonly _tag: "Kept"; readonly entry: InFlightOrder; readonly reason: string }

const restartReason = (entry: InFlightOrder) => `kiosk restarted during ${entry.stage}`

export const reconcileOrder = (
  backend: KioskBackendService,
  journal: KioskJournalService,
  entry: InFlightOrder,
  options: { readonly cardLeftUnit: boolean } = { cardLeftUnit: false }
): Effect.Effect<Reconciled> =>
  Effect.gen(function* () {
    const known = yield* Effect.either(backend.order(entry.orderId))
    if (Either.isLeft(known)) return { _tag: "Kept", entry, reason: known.left.message } as const
    const forget = (tag: "Delivered" | "Aborted" | "Forgotten") => Effect.as(journal.remove(entry.orderId), { _tag: tag, entry } as Reconciled)
    if (Option.isNone(known.right)) return yield* forget("Forgotten")
    if (known.right.value.state !== "placed") return yield* forget("Forgotten")

    const handedOver = entry.stage === "handed-over" || (entry.stage === "card-issued" && entry.cardUid !== null && options.cardLeftUnit)
    // The card may have been taken out for the order before the server heard its UID (a cut, or the
    // server unreachable at that moment): record it first (a replay is harmless), or the abort could
    // not retain it.
    const retainedUid = entry.cardUid !== null && !handedOver && (entry.stage !== "aborting" || entry.cardRetained) ? entry.cardUid : null
    if (retainedUid !== null) yield* Effect.ignore(backend.beginDispense(entry.orderId, retainedUid))
    const settled: Effect.Effect<unknown, { readonly message: string }> =
      handedOver
        ? backend.deliver(
            new DeliverOrder({
              orderId: entry.orderId,
              medium: entry.cardUid !== null ? { _tag: "card", cardUid: entry.cardUid } : entry.medium === "phone" ? { _tag: "phone" } : { _tag: "paper" }
            })
          )
        : backend.abort(
            new AbortOrder({
              orderId: entry.orderId,
              reason: entry.stage === "aborting" && entry.abortReason !== null ? entry.abortReason : restartReason(entry),
              // After a restart start-up captured whatever card the order had taken.
              ...(retainedUid !== null ? { retainedCardUid: retainedUid } : {})
            })
          )
    const outcome = yield* Effect.either(settled)
    if (Either.isLeft(outcome)) return { _tag: "Kept", entry, reason: outcome.left.message } as const
    return yield* forget(handedOver ? "Delivered" : "Aborted")
  }).pipe(traced("KioskFlow.reconcileOrder"))
