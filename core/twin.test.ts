import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Schema, Stream, TestClock } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { Catalog } from "./catalog.js"
import { KioskId, MerchantId, OfferId, RegionId } from "./domain/ids.js"
import { ReportedState } from "./domain/twin.js"
import { Institutions } from "./institutions.js"
import { Kiosks } from "./kiosks.js"
import { Ledger } from "./ledger.js"
import { Merchants } from "./merchants.js"
import { Regions } from "./regions.js"
import { onFreshStore } from "./testing/fresh-store.js"
import { registerRegions } from "./testing/parties.js"
import { refused, snapshotTables } from "./testing/refusals.js"
import { canonicalJson, KioskTwins } from "./twin.js"

const seoul = RegionId.make("reg_seoul")
const kiosk = KioskId.make("ksk_1")
const other = KioskId.make("ksk_2")

const inSync: ReportedState = {
  deviceStatus: "ok",
  stackerLevel: 0,
  stackerSensed: "empty",
  binCount: 0,
  unidentifiedCaptures: 0,
  softwareVersion: "1.0.0",
  appliedDesiredVersion: 1,
  enabled: true,
  returnDeadlineDays: 14,
  catalogVersion: 0,
  config: {}
}

const setup = Effect.gen(function* () {
  yield* registerRegions([[seoul, "Seoul"]])
  yield* (yield* Kiosks).register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 10 })
  yield* (yield* Kiosks).register({ id: other, regionId: seoul, name: "Market", binCapacity: 10 })
})

const services = Layer.mergeAll(KioskTwins.Default, Kiosks.Default, Merchants.Default, Catalog.Default, Institutions.Default, Regions.Default, Ledger.Default)

