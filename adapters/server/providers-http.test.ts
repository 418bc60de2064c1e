import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Catalog } from "../../core/catalog.js"
import { testStores } from "../store/testing.js"
import { MerchantSecrets } from "./credentials/merchant-secrets.js"
import { signatureOf } from "./credentials/webhook-signature.js"
import { deployment, liveServer } from "./testing.js"

const DAY_MS = 86_400_000

for (const store of testStores) {
  describe(`the provider catalog webhook on ${store.name}`, () => {
    it.scopedLive("applies a signed push once; refuses a bad signature, a stale timestamp and a replayed delivery", () =>
      Effect.gen(function* () {
        const server = yield* liveServer(store.layer)
        const issued = yield* Effect.flatMap(MerchantSecrets, (secrets) => secrets.issue(deployment.merchant2)).pipe(Effect.provide(server.context))
        const nowMs = Date.now()
        const body = JSON.stringify({
          offers: [{ offerId: "off_bread", title: "Bread", pricePoints: 500, stock: 10, validFromMs: nowMs - DAY_MS, validUntilMs: nowMs + DAY_MS, regions: [deployment.region1] }]
        })
        const push = (headers: { readonly timestamp: string; readonly delivery: string; readonly signature: string }, sent = body) =>
          Effect.promise(async () => {
            const response = await fetch(`${server.baseUrl}/v1/providers/${deployment.merchant2}/catalog`, {
              method: "POST",
              headers: { "content-type": "application/json", "x-ecoupon-timestamp": headers.timestamp, "x-ecoupon-delivery": headers.delivery, "x-ecoupon-signature": headers.signature },
              body: sent
            })
            return { status: response.status, body: (await response.json()) as { readonly type?: string; readonly changed?: number } }
          })
        const timestamp = String(Math.floor(nowMs / 1000))
        const signed = { timestamp, delivery: "delivery-0001", signature: signatureOf(issued.secret, timestamp, body) }
        const offersOnShow = Effect.flatMap(Catalog, (catalog) => catalog.catalogForRegion(deployment.region1)).pipe(
          Effect.map((catalog) => catalog.offers.map((offer) => offer.id).sort()),
          Effect.provide(server.context)
        )

        const badSignature = yield* push({ ...signed, delivery: "delivery-0002", signature: signatureOf("whsec_wrong", timestamp, body) })
        expect([badSignature.status, badSignature.body.type]).toEqual([401, "urn:ecoupon:problem:signature-refused"])
        const tampered = yield* push(signed, body.replace("500", "5"))
        expect(tampered.status).toBe(401)
        const staleAt = String(Math.floor(nowMs / 1000) - 6 * 60)
        const stale = yield* push({ timestamp: staleAt, delivery: "delivery-0003", signature: signatureOf(issued.secret, staleAt, body) })
        expect(stale.status).toBe(401)
        expect(yield* offersOnShow).toEqual([deployment.offer])

        const applied = yield* push(signed)
        expect([applied.status, applied.body.changed]).toEqual([200, 1])
        expect(yield* offersOnShow).toEqual(["off_bread", deployment.offer].sort())
        const replayed = yield* push(signed)
        expect([replayed.status, replayed.body.type]).toEqual([409, "urn:ecoupon:problem:delivery-replayed"])

        // Another merchant's secret does not sign for this one.
        const other = yield* Effect.flatMap(MerchantSecrets, (secrets) => secrets.issue(deployment.merchant)).pipe(Effect.provide(server.context))
        const foreign = yield* push({ ...signed, delivery: "delivery-0004", signature: signatureOf(other.secret, timestamp, body) })
        expect(foreign.status).toBe(401)
      }))
  })
}
