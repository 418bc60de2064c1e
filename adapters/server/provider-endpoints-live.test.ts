import { describe, expect, it } from "@effect/vitest"
import { randomBytes } from "node:crypto"
import { Effect, Layer, Redacted } from "effect"
import { MerchantId } from "../../core/domain/ids.js"
import { Merchants } from "../../core/merchants.js"
import { CoreServicesLive } from "../../core/services.js"
import { ProviderEndpoints } from "../gateways/provider-endpoints.js"
import { sqljsTestLayer } from "../store/testing.js"
import { MasterKey, masterKeyOf } from "./credentials/master-key.js"
import { MerchantSecrets } from "./credentials/merchant-secrets.js"
import { ProviderEndpointsLive } from "./provider-endpoints-live.js"

/**
 * `serve --gateways http` finds a merchant's provider server from what the operators registered:
 * its URL and its current secret (a rotation applies to the next send); a merchant without either is
 * refused with what to do.
 */
const layer = Layer.mergeAll(ProviderEndpointsLive, MerchantSecrets.Default).pipe(
  Layer.provideMerge(CoreServicesLive),
  Layer.provideMerge(sqljsTestLayer),
  Layer.provideMerge(Layer.succeed(MasterKey, masterKeyOf(randomBytes(32))))
)

describe("ProviderEndpointsLive", () => {
  it.effect("resolves the registered URL and the current secret, and refuses a merchant not configured", () =>
    Effect.gen(function* () {
      const merchants = yield* Merchants
      const secrets = yield* MerchantSecrets
      const endpoints = yield* ProviderEndpoints
      const withServer = MerchantId.make("mer_with_server")
      const noServer = MerchantId.make("mer_no_server")
      yield* merchants.register({ id: withServer, name: "Cafe", providerUrl: "https://provider.example.com/api" })
      yield* merchants.register({ id: noServer, name: "Bakery" })

      const noSecret = yield* Effect.flip(endpoints.resolve(withServer))
      expect(noSecret._tag === "ServiceRejected" && noSecret.reason).toContain("has no secret")
      const first = yield* secrets.issue(withServer)
      const resolved = yield* endpoints.resolve(withServer)
      expect([resolved.url, Redacted.value(resolved.secret)]).toEqual(["https://provider.example.com/api", first.secret])
      const rotated = yield* secrets.issue(withServer)
      expect(Redacted.value((yield* endpoints.resolve(withServer)).secret)).toBe(rotated.secret)

      yield* secrets.issue(noServer)
      const noUrl = yield* Effect.flip(endpoints.resolve(noServer))
      expect(noUrl._tag === "ServiceRejected" && noUrl.reason).toContain("no provider server URL")
      const unknown = yield* Effect.flip(endpoints.resolve(MerchantId.make("mer_unknown")))
      expect(unknown._tag).toBe("ServiceRejected")
    }).pipe(Effect.provide(layer)))
})
