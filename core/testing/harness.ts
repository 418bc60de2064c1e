import type { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { Auditor } from "../audit.js"
import { Cards } from "../cards.js"
import { Orders } from "../orders.js"
import { Outbox } from "../outbox.js"
import { OrderFlowHandlers } from "../orders-outbox.js"
import { type CardUid, OrderId } from "../domain/ids.js"
import { DeliverOrder, PlaceOrder } from "../domain/order.js"
import { onFreshStore } from "./fresh-store.js"
import { seedWorld, world } from "./world.js"
import { CoreServicesLive } from "../services.js"

/** Every core service, over one `SqlClient`. */
export const servicesLayer = CoreServicesLive

export type Services = Layer.Layer.Success<typeof servicesLayer> | SqlClient.SqlClient

/**
 * Runs a test body on a fresh store (any of `testStores`), with the world seeded, a seeded `Random`
 * and the services above. The test's own TestClock (from `it.effect`) is the only clock.
 */
export const inWorld = (storeLayer: Layer.Layer<SqlClient.SqlClient>, seed = "ecoupon") =>
  onFreshStore(storeLayer, servicesLayer, { setup: seedWorld, seed })

/** Fails the test with the auditor's report unless every invariant holds. */
export const auditClean = Effect.gen(function* () {
  const report = yield* Effect.flatMap(Auditor, (auditor) => auditor.run)
  if (!report.ok) {
    const failed = report.checks.filter((check) => !check.ok).map((check) => `[${check.invariant}] ${check.name}: ${check.violations.join("; ")}`)
    return yield* Effect.dieMessage(`audit failed:\n${failed.join("\n")}`)
  }
  return report
})

/** Places an order of the seeded offer for Alice at kiosk 1, at the seeded catalog version. */
const placeForAlice = (orderId: OrderId, quantity: number, medium: PlaceOrder["medium"]) =>
  Effect.flatMap(Orders, (orders) =>
    orders.place(
      PlaceOrder.make({
        orderId,
        kioskId: world.kiosk1,
        customer: { _tag: "user", userId: world.alice },
        offerId: world.offer,
        quantity,
        catalogVersion: world.catalogVersion,
        medium
      })
    ))

/** Places and delivers (on paper) an order of the seeded offer for Alice: a live coupon to work with. */
export const deliveredCoupon = (name: string, quantity = 1) =>
  Effect.gen(function* () {
    const orders = yield* Orders
    const orderId = OrderId.make(`ord_${name}`)
    const placement = yield* placeForAlice(orderId, quantity, "paper")
    const delivery = yield* orders.deliver(DeliverOrder.make({ orderId, medium: { _tag: "paper" } }))
    return { placement, delivery }
  }).pipe(Effect.orDie)

/** Places an order on card for Alice, dispenses `uid` at kiosk 1 and delivers it onto the card. */
export const deliveredOnCard = (name: string, uid: CardUid, quantity = 1) =>
  Effect.gen(function* () {
    const orders = yield* Orders
    const cards = yield* Cards
    const orderId = OrderId.make(`ord_${name}`)
    const placement = yield* placeForAlice(orderId, quantity, "card")
    yield* cards.beginDispense({ uid, kioskId: world.kiosk1, orderId })
    const delivery = yield* orders.deliver(DeliverOrder.make({ orderId, medium: { _tag: "card", cardUid: uid } }))
    return { placement, delivery }
  }).pipe(Effect.orDie)

/** One batch of the outbox through the order flow's handlers (the test provides the ports). */
export const dispatchOutbox = Effect.gen(function* () {
  const outbox = yield* Outbox
  const { handlers } = yield* OrderFlowHandlers
  return yield* outbox.dispatchDue({ handlers })
})
