import { HttpApiBuilder } from "@effect/platform"
import { Effect, Option } from "effect"
import type { OrderId } from "../../core/domain/ids.js"
import { AbortOrder, DeliverOrder } from "../../core/domain/order.js"
import { Kiosks } from "../../core/kiosks.js"
import { Orders } from "../../core/orders.js"
import type { BackendRefused, KioskBackendService } from "../../core/ports/kiosk-backend.js"
import { EcouponApi } from "../http-api/api.js"
import { makeProblem } from "../http-api/problem.js"
import { CurrentKiosk } from "../http-api/security.js"
import { KioskBackends } from "./kiosk-backends.js"
import { kioskEventsResponse } from "./kiosk-events.js"
import { refusalProblem } from "./problems.js"

/**
 * The kiosks group: each endpoint is one `KioskBackend` call of the caller's kiosk. Orders are the
 * kiosk's own: asking about, dispensing for, delivering or aborting another kiosk's order is refused
 * (403) before anything is written.
 */
export const KiosksHttpLive = HttpApiBuilder.group(EcouponApi, "kiosks", (handlers) =>
  Effect.gen(function* () {
    const backends = yield* KioskBackends
    const orders = yield* Orders
    const kiosks = yield* Kiosks

    const backend = Effect.flatMap(CurrentKiosk, (kiosk) => backends.forKiosk(kiosk.kioskId))
    const call = <A>(use: (service: KioskBackendService) => Effect.Effect<A, BackendRefused | { readonly _tag: "BackendUnavailable"; readonly detail: string }>) =>
      Effect.flatMap(backend, use).pipe(
        Effect.catchTags({
          BackendRefused: (refused) => Effect.fail(refusalProblem(refused)),
          // In-process the backend is never unavailable; were it ever, it is the server's own failure.
          BackendUnavailable: (unavailable) => Effect.die(new Error(unavailable.detail))
        })
      )

    /** Refuses an order of another kiosk; an unknown order goes on to the core, which says so. */
    const ownOrder = (orderId: OrderId) =>
      Effect.gen(function* () {
        const kiosk = yield* CurrentKiosk
        const found = yield* Effect.option(orders.get(orderId))
        if (Option.isSome(found) && found.value.kioskId !== kiosk.kioskId) {
          return yield* Effect.fail(makeProblem(403, "order-of-another-kiosk", "Order of another kiosk", `order ${orderId} was placed at another kiosk; a kiosk acts only on its own orders (make order ids unique per kiosk)`, { reason: "order-conflict" }))
        }
        return found
      })

    return handlers
      .handle("requestCode", ({ payload }) => call((service) => service.requestCode(payload.phone)))
      .handle("verifyCode", ({ path, payload }) => call((service) => service.verifyCode(path.challengeId, payload.code)))
      .handle("endSession", ({ path }) => call((service) => service.endSession(path.sessionId)))
      .handle("catalog", () => call((service) => service.catalog))
      .handle("place", ({ payload }) => call((service) => service.place(payload)))
      .handle("order", ({ path }) =>
        Effect.flatMap(ownOrder(path.orderId), (found) =>
          Option.match(found, {
            onNone: () => Effect.fail(makeProblem(404, "order-not-found", "Order not found", `no order ${path.orderId}; it was never placed here`)),
            onSome: Effect.succeed
          })
        ))
      .handle("beginDispense", ({ path, payload }) => Effect.zipRight(ownOrder(path.orderId), call((service) => service.beginDispense(path.orderId, payload.cardUid))))
      .handle("deliver", ({ path, payload }) =>
        Effect.zipRight(ownOrder(path.orderId), call((service) => service.deliver(new DeliverOrder({ orderId: path.orderId, medium: payload.medium })))))
      .handle("abort", ({ path, payload }) =>
        Effect.zipRight(
          ownOrder(path.orderId),
          call((service) => service.abort(new AbortOrder({ orderId: path.orderId, reason: payload.reason, ...(payload.retainedCardUid !== undefined ? { retainedCardUid: payload.retainedCardUid } : {}) })))
        ))
      .handle("returnCard", ({ payload }) => call((service) => service.returnCard(payload.cardUid)))
      .handle("reportState", ({ payload }) => call((service) => service.reportState(payload)))
      .handle("events", ({ headers }) =>
        Effect.gen(function* () {
          const caller = yield* CurrentKiosk
          const kiosk = yield* kiosks.get(caller.kioskId).pipe(Effect.orDie)
          return yield* kioskEventsResponse(caller.kioskId, kiosk.regionId, headers["last-event-id"])
        }))
  })
)
