import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Auditor } from "../../core/audit.js"
import { OrderId } from "../../core/domain/ids.js"
import { AbortOrder, DeliverOrder } from "../../core/domain/order.js"
import { testStores } from "../store/testing.js"
import { codeSentFor, deployment, kioskBackendOver, liveServer } from "./testing.js"

const backendOver = kioskBackendOver

for (const store of testStores) {
  describe(`the kiosks group over HTTP on ${store.name}`, () => {
    it.scopedLive("runs a customer's journey: code, session, catalog, order on paper, reconcile, abort, audit clean", () =>
      Effect.gen(function* () {
        const server = yield* liveServer(store.layer)
        const key = yield* server.issue("kiosk", deployment.kiosk1)
        const backend = yield* backendOver(server.baseUrl, key)

        const sent = yield* backend.requestCode("+821055501234")
        expect(sent.purpose).toBe("register")
        const code = yield* codeSentFor(sent.challengeId).pipe(Effect.provide(server.context))
        const session = yield* backend.verifyCode(sent.challengeId, code)
        expect(session.newlyRegistered).toBe(true)

        const catalog = yield* backend.catalog
        expect(catalog.offers.map((offer) => offer.offerId)).toEqual([deployment.offer])

        const orderId = OrderId.make("ord_http_1")
        const request = { orderId, sessionId: session.sessionId, offerId: deployment.offer, quantity: 1, catalogVersion: catalog.version, medium: "paper" as const }
        const placement = yield* backend.place(request)
        expect(yield* backend.place(request)).toEqual(placement)
        const delivery = yield* backend.deliver(new DeliverOrder({ orderId, medium: { _tag: "paper" } }))
        expect(delivery.valuePoints).toBe(deployment.offerPricePoints)
        const stored = yield* backend.order(orderId)
        expect(Option.map(stored, (order) => order.state)).toEqual(Option.some("delivered"))
        expect(yield* backend.order(OrderId.make("ord_never"))).toEqual(Option.none())

        // A refusal comes back as the same BackendRefused the in-process layer gives.
        const stale = yield* Effect.flip(backend.place({ ...request, orderId: OrderId.make("ord_http_2"), catalogVersion: catalog.version + 5 }))
        expect(stale._tag === "BackendRefused" && [stale.reason, stale.currentCatalogVersion]).toEqual(["catalog-changed", catalog.version])
        const second = yield* backend.place({ ...request, orderId: OrderId.make("ord_http_3") })
        const aborted = yield* backend.abort(new AbortOrder({ orderId: second.orderId, reason: "customer left" }))
        expect(aborted.reason).toBe("customer left")

        const desired = yield* backend.reportState({ deviceStatus: "ok", stackerLevel: "ok", stackerCount: null, binCount: 0, unidentifiedCaptures: 0, printerStatus: "ok", softwareVersion: "test" })
        expect(desired.enabled).toBe(true)
        yield* backend.endSession(session.sessionId)

        const report = yield* Effect.flatMap(Auditor, (auditor) => auditor.run).pipe(Effect.provide(server.context))
        expect(report.ok).toBe(true)
      }))

    it.scopedLive("keeps a kiosk to its own orders and refuses a key of another kind", () =>
      Effect.gen(function* () {
        const server = yield* liveServer(store.layer)
        const one = yield* backendOver(server.baseUrl, yield* server.issue("kiosk", deployment.kiosk1))
        const two = yield* backendOver(server.baseUrl, yield* server.issue("kiosk", deployment.kiosk2))
        const sent = yield* one.requestCode("+821055505678")
        const session = yield* one.verifyCode(sent.challengeId, yield* codeSentFor(sent.challengeId).pipe(Effect.provide(server.context)))
        const orderId = OrderId.make("ord_http_own")
        yield* one.place({ orderId, sessionId: session.sessionId, offerId: deployment.offer, quantity: 1, catalogVersion: (yield* one.catalog).version, medium: "paper" })
        const refused = yield* Effect.flip(two.deliver(new DeliverOrder({ orderId, medium: { _tag: "paper" } })))
        expect(refused._tag === "BackendRefused" && refused.reason).toBe("order-conflict")
        expect(Option.map(yield* one.order(orderId), (order) => order.state)).toEqual(Option.some("placed"))
        // Kiosk 2's region has no offers: the catalog is its region's.
        expect((yield* two.catalog).offers).toEqual([])

        const merchantKey = yield* server.issue("merchant", deployment.merchant)
        const asMerchant = yield* backendOver(server.baseUrl, merchantKey)
        const wrongKind = yield* Effect.flip(asMerchant.catalog)
        expect(wrongKind._tag === "BackendRefused" && wrongKind.reason).toBe("kiosk-disabled")
      }))
  })
}
