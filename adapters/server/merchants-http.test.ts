import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Auditor } from "../../core/audit.js"
import { testStores } from "../store/testing.js"
import { couponBoughtOverHttp, deployment, liveServer } from "./testing.js"

const REDEMPTIONS = 100
const AMOUNT = 20

for (const store of testStores) {
  describe(`the merchants group on ${store.name}`, () => {
    it.scopedLive("100 concurrent redemptions of one coupon: never overdrawn, each answered once, replays answered as the first time", () =>
      Effect.gen(function* () {
        const server = yield* liveServer(store.layer)
        const delivery = yield* couponBoughtOverHttp(server, "+821055507777", "redeem_race")
        const key = yield* server.issue("merchant", deployment.merchant)
        const redeem = (index: number) =>
          Effect.promise(async () => {
            const response = await fetch(`${server.baseUrl}/v1/merchant/redemptions`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
              body: JSON.stringify({ redemptionId: `rdm_race_${index}`, couponCode: delivery.couponCode, amount: AMOUNT })
            })
            const body = (await response.json()) as Record<string, unknown>
            // The request id differs per answer; the answer itself must not.
            const { requestId: _requestId, ...answer } = body
            return { status: response.status, answer }
          })
        const indexes = Array.from({ length: REDEMPTIONS }, (_, index) => index)
        const first = yield* Effect.forEach(indexes, redeem, { concurrency: "unbounded" })
        const accepted = first.filter((result) => result.status === 200)
        expect(accepted.length).toBe(delivery.valuePoints / AMOUNT)
        // The rest are refused: the balance is too low, or (once it is 0) the coupon is used up.
        const refusals = new Set(first.filter((result) => result.status !== 200).map((result) => `${result.status} ${String(result.answer["type"])}`))
        expect([...refusals].every((refusal) => refusal === "422 urn:ecoupon:problem:coupon-balance-too-low" || refusal === "409 urn:ecoupon:problem:coupon-not-redeemable")).toBe(true)
        const replays = yield* Effect.forEach(indexes, redeem, { concurrency: "unbounded" })
        expect(replays).toEqual(first)

        const coupon = yield* Effect.promise(() => fetch(`${server.baseUrl}/v1/merchant/coupons/${delivery.couponCode}`, { headers: { authorization: `Bearer ${key}` } }).then((response) => response.json()))
        expect((coupon as { readonly balancePoints: number }).balancePoints).toBe(0)
        // Another merchant does not see the coupon at all.
        const otherKey = yield* server.issue("merchant", deployment.merchant2)
        const hidden = yield* Effect.promise(() => fetch(`${server.baseUrl}/v1/merchant/coupons/${delivery.couponCode}`, { headers: { authorization: `Bearer ${otherKey}` } }))
        expect(hidden.status).toBe(404)
        const report = yield* Effect.flatMap(Auditor, (auditor) => auditor.run).pipe(Effect.provide(server.context))
        expect(report.ok).toBe(true)
      }), 60_000)
  })
}