for (const store of testStores) {
  const run = onFreshStore(store.layer, services, { setup, seed: 17 })

  describe(`Kiosk twins on ${store.name}`, () => {
    it.effect("a new twin wants the defaults and shows every field as different until the kiosk reports", () =>
      run(
        Effect.gen(function* () {
          const twin = yield* (yield* KioskTwins).get(kiosk)
          expect(twin.desired).toEqual({ enabled: true, returnDeadlineDays: 14, catalogVersion: null, config: {} })
          expect([twin.desiredVersion, twin.reported, twin.reportedVersion, twin.lastSeenMs]).toEqual([1, null, 0, null])
          expect(twin.delta.map((d) => d.field)).toEqual(["desiredVersion", "enabled", "returnDeadlineDays", "catalogVersion", "stackerCards", "binCards"])
          expect(twin.delta.every((d) => d.reported === "null")).toBe(true)
        })
      ))

    it.effect("a report in sync leaves no delta; the server's counts and the region's catalog are compared too", () =>
      run(
        Effect.gen(function* () {
          const twins = yield* KioskTwins
          yield* TestClock.adjust(1000)
          const twin = yield* twins.report(kiosk, 1, inSync)
          expect([twin.reportedVersion, twin.lastSeenMs, twin.delta]).toEqual([1, 1000, []])
          yield* (yield* Kiosks).loadCards(kiosk, 5)
          const merchants = yield* Merchants
          const merchant = yield* merchants.register({ id: MerchantId.make("mer_1"), name: "Cafe" })
          yield* merchants.approve(merchant.id)
          yield* (yield* Catalog).upsertOffer({ offerId: OfferId.make("off_1"), merchantId: merchant.id, title: "Tea", pricePoints: 1, stock: 1, validFromMs: 0, validUntilMs: 1e10, couponValidityMs: 1, regions: [seoul] })
          const behind = yield* twins.get(kiosk)
          expect(behind.delta.map((d) => [d.field, d.desired, d.reported])).toEqual([["catalogVersion", "1", "0"], ["stackerCards", "5", "0"]])
        })
      ))

    it.effect("an operator's change bumps the desired version once and reaches the kiosk's subscribers", () =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const twins = yield* KioskTwins
            const mine = yield* twins.subscribeDesired(kiosk)
            yield* twins.setDesired(other, { enabled: false })
            const changed = yield* twins.setDesired(kiosk, { enabled: false, returnDeadlineDays: 7, config: { lang: "ko" } })
            expect([changed.desiredVersion, changed.desired.enabled, changed.desired.returnDeadlineDays]).toEqual([2, false, 7])
            // The same wish again is not a change.
            const before = yield* snapshotTables
            expect((yield* twins.setDesired(kiosk, { enabled: false, config: { lang: "ko" } })).desiredVersion).toBe(2)
            expect(yield* snapshotTables).toBe(before)
            const pinned = yield* twins.setDesired(kiosk, { catalogVersion: 0 })
            expect([pinned.desiredVersion, pinned.desired.catalogVersion]).toEqual([3, 0])
            const seen = Chunk.toArray(yield* Stream.runCollect(Stream.take(mine, 2)))
            expect(seen.map((t) => [t.kioskId, t.desiredVersion])).toEqual([[kiosk, 2], [kiosk, 3]])
            const delta = (yield* twins.get(kiosk)).delta.map((d) => d.field)
            expect(delta).toContain("config.lang")
          })
        )
      ))

    it.effect("refuses a bad deadline, config or pinned version, and an unknown kiosk, writing nothing", () =>
      run(
        Effect.gen(function* () {
          const twins = yield* KioskTwins
          for (const returnDeadlineDays of [0, 366, 1.5]) expect((yield* refused(twins.setDesired(kiosk, { returnDeadlineDays })))._tag).toBe("InvalidRequest")
          expect((yield* refused(twins.setDesired(kiosk, { config: { "": "x" } })))._tag).toBe("InvalidRequest")
          expect((yield* refused(twins.setDesired(kiosk, { config: { k: "x".repeat(1025) } })))._tag).toBe("InvalidRequest")
          expect((yield* refused(twins.setDesired(kiosk, { catalogVersion: 1 })))._tag).toBe("InvalidRequest")
          expect((yield* refused(twins.setDesired(KioskId.make("ksk_none"), { enabled: false })))._tag).toBe("KioskNotFound")
          expect((yield* refused(twins.report(KioskId.make("ksk_none"), 1, inSync)))._tag).toBe("KioskNotFound")
          expect((yield* Effect.flip(twins.get(KioskId.make("ksk_none"))))._tag).toBe("KioskNotFound")
        })
      ))

    it.effect("the same report again is a heartbeat; an older one or a changed one under the same version is refused", () =>
      run(
        Effect.gen(function* () {
          const twins = yield* KioskTwins
          yield* twins.report(kiosk, 2, inSync)
          yield* TestClock.adjust(5000)
          const heartbeat = yield* twins.report(kiosk, 2, { ...inSync, config: {} })
          expect([heartbeat.reportedVersion, heartbeat.lastSeenMs]).toEqual([2, 5000])
          expect((yield* refused(twins.report(kiosk, 1, inSync)))._tag).toBe("TwinReportStale")
          expect((yield* refused(twins.report(kiosk, 2, { ...inSync, deviceStatus: "fault" })))._tag).toBe("TwinReportConflict")
          const invalid: ReadonlyArray<readonly [number, ReportedState]> = [
            [0, inSync],
            [3, { ...inSync, stackerLevel: -1 }],
            [3, { ...inSync, unidentifiedCaptures: -1 }],
            [3, { ...inSync, softwareVersion: "" }],
            [3, { ...inSync, returnDeadlineDays: 0 }]
          ]
          for (const [version, state] of invalid) expect((yield* refused(twins.report(kiosk, version, state)))._tag).toBe("InvalidRequest")
          const fault = yield* twins.report(kiosk, 3, { ...inSync, deviceStatus: "fault" })
          expect(fault.reported?.deviceStatus).toBe("fault")
        })
      ))

    it.effect("a report stored before the stacker sensor and unidentified captures were reported still reads", () =>
      Effect.sync(() => {
        const { stackerSensed: _sensed, unidentifiedCaptures: _captures, ...older } = inSync
        expect(Schema.decodeUnknownSync(Schema.parseJson(ReportedState))(JSON.stringify(older))).toEqual({ ...inSync, stackerSensed: "ok" })
      }))

    it.effect("canonical JSON ignores key order", () =>
      Effect.sync(() => {
        expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } })).toBe('{"a":{"c":[3,{"e":0,"f":1}],"d":2},"b":1}')
      }))
  })
}
