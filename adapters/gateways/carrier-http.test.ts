import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { PhoneNumber } from "../../core/domain/ids.js"
import { makeHttpCarrier } from "./carrier-http.js"
import { fakeVendor } from "./fake-vendor.js"

describe("HTTP carrier billing", () => {
  it.live("each step of a charge is its own request on the charge's resource, keyed by correlator and step", () =>
    Effect.gen(function*() {
      const vendor = yield* fakeVendor((request) =>
        request.path.endsWith("/charges")
          ? { status: 201, body: { authorisation: "auth_77" } }
          : request.path.endsWith("/refund") && JSON.parse(request.body).amount > 3_000
          ? { status: 422, body: { detail: "refund exceeds the charge" } }
          : { status: 204, body: "" }
      )
      const carrier = yield* makeHttpCarrier({ url: vendor.url, token: Redacted.make("tok_carrier"), timeoutMs: 2_000, responseBytesMax: 4_096 }).pipe(
        Effect.provide(NodeHttpClient.layer)
      )
      const correlator = "04A1B2C3/deposit"
      const charge = { correlator, phone: PhoneNumber.make("+821012345678"), amount: 3_000, description: "card 04A1B2C3 not returned" }
      expect(yield* carrier.prepare(charge)).toEqual({ authorisation: "auth_77" })
      yield* carrier.confirm(correlator)
      yield* carrier.cancel(correlator)
      yield* carrier.refund(correlator, 3_000)
      const refused = yield* Effect.flip(carrier.refund(correlator, 5_000))
      expect(refused.message).toBe("carrier billing rejected the request: HTTP 422: refund exceeds the charge")
      expect(vendor.received.map((r) => `${r.method} ${r.path} ${String(r.headers["idempotency-key"])} ${r.body}`)).toEqual([
        `POST /charges 04A1B2C3/deposit {"correlator":"04A1B2C3/deposit","phone":"+821012345678","amount":3000,"description":"card 04A1B2C3 not returned"}`,
        "POST /charges/04A1B2C3%2Fdeposit/confirm 04A1B2C3/deposit:confirm {}",
        "POST /charges/04A1B2C3%2Fdeposit/cancel 04A1B2C3/deposit:cancel {}",
        `POST /charges/04A1B2C3%2Fdeposit/refund 04A1B2C3/deposit:refund {"amount":3000}`,
        `POST /charges/04A1B2C3%2Fdeposit/refund 04A1B2C3/deposit:refund {"amount":5000}`
      ])
      expect(vendor.received.every((r) => r.headers.authorization === "Bearer tok_carrier")).toBe(true)
    }).pipe(Effect.scoped))
})
