import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { CouponCode, MerchantId, OfferId, OrderId, RegionId } from "../core/domain/ids.js"
import { type OrderSubmission, ProviderGateway, type ProviderOffer } from "../core/ports/provider-gateway.js"
import { always, at } from "./faults.js"
import { type SimProvidersConfig, SimProvidersControl, SimProvidersLive } from "./providers.js"

const merchantId = MerchantId.make("mer_cafe")
const offer = (id: string, pricePoints = 4_500): ProviderOffer => ({
  offerId: OfferId.make(`off_${id}`),
  title: `offer ${id}`,
  pricePoints,
  stock: 10,
  validFromMs: 0,
  validUntilMs: 86_400_000 * 30,
  regions: [RegionId.make("reg_seoul")]
})
const submission = (order: string, amount = 4_500): OrderSubmission => ({
  merchantId,
  orderId: OrderId.make(`ord_${order}`),
  offerId: OfferId.make("off_a"),
  couponCode: CouponCode.make("7K3M-Q9RT-2XWB"),
  quantity: 1,
  amount,
  deliveredAtMs: 1_000
})

const withProviders = <A, E>(body: Effect.Effect<A, E, ProviderGateway | SimProvidersControl>, config: SimProvidersConfig = {}) =>
  body.pipe(Effect.provide(SimProvidersLive({ seed: 1, merchants: [{ merchantId, offers: [offer("a")] }], ...config })))

const outcome = <A, R>(effect: Effect.Effect<A, { readonly _tag: string; readonly message: string }, R>) =>
  Effect.match(effect, { onFailure: (e) => `${e._tag}: ${e.message}`, onSuccess: () => "ok" })

describe("sim provider servers", () => {
  it.effect("serve the catalog and follow its changes", () =>
    withProviders(Effect.gen(function*() {
      const providers = yield* ProviderGateway
      const control = yield* SimProvidersControl
      expect((yield* providers.fetchCatalog(merchantId)).map((o) => o.offerId)).toEqual(["off_a"])
      const version = yield* control.catalogVersion(merchantId)
      yield* control.upsertOffer(merchantId, offer("a", 4_000))
      yield* control.upsertOffer(merchantId, offer("b"))
      yield* control.removeOffer(merchantId, OfferId.make("off_a"))
      expect(yield* providers.fetchCatalog(merchantId)).toEqual([offer("b")])
      expect(yield* control.catalogVersion(merchantId)).toBe(version + 3)
      expect(yield* outcome(providers.fetchCatalog(MerchantId.make("mer_unknown")))).toContain("no provider server is configured")
    })))

  it.effect("acknowledge an order once: a resend gets the same acknowledgement, other content under the id is refused", () =>
    withProviders(Effect.gen(function*() {
      const providers = yield* ProviderGateway
      const control = yield* SimProvidersControl
      const ack = yield* providers.submitOrder(submission("1"))
      expect(yield* providers.submitOrder(submission("1"))).toEqual(ack)
      expect(yield* outcome(providers.submitOrder(submission("1", 9_000)))).toContain("already sent with other content")
      expect(yield* control.ordersTaken(merchantId)).toBe(1)
      expect((yield* control.order(OrderId.make("ord_1")))?.duplicates).toBe(1)
      expect((yield* control.recentOrders(merchantId)).map((o) => o.submission.orderId)).toEqual(["ord_1"])
    })))

  it.effect("provider.outage and a scheduled outage: ServiceUnavailable", () =>
    withProviders(Effect.gen(function*() {
      const providers = yield* ProviderGateway
      const control = yield* SimProvidersControl
      expect(yield* outcome(providers.submitOrder(submission("1")))).toMatch(/^ServiceUnavailable/)
      expect(yield* control.ordersTaken(merchantId)).toBe(0)
      yield* control.setFault("provider.outage", { _tag: "Never" })
      yield* control.scheduleOutage(merchantId, 0, 60_000)
      expect(yield* outcome(providers.fetchCatalog(merchantId))).toMatch(/^ServiceUnavailable/)
      yield* TestClock.adjust(60_000)
      yield* providers.submitOrder(submission("1"))
    }), { faults: { "provider.outage": always } }))

  it.effect("provider.reject: ServiceRejected", () =>
    withProviders(Effect.gen(function*() {
      const providers = yield* ProviderGateway
      expect(yield* outcome(providers.submitOrder(submission("1")))).toContain("ServiceRejected: provider server rejected the request")
    }), { faults: { "provider.reject": always } }))

  it.effect("provider.slow: the answer comes after slowMs", () =>
    withProviders(Effect.gen(function*() {
      const providers = yield* ProviderGateway
      const fiber = yield* Effect.fork(providers.submitOrder(submission("1")))
      yield* TestClock.adjust(14_999)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      yield* Fiber.join(fiber)
    }), { faults: { "provider.slow": always }, slowMs: 15_000 }))

  it.effect("provider.lostAck: ServiceUnavailable after the order was taken; the resend is acknowledged", () =>
    withProviders(Effect.gen(function*() {
      const providers = yield* ProviderGateway
      const control = yield* SimProvidersControl
      expect(yield* outcome(providers.submitOrder(submission("1")))).toMatch(/^ServiceUnavailable/)
      expect(yield* control.ordersTaken(merchantId)).toBe(1)
      expect(yield* providers.submitOrder(submission("1"))).toEqual({ acknowledgement: "ack_1" })
      expect(yield* control.ordersTaken(merchantId)).toBe(1)
    }), { faults: { "provider.lostAck": at(1) } }))
})
