import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, Redacted } from "effect"
import { CouponCode, MerchantId, OfferId, OrderId } from "../../core/domain/ids.js"
import { ProviderGateway } from "../../core/ports/provider-gateway.js"
import { ServiceRejected } from "../../core/ports/service-errors.js"
import { fakeVendor, type ReceivedRequest, type VendorAnswer } from "./fake-vendor.js"
import { DELIVERY_HEADER, SIGNATURE_HEADER, SIGNATURE_WINDOW_MS, signatureMatches, TIMESTAMP_HEADER } from "../server/credentials/webhook-signature.js"
import { ProviderEndpoints } from "./provider-endpoints.js"
import { HttpProviderLive } from "./provider-http.js"

/**
 * A merchant's provider server as the tests start it: it checks every request's signature with the
 * merchant's secret (the verifier the server uses on webhooks) before it answers, and takes orders
 * idempotently by order id.
 */

const merchantId = MerchantId.make("mer_cafe")
const secret = "whsec_cafe_0123456789"
const submission = {
  merchantId,
  orderId: OrderId.make("ord_k1_000042"),
  offerId: OfferId.make("off_latte"),
  couponCode: CouponCode.make("7K3M-Q9RT-2XWB"),
  quantity: 2,
  amount: 9_000,
  deliveredAtMs: 1_796_461_200_000
}
const offer = { offerId: "off_latte", title: "Latte", pricePoints: 4_500, stock: 30, validFromMs: 0, validUntilMs: 1_900_000_000_000, regions: ["reg_seoul"] }

const providerServer = (nowMs: number, catalog: object) => {
  const acknowledgements = new Map<string, string>()
  const deliveries = new Set<string>()
  return (request: ReceivedRequest): VendorAnswer => {
    const timestamp = String(request.headers[TIMESTAMP_HEADER])
    const delivery = String(request.headers[DELIVERY_HEADER])
    if (Math.abs(Number(timestamp) * 1000 - nowMs) > SIGNATURE_WINDOW_MS) return { status: 401, body: { detail: "stale timestamp" } }
    if (!signatureMatches(secret, timestamp, request.body, String(request.headers[SIGNATURE_HEADER]))) {
      return { status: 401, body: { title: "Unauthorized", detail: "the signature does not match" } }
    }
    if (deliveries.has(delivery)) return { status: 409, body: { detail: "delivery seen before" } }
    deliveries.add(delivery)
    if (request.method === "GET" && request.path === "/shop/catalog") return { status: 200, body: catalog }
    if (request.method === "POST" && request.path === "/shop/orders") {
      const orderId = String(request.headers["idempotency-key"])
      if (!acknowledgements.has(orderId)) acknowledgements.set(orderId, `ack_${acknowledgements.size + 1}`)
      return { status: 201, body: { acknowledgement: acknowledgements.get(orderId) } }
    }
    return { status: 404, body: { detail: "no such route" } }
  }
}

const withProvider = (url: string, signWith: string) =>
  Effect.provide(
    HttpProviderLive({ timeoutMs: 2_000, responseBytesMax: 64 * 1024 }).pipe(
      Layer.provide(NodeHttpClient.layer),
      Layer.provide(Layer.succeed(ProviderEndpoints, {
        resolve: (id) =>
          id === merchantId
            ? Effect.succeed({ url: `${url}/shop`, secret: Redacted.make(signWith) })
            : Effect.fail(new ServiceRejected({ service: "provider server", reason: `merchant ${id} has no provider server configured` }))
      }))
    )
  )

describe("HTTP provider gateway", () => {
  it.live("order submissions are signed, keyed by order id and acknowledged once; the catalog is pulled signed and decoded", () =>
    Effect.gen(function*() {
      const vendor = yield* fakeVendor(providerServer(yield* Clock.currentTimeMillis, { offers: [offer] }))
      yield* Effect.gen(function*() {
        const provider = yield* ProviderGateway
        expect(yield* provider.submitOrder(submission)).toEqual({ acknowledgement: "ack_1" })
        expect(yield* provider.submitOrder(submission)).toEqual({ acknowledgement: "ack_1" })
        expect(yield* provider.fetchCatalog(merchantId)).toEqual([offer])
        const unknown = yield* Effect.flip(provider.submitOrder({ ...submission, merchantId: MerchantId.make("mer_other") }))
        expect(unknown.message).toBe("provider server rejected the request: merchant mer_other has no provider server configured")
      }).pipe(withProvider(vendor.url, secret))
      expect(vendor.received.map((r) => `${r.method} ${r.path} ${String(r.headers["idempotency-key"])}`)).toEqual([
        "POST /shop/orders ord_k1_000042",
        "POST /shop/orders ord_k1_000042",
        "GET /shop/catalog undefined"
      ])
      expect(JSON.parse(vendor.received[0]?.body ?? "")).toEqual(submission)
      expect(vendor.received[0]?.headers[SIGNATURE_HEADER]).toMatch(/^v1=[0-9a-f]{64}$/)
    }).pipe(Effect.scoped))

  it.live("a provider that refuses our signature (wrong secret) is a rejection; a catalog that does not decode is unavailable", () =>
    Effect.gen(function*() {
      const nowMs = yield* Clock.currentTimeMillis
      const vendor = yield* fakeVendor(providerServer(nowMs, { offers: [{ ...offer, pricePoints: 4.5 }] }))
      const wrong = yield* Effect.flip(Effect.flatMap(ProviderGateway, (p) => p.submitOrder(submission)).pipe(withProvider(vendor.url, "not the secret")))
      expect(wrong.message).toBe(
        "provider server rejected the request: HTTP 401: the signature does not match"
      )
      const garbled = yield* Effect.flip(Effect.flatMap(ProviderGateway, (p) => p.fetchCatalog(merchantId)).pipe(withProvider(vendor.url, secret)))
      expect(garbled._tag).toBe("ServiceUnavailable")
      expect(garbled.message).toContain("HTTP 200 with an answer we cannot read")
    }).pipe(Effect.scoped))
})
