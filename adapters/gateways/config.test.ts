import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { MerchantId, SettlementId } from "../../core/domain/ids.js"
import { PayoutGateway } from "../../core/ports/payout-gateway.js"
import { ServiceRejected } from "../../core/ports/service-errors.js"
import { httpGatewaysLayer, loadGatewaysConfig } from "./config.js"
import { ProviderEndpoints } from "./provider-endpoints.js"

const complete = {
  ECOUPON_SMS_URL: "https://sms.example.com/v1",
  ECOUPON_SMS_TOKEN: "tok_sms",
  ECOUPON_CARRIER_URL: "https://carrier.example.com",
  ECOUPON_CARRIER_TOKEN: "tok_carrier",
  ECOUPON_PAYOUT_URL: "https://bank.example.com/api",
  ECOUPON_PAYOUT_TOKEN: "tok_pay"
}

const problemWith = (env: Record<string, string>) =>
  loadGatewaysConfig.pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.match({ onFailure: (e) => e.message, onSuccess: () => "ok" })
  )

const without = (name: keyof typeof complete) => Object.fromEntries(Object.entries(complete).filter(([key]) => key !== name))

describe("gateway configuration", () => {
  it.effect("each missing or wrong variable is named in one line", () =>
    Effect.gen(function*() {
      expect(yield* problemWith(complete)).toBe("ok")
      expect(yield* problemWith(without("ECOUPON_SMS_URL"))).toBe("ECOUPON_SMS_URL is not set: give the SMS gateway's base URL (or run with --gateways demo)")
      expect(yield* problemWith(without("ECOUPON_CARRIER_TOKEN"))).toBe(
        "ECOUPON_CARRIER_TOKEN is not set: give the API token the carrier billing service issued us (or run with --gateways demo)"
      )
      expect(yield* problemWith({ ...complete, ECOUPON_SMS_URL: "sms.example.com" })).toBe(
        `ECOUPON_SMS_URL must be an http(s) URL like https://sms.example.com/v1, got "sms.example.com"`
      )
      expect(yield* problemWith({ ...complete, ECOUPON_GATEWAY_TIMEOUT_MS: "8s" })).toBe(`ECOUPON_GATEWAY_TIMEOUT_MS must be a whole number from 1 to 60000, got "8s"`)
      expect(yield* problemWith(without("ECOUPON_PAYOUT_URL"))).toContain("ECOUPON_PAYOUT_URL is not set: give the payout service's base URL with ECOUPON_PAYOUT_TOKEN, or ECOUPON_PAYOUT_CSV_DIR")
      expect(yield* problemWith({ ...complete, ECOUPON_PAYOUT_CSV_DIR: "/srv/payouts" })).toContain("are both set")
      expect(yield* problemWith({ ...without("ECOUPON_PAYOUT_URL"), ECOUPON_PAYOUT_CSV_DIR: "/srv/payouts" })).toBe("ok")
    }))

  it.effect("the layer builds the four ports from the environment; payouts go to files when a directory is given", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ecoupon-gateways-config-"))
      try {
        const env = { ...without("ECOUPON_PAYOUT_URL"), ECOUPON_PAYOUT_CSV_DIR: dir }
        const endpoints = Layer.succeed(ProviderEndpoints, { resolve: () => Effect.fail(new ServiceRejected({ service: "provider server", reason: "none" })) })
        const paid = yield* Effect.flatMap(PayoutGateway, (payouts) =>
          payouts.pay({ settlementId: SettlementId.make("stl_1"), merchantId: MerchantId.make("mer_a"), amount: 10, reference: "r1" })
        ).pipe(
          Effect.provide(httpGatewaysLayer.pipe(Layer.provide(endpoints))),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
        )
        expect(paid).toEqual({ payoutRef: "file:payout-r1.csv" })
        expect(readdirSync(dir)).toEqual(["payout-r1.csv"])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }))
})
