import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream, TestClock } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { Catalog, defaultCatalogSettings } from "./catalog.js"
import type { OfferInput } from "./domain/catalog.js"
import { MerchantId, OfferId, RegionId } from "./domain/ids.js"
import { Institutions } from "./institutions.js"
import { Ledger } from "./ledger.js"
import { Merchants } from "./merchants.js"
import type { ProviderOffer } from "./ports/provider-gateway.js"
import { Regions } from "./regions.js"
import { onFreshStore } from "./testing/fresh-store.js"
import { registerApprovedMerchant, registerRegions } from "./testing/parties.js"
import { refused, snapshotTables } from "./testing/refusals.js"

const seoul = RegionId.make("reg_seoul")
const busan = RegionId.make("reg_busan")
const cafe = MerchantId.make("mer_cafe")
const bakery = MerchantId.make("mer_bakery")
const DAY = 24 * 60 * 60 * 1000

const offer = (id: string, patch: Partial<OfferInput> = {}): OfferInput => ({
  offerId: OfferId.make(id),
  merchantId: cafe,
  title: "Americano",
  pricePoints: 4500,
  stock: 10,
  validFromMs: 0,
  validUntilMs: 30 * DAY,
  couponValidityMs: 7 * DAY,
  regions: [seoul],
  ...patch
})

const providerOffer = (id: string, patch: Partial<ProviderOffer> = {}): ProviderOffer => {
  const { couponValidityMs: _ignored, merchantId: _merchant, ...rest } = offer(id)
  return { ...rest, ...patch }
}

const setup = Effect.gen(function* () {
  yield* registerRegions([[seoul, "Seoul"], [busan, "Busan"]])
  yield* registerApprovedMerchant({ id: cafe, name: "Cafe" })
  yield* (yield* Merchants).register({ id: bakery, name: "Bakery" })
})

const version = (regionId: RegionId) => Effect.flatMap(Regions, (regions) => Effect.map(regions.get(regionId), (region) => region.catalogVersion))

// One layer, so Merchants and the tests share one Catalog (and its change stream).
const services = Merchants.Default.pipe(Layer.provideMerge(Layer.mergeAll(Catalog.Default, Institutions.Default, Regions.Default, Ledger.Default)))

