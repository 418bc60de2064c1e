import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { Catalog } from "./catalog.js"
import { MerchantId, OfferId, RegionId } from "./domain/ids.js"
import { Account } from "./domain/ledger.js"
import { Institutions } from "./institutions.js"
import { Ledger } from "./ledger.js"
import { Merchants } from "./merchants.js"
import { Regions } from "./regions.js"
import { onFreshStore } from "./testing/fresh-store.js"
import { registerApprovedMerchant, registerRegions } from "./testing/parties.js"
import { refused, snapshotTables } from "./testing/refusals.js"

const seoul = RegionId.make("reg_seoul")
const busan = RegionId.make("reg_busan")
const jeju = RegionId.make("reg_jeju")
const cafe = MerchantId.make("mer_cafe")

const setup = registerRegions([[seoul, "Seoul"], [busan, "Busan"], [jeju, "Jeju"]])

/** The cafe, approved, with one offer in Seoul and Busan (none in Jeju). */
const sellingCafe = Effect.gen(function* () {
  yield* registerApprovedMerchant({ id: cafe, name: "Cafe", providerUrl: "https://cafe.example/api" })
  yield* (yield* Catalog).upsertOffer({
    offerId: OfferId.make("off_1"),
    merchantId: cafe,
    title: "Latte",
    pricePoints: 5000,
    stock: 5,
    validFromMs: 0,
    validUntilMs: 1e10,
    couponValidityMs: 1e9,
    regions: [seoul, busan]
  })
})

const versions = Effect.gen(function* () {
  const all = yield* (yield* Regions).list()
  return Object.fromEntries(all.map((region) => [region.id, region.catalogVersion]))
})

const services = Merchants.Default.pipe(Layer.provideMerge(Layer.mergeAll(Catalog.Default, Institutions.Default, Regions.Default, Ledger.Default)))

for (const store of testStores) {
  const run = onFreshStore(store.layer, services, { setup, seed: 5 })

  describe(`Merchants on ${store.name}`, () => {
    it.effect("a merchant registers as pending with its ledger accounts; the same request again returns it", () =>
      run(
        Effect.gen(function* () {
          const merchants = yield* Merchants
          const merchant = yield* merchants.register({ id: cafe, name: " Cafe ", providerUrl: "https://cafe.example/api" })
          expect([merchant.status, merchant.name]).toEqual(["pending", "Cafe"])
          const ledger = yield* Ledger
          expect((yield* ledger.balance(Account.merchantPayable(cafe))).posted).toBe(0)
          expect((yield* ledger.balance(Account.merchantPaid(cafe))).posted).toBe(0)
          expect(yield* merchants.register({ id: cafe, name: "Cafe", providerUrl: "https://cafe.example/api" })).toEqual(merchant)
          const generated = yield* merchants.register({ name: "Bakery" })
          expect(generated.id).toMatch(/^mer_/)
          expect((yield* merchants.list("pending")).map((m) => m.id).sort()).toEqual([cafe, generated.id].sort())
        })
      ))

    it.effect("refuses a conflicting replay, a blank name, a bad provider URL and unknown merchants, writing nothing", () =>
      run(
        Effect.gen(function* () {
          const merchants = yield* Merchants
          yield* merchants.register({ id: cafe, name: "Cafe" })
          expect((yield* refused(merchants.register({ id: cafe, name: "Other" })))._tag).toBe("MerchantConflict")
          expect((yield* refused(merchants.register({ name: " " })))._tag).toBe("InvalidRequest")
          expect((yield* refused(merchants.register({ name: "X", providerUrl: "ftp://nope" })))._tag).toBe("InvalidRequest")
          const nobody = MerchantId.make("mer_nobody")
          expect((yield* refused(merchants.approve(nobody)))._tag).toBe("MerchantNotFound")
          expect((yield* refused(merchants.suspend(nobody)))._tag).toBe("MerchantNotFound")
          expect((yield* refused(merchants.restore(nobody)))._tag).toBe("MerchantNotFound")
          expect((yield* Effect.flip(merchants.get(nobody)))._tag).toBe("MerchantNotFound")
        })
      ))

    it.effect("approval puts a pending merchant's offers on show and bumps their regions", () =>
      run(
        Effect.gen(function* () {
          const merchants = yield* Merchants
          const catalog = yield* Catalog
          yield* merchants.register({ id: cafe, name: "Cafe" })
          yield* catalog.upsertOffer({ offerId: OfferId.make("off_1"), merchantId: cafe, title: "Tea", pricePoints: 1, stock: 1, validFromMs: 0, validUntilMs: 1e10, couponValidityMs: 1, regions: [seoul] })
          expect((yield* catalog.catalogForRegion(seoul)).offers).toEqual([])
          expect((yield* merchants.approve(cafe)).status).toBe("registered")
          expect((yield* versions)[seoul]).toBe(2)
          const latest = yield* catalog.changesSince(seoul, 1)
          expect(latest.map((c) => [c.change, c.offerId, c.offers.map((o) => o.id)])).toEqual([["merchant_registered", null, ["off_1"]]])
          // Approving again is a no-op.
          const before = yield* snapshotTables
          yield* merchants.approve(cafe)
          expect(yield* snapshotTables).toBe(before)
        })
      ))

    it.effect("suspension withdraws the merchant's offers from every region's kiosks, restore brings them back", () =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const merchants = yield* Merchants
            const catalog = yield* Catalog
            yield* sellingCafe
            const live = yield* catalog.subscribe(seoul)
            expect(yield* versions).toEqual({ [seoul]: 1, [busan]: 1, [jeju]: 0 })
            expect((yield* merchants.suspend(cafe)).status).toBe("suspended")
            expect(yield* versions).toEqual({ [seoul]: 2, [busan]: 2, [jeju]: 0 })
            expect((yield* catalog.catalogForRegion(seoul)).offers).toEqual([])
            expect((yield* catalog.catalogForRegion(busan)).offers).toEqual([])
            // Suspending again changes nothing.
            const before = yield* snapshotTables
            yield* merchants.suspend(cafe)
            expect(yield* snapshotTables).toBe(before)
            expect((yield* merchants.restore(cafe)).status).toBe("registered")
            expect((yield* catalog.catalogForRegion(seoul)).offers.map((o) => o.id)).toEqual(["off_1"])
            const seen = Chunk.toArray(yield* Stream.runCollect(Stream.take(live, 2)))
            expect(seen.map((c) => [c.version, c.change, c.offers.length])).toEqual([[2, "merchant_suspended", 0], [3, "merchant_restored", 1]])
          })
        )
      ))

    it.effect("refuses to approve a suspended merchant and to restore a pending one", () =>
      run(
        Effect.gen(function* () {
          const merchants = yield* Merchants
          yield* merchants.register({ id: cafe, name: "Cafe" })
          const restore = yield* refused(merchants.restore(cafe))
          expect(restore._tag === "MerchantStatusRefused" && restore.message).toContain("approved, not restored")
          // A pending merchant can be suspended (an application turned down); nothing was on show.
          yield* merchants.suspend(cafe)
          expect((yield* versions)[seoul]).toBe(0)
          const approve = yield* refused(merchants.approve(cafe))
          expect(approve._tag === "MerchantStatusRefused" && approve.status).toBe("suspended")
        })
      ))
  })
}
