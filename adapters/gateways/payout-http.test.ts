import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { MerchantId, SettlementId } from "../../core/domain/ids.js"
import { fakeVendor } from "./fake-vendor.js"
import { makeHttpPayout } from "./payout-http.js"

describe("HTTP payouts", () => {
  it.live("posts the payout keyed by its reference; a resend gets the first payoutRef; a reused reference is refused", () =>
    Effect.gen(function*() {
      const book = new Map<string, { body: string; ref: string }>()
      const vendor = yield* fakeVendor((request) => {
        const key = String(request.headers["idempotency-key"])
        const known = book.get(key)
        if (known !== undefined && known.body !== request.body) return { status: 409, body: { detail: `reference ${key} was used for another payout` } }
        if (known === undefined) book.set(key, { body: request.body, ref: `pay_${book.size + 1}` })
        return { status: 200, body: { payoutRef: book.get(key)?.ref } }
      })
      const payouts = yield* makeHttpPayout({ url: vendor.url, token: Redacted.make("tok_pay"), timeoutMs: 2_000, responseBytesMax: 4_096 }).pipe(
        Effect.provide(NodeHttpClient.layer)
      )
      const payout = { settlementId: SettlementId.make("stl_1"), merchantId: MerchantId.make("mer_cafe"), amount: 125_000, reference: "ecoupon stl_1" }
      expect(yield* payouts.pay(payout)).toEqual({ payoutRef: "pay_1" })
      expect(yield* payouts.pay(payout)).toEqual({ payoutRef: "pay_1" })
      const refused = yield* Effect.flip(payouts.pay({ ...payout, amount: 1 }))
      expect(refused._tag).toBe("ServiceRejected")
      expect(refused.message).toContain("HTTP 409: reference ecoupon stl_1 was used for another payout")
      const [first] = vendor.received
      expect(`${first?.method} ${first?.path} ${String(first?.headers.authorization)}`).toBe("POST /payouts Bearer tok_pay")
      expect(JSON.parse(first?.body ?? "")).toEqual({ reference: "ecoupon stl_1", settlementId: "stl_1", merchantId: "mer_cafe", amount: 125_000 })
    }).pipe(Effect.scoped))
})