for (const store of testStores) {
  const run = onFreshStore(store.layer, services, { setup, seed: 3 })

  describe(`Catalog on ${store.name}`, () => {
    it.effect("an upsert bumps each region it is sold in, records the change and shows in the catalog", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          const created = yield* catalog.upsertOffer(offer("off_1", { regions: [busan, seoul, seoul] }))
          expect(created.version).toBe(1)
          expect(created.regions).toEqual([busan, seoul])
          expect([yield* version(seoul), yield* version(busan)]).toEqual([1, 1])
          const shown = yield* catalog.catalogForRegion(seoul)
          expect(shown.version).toBe(1)
          expect(shown.offers.map((o) => [o.id, o.stock, o.pricePoints])).toEqual([["off_1", 10, 4500]])
          const changes = yield* catalog.changesSince(seoul, 0)
          expect(changes.map((c) => [c.version, c.change, c.offerId, c.offers.length])).toEqual([[1, "upsert", "off_1", 1]])
          expect(yield* catalog.offer(created.id)).toEqual(created)
        })
      ))

    it.effect("an identical upsert changes nothing; a real change bumps the offer and region versions", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          yield* catalog.upsertOffer(offer("off_1"))
          const before = yield* snapshotTables
          yield* catalog.upsertOffer(offer("off_1", { title: "  Americano " }))
          expect(yield* snapshotTables).toBe(before)
          const changed = yield* catalog.upsertOffer(offer("off_1", { pricePoints: 5000 }))
          expect(changed.version).toBe(2)
          expect(yield* version(seoul)).toBe(2)
        })
      ))

    it.effect("moving an offer between regions withdraws it from the one it left", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          yield* catalog.upsertOffer(offer("off_1"))
          yield* catalog.upsertOffer(offer("off_1", { regions: [busan] }))
          expect((yield* catalog.catalogForRegion(seoul)).offers).toEqual([])
          expect((yield* catalog.catalogForRegion(busan)).offers.map((o) => o.id)).toEqual(["off_1"])
          const seoulChanges = yield* catalog.changesSince(seoul, 0)
          expect(seoulChanges.map((c) => [c.version, c.change, c.offers.length])).toEqual([[1, "upsert", 0], [2, "withdraw", 0]])
        })
      ))

    it.effect("withdrawing takes an offer off every kiosk once; upserting puts it back", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          yield* catalog.upsertOffer(offer("off_1", { regions: [seoul, busan] }))
          const withdrawn = yield* catalog.withdrawOffer(OfferId.make("off_1"))
          expect([withdrawn.status, withdrawn.version]).toEqual(["withdrawn", 2])
          expect([yield* version(seoul), yield* version(busan)]).toEqual([2, 2])
          const before = yield* snapshotTables
          yield* catalog.withdrawOffer(OfferId.make("off_1"))
          expect(yield* snapshotTables).toBe(before)
          expect((yield* catalog.catalogForRegion(seoul)).offers).toEqual([])
          expect((yield* catalog.upsertOffer(offer("off_1"))).status).toBe("active")
          expect((yield* catalog.catalogForRegion(seoul)).offers).toHaveLength(1)
        })
      ))

    it.effect("shows offers of registered merchants that are not over yet, out of stock included", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          yield* catalog.upsertOffer(offer("off_pending", { merchantId: bakery }))
          yield* catalog.upsertOffer(offer("off_later", { validFromMs: 10 * DAY }))
          yield* catalog.upsertOffer(offer("off_short", { validUntilMs: DAY }))
          yield* catalog.upsertOffer(offer("off_none", { stock: 0 }))
          expect((yield* catalog.catalogForRegion(seoul)).offers.map((o) => o.id)).toEqual(["off_later", "off_none", "off_short"])
          yield* TestClock.adjust(DAY)
          expect((yield* catalog.catalogForRegion(seoul)).offers.map((o) => o.id)).toEqual(["off_later", "off_none"])
        })
      ))

    it.effect("refuses invalid offers and writes nothing", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          const invalid: ReadonlyArray<Partial<OfferInput>> = [
            { title: "  " },
            { title: "x".repeat(201) },
            { pricePoints: 0 },
            { pricePoints: 1.5 },
            { stock: -1 },
            { validFromMs: 10, validUntilMs: 10 },
            { couponValidityMs: 0 },
            { regions: [] }
          ]
          for (const patch of invalid) expect((yield* refused(catalog.upsertOffer(offer("off_1", patch))))._tag).toBe("InvalidRequest")
          expect((yield* refused(catalog.upsertOffer(offer("off_1", { merchantId: MerchantId.make("mer_nobody") }))))._tag).toBe("MerchantNotFound")
          expect((yield* refused(catalog.upsertOffer(offer("off_1", { regions: [seoul, RegionId.make("reg_mars")] }))))._tag).toBe("RegionNotFound")
          yield* catalog.upsertOffer(offer("off_1"))
          expect((yield* refused(catalog.upsertOffer(offer("off_1", { merchantId: bakery }))))._tag).toBe("OfferOfOtherMerchant")
          expect((yield* refused(catalog.withdrawOffer(OfferId.make("off_missing"))))._tag).toBe("OfferNotFound")
          expect((yield* Effect.flip(catalog.offer(OfferId.make("off_missing"))))._tag).toBe("OfferNotFound")
          expect((yield* Effect.flip(catalog.catalogForRegion(RegionId.make("reg_mars"))))._tag).toBe("RegionNotFound")
          expect((yield* Effect.flip(catalog.changesSince(RegionId.make("reg_mars"), 0)))._tag).toBe("RegionNotFound")
        })
      ))

    it.effect("a provider push upserts in one transaction, keeps coupon validity, and with replace withdraws what it left out", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          yield* catalog.upsertOffer(offer("off_old"))
          yield* catalog.upsertOffer(offer("off_keep", { couponValidityMs: 3 * DAY }))
          const sync = yield* catalog.upsertFromProvider(cafe, [providerOffer("off_keep"), providerOffer("off_new", { stock: 3 })], { replace: true })
          expect([sync.changed, sync.withdrawn]).toEqual([1, 1])
          expect(sync.offers.map((o) => [o.id, o.couponValidityMs])).toEqual([["off_keep", 3 * DAY], ["off_new", defaultCatalogSettings.couponValidityMsDefault]])
          expect((yield* catalog.catalogForRegion(seoul)).offers.map((o) => o.id)).toEqual(["off_keep", "off_new"])
          // The same push again is a no-op.
          const before = yield* snapshotTables
          const again = yield* catalog.upsertFromProvider(cafe, [providerOffer("off_keep"), providerOffer("off_new", { stock: 3 })], { replace: true })
          expect([again.changed, again.withdrawn]).toEqual([0, 0])
          expect(yield* snapshotTables).toBe(before)
        })
      ))

    it.effect("a provider push with one bad offer, a repeated id, or too many offers writes nothing", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          const bad = yield* refused(catalog.upsertFromProvider(cafe, [providerOffer("off_1"), providerOffer("off_2", { pricePoints: -1 })]))
          expect(bad.message).toContain("off_2")
          expect((yield* refused(catalog.upsertFromProvider(cafe, [providerOffer("off_1"), providerOffer("off_1")])))._tag).toBe("InvalidRequest")
          const many = Array.from({ length: defaultCatalogSettings.batchOffersMax + 1 }, (_, i) => providerOffer(`off_${i}`))
          expect((yield* refused(catalog.upsertFromProvider(cafe, many)))._tag).toBe("InvalidRequest")
          // A late failure (unknown region in the second offer) rolls back the first.
          expect((yield* refused(catalog.upsertFromProvider(cafe, [providerOffer("off_1"), providerOffer("off_2", { regions: [RegionId.make("reg_mars")] })])))._tag).toBe(
            "RegionNotFound"
          )
        })
      ))

    it.effect("changesSince pages through the log oldest first; replaying it converges on today's catalog", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          for (let i = 0; i < 5; i++) yield* catalog.upsertOffer(offer(`off_${i}`))
          yield* catalog.withdrawOffer(OfferId.make("off_2"))
          const page1 = yield* catalog.changesSince(seoul, 0, 4)
          const page2 = yield* catalog.changesSince(seoul, page1[page1.length - 1]?.version ?? 0, 4)
          expect([...page1, ...page2].map((c) => c.version)).toEqual([1, 2, 3, 4, 5, 6])
          // A kiosk's rule: drop what the change names, then add its offers.
          const shown = new Map<string, string>()
          for (const change of [...page1, ...page2]) {
            for (const [id, merchant] of [...shown]) if (id === change.offerId || (change.offerId === null && merchant === change.merchantId)) shown.delete(id)
            for (const o of change.offers) shown.set(o.id, o.merchantId)
          }
          expect([...shown.keys()].sort()).toEqual((yield* catalog.catalogForRegion(seoul)).offers.map((o) => o.id))
        })
      ))

    it.effect("publishes each change to the region's subscribers after it commits, and nothing for a refusal", () =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const catalog = yield* Catalog
            const seoulStream = yield* catalog.subscribe(seoul)
            const busanStream = yield* catalog.subscribe(busan)
            yield* Effect.either(catalog.upsertOffer(offer("off_bad", { pricePoints: 0 })))
            yield* catalog.upsertOffer(offer("off_1", { regions: [seoul, busan] }))
            yield* catalog.upsertOffer(offer("off_2"))
            const seen = yield* Stream.runCollect(Stream.take(seoulStream, 2))
            expect(Chunk.toArray(seen).map((c) => [c.version, c.offerId])).toEqual([[1, "off_1"], [2, "off_2"]])
            const busanSeen = yield* Stream.runCollect(Stream.take(busanStream, 1))
            expect(Chunk.toArray(busanSeen).map((c) => [c.regionId, c.version])).toEqual([[busan, 1]])
          })
        )
      ))

    it.effect("50 concurrent upserts in one region get versions 1 to 50, each once", () =>
      run(
        Effect.gen(function* () {
          const catalog = yield* Catalog
          yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => catalog.upsertOffer(offer(`off_${i}`, { merchantId: i % 2 === 0 ? cafe : bakery })), {
            concurrency: "unbounded"
          })
          const changes = yield* catalog.changesSince(seoul, 0)
          expect(changes.map((c) => c.version)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
          expect(yield* version(seoul)).toBe(50)
        })
      ))
  })
}
