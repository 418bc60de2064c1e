import { Effect, Layer, Option, Ref } from "effect"
import { type CardUid, CouponCode, CouponId, InstitutionId, KioskId, MerchantId, OfferId, type OrderId, UserId } from "../../core/domain/ids.js"
import { CardReturn } from "../../core/domain/card.js"
import { Abortion, Delivery, Placement } from "../../core/domain/order.js"
import { BackendRefused, KioskBackend, type KioskSession } from "../../core/ports/kiosk-backend.js"
import { type InFlightOrder, KioskJournal } from "../../core/ports/kiosk-journal.js"

/**
 * A stand-in management server and an in-memory kiosk journal, so the core kiosk flow can run on the
 * serial hardware layers in a test without the server's services. The backend answers like the real
 * one does on the happy path, records every call, and knows which card UIDs it delivered (a card it
 * never delivered is refused on return, as the real server refuses an unknown card).
 */

export const stubMerchant = MerchantId.make("mer_bench")
export const stubOffer = OfferId.make("off_americano")
export const stubSession: KioskSession = { sessionId: "ses_bench", userId: UserId.make("usr_bench"), balancePoints: 100_000, newlyRegistered: false }
const kioskId = KioskId.make("ksk_bench")
const PRICE_POINTS = 4500

export const stubKioskBackend = () => {
  const calls: Array<string> = []
  const placements = new Map<OrderId, Placement>()
  const deliveredCards = new Set<CardUid>()
  let placed = 0
  const layer = Layer.succeed(KioskBackend, {
    requestCode: () => Effect.succeed({ challengeId: "chl_bench", purpose: "identify" as const }),
    verifyCode: () => Effect.succeed(stubSession),
    endSession: () => Effect.void,
    catalog: Effect.succeed({
      version: 1,
      offers: [{ offerId: stubOffer, merchantId: stubMerchant, title: "Americano", pricePoints: PRICE_POINTS, stock: 100, validUntilMs: 0 }]
    }),
    place: (request) =>
      Effect.sync(() => {
        calls.push(`place ${request.medium}`)
        const existing = placements.get(request.orderId)
        if (existing) return existing
        placed += 1
        const n = String(placed).padStart(4, "0")
        const placement = new Placement({
          orderId: request.orderId,
          couponId: CouponId.make(`cpn_bench${n}`),
          couponCode: CouponCode.make(`7K3M-Q9RT-${n}`),
          merchantId: stubMerchant,
          offerId: request.offerId,
          quantity: request.quantity,
          unitPricePoints: PRICE_POINTS,
          amountPoints: PRICE_POINTS * request.quantity,
          medium: request.medium,
          placedAtMs: 0
        })
        placements.set(request.orderId, placement)
        return placement
      }),
    beginDispense: (_orderId, cardUid) => Effect.sync(() => void calls.push(`beginDispense ${cardUid}`)),
    deliver: (request) =>
      Effect.sync(() => {
        const placement = placements.get(request.orderId)
        const cardUid = request.medium._tag === "card" ? request.medium.cardUid : null
        calls.push(`deliver ${request.medium._tag}`)
        if (cardUid !== null) deliveredCards.add(cardUid)
        return new Delivery({
          orderId: request.orderId,
          couponId: placement?.couponId ?? CouponId.make("cpn_unknown"),
          couponCode: placement?.couponCode ?? CouponCode.make("0000-0000-0000"),
          valuePoints: placement?.amountPoints ?? 0,
          medium: request.medium._tag,
          cardUid,
          cardDeadlineMs: cardUid === null ? null : 86_400_000,
          issuedAtMs: 0,
          expiresAtMs: 86_400_000
        })
      }),
    abort: (request) =>
      Effect.sync(() => {
        calls.push(`abort ${request.reason}`)
        return new Abortion({
          orderId: request.orderId,
          couponId: placements.get(request.orderId)?.couponId ?? CouponId.make("cpn_unknown"),
          reason: request.reason,
          retainedCardUid: request.retainedCardUid ?? null,
          abortedAtMs: 0
        })
      }),
    order: () => Effect.succeed(Option.none()),
    returnCard: (cardUid) =>
      deliveredCards.has(cardUid)
        ? Effect.sync(() => {
            calls.push(`returnCard ${cardUid}`)
            deliveredCards.delete(cardUid)
            return new CardReturn({
              uid: cardUid,
              kioskId,
              outcome: "returned",
              institutionId: InstitutionId.make("ins_bench"),
              forwardedPoints: PRICE_POINTS,
              returnedAtMs: 0
            })
          })
        : Effect.fail(new BackendRefused({ reason: "unknown-card", detail: `card ${cardUid} was not issued by this system` })),
    reportState: () => Effect.succeed({ version: 1, enabled: true, catalogVersion: 1 })
  })
  return { calls, layer }
}

export const memoryJournal = Layer.effect(
  KioskJournal,
  Effect.map(Ref.make(new Map<OrderId, InFlightOrder>()), (entries) => ({
    put: (entry: InFlightOrder) => Ref.update(entries, (m) => new Map(m).set(entry.orderId, entry)),
    remove: (orderId: OrderId) =>
      Ref.update(entries, (m) => {
        const next = new Map(m)
        next.delete(orderId)
        return next
      }),
    all: Effect.map(Ref.get(entries), (m) => [...m.values()])
  }))
)
