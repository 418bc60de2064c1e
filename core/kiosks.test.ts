import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { KioskId, RegionId } from "./domain/ids.js"
import { StockMovementId } from "./domain/kiosk.js"
import { Institutions } from "./institutions.js"
import { defaultKiosksSettings, Kiosks, recordStockMovement } from "./kiosks.js"
import { Ledger } from "./ledger.js"
import { Regions } from "./regions.js"
import { onFreshStore } from "./testing/fresh-store.js"
import { registerRegions } from "./testing/parties.js"
import { refused } from "./testing/refusals.js"

const seoul = RegionId.make("reg_seoul")
const kiosk = KioskId.make("ksk_1")
const mid = (s: string) => StockMovementId.make(s)

/** Invariant 5: the counts on the row equal the sums of the movements. */
const countsMatchMovements = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql`
    SELECT k.stacker_cards, k.bin_cards,
      COALESCE((SELECT SUM(delta_stacker) FROM card_stock_movements m WHERE m.kiosk_id = k.id), 0) AS stacker_sum,
      COALESCE((SELECT SUM(delta_bin) FROM card_stock_movements m WHERE m.kiosk_id = k.id), 0) AS bin_sum
    FROM kiosks k`
  for (const row of rows) {
    expect(Number(row["stacker_cards"])).toBe(Number(row["stacker_sum"]))
    expect(Number(row["bin_cards"])).toBe(Number(row["bin_sum"]))
  }
})

const setup = registerRegions([[seoul, "Seoul"]])

const services = Layer.mergeAll(Kiosks.Default, Institutions.Default, Regions.Default, Ledger.Default)

for (const store of testStores) {
  const run = onFreshStore(store.layer, services, { setup, seed: 13 })

  describe(`Kiosks on ${store.name}`, () => {
    it.effect("a kiosk registers in a region with an empty stacker and bin, and a twin", () =>
      run(
        Effect.gen(function* () {
          const kiosks = yield* Kiosks
          const created = yield* kiosks.register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 40 })
          expect([created.stackerCards, created.binCards, created.binCapacity]).toEqual([0, 0, 40])
          expect(yield* kiosks.register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 40 })).toEqual(created)
          const sql = yield* SqlClient.SqlClient
          const twin = yield* sql`SELECT desired_version, reported_version FROM kiosk_twins WHERE kiosk_id = ${kiosk}`
          expect(twin.map((row) => [Number(row["desired_version"]), Number(row["reported_version"])])).toEqual([[1, 0]])
          expect((yield* kiosks.list(seoul)).map((k) => k.id)).toEqual([kiosk])
          expect(yield* kiosks.list(RegionId.make("reg_other"))).toEqual([])
        })
      ))

    it.effect("refuses an unknown region, a bad capacity or name, and a conflicting replay, writing nothing", () =>
      run(
        Effect.gen(function* () {
          const kiosks = yield* Kiosks
          expect((yield* refused(kiosks.register({ regionId: RegionId.make("reg_none"), name: "K", binCapacity: 10 })))._tag).toBe("RegionNotFound")
          for (const binCapacity of [0, -1, 2.5, defaultKiosksSettings.binCapacityMax + 1]) {
            expect((yield* refused(kiosks.register({ regionId: seoul, name: "K", binCapacity })))._tag).toBe("InvalidRequest")
          }
          expect((yield* refused(kiosks.register({ regionId: seoul, name: "", binCapacity: 10 })))._tag).toBe("InvalidRequest")
          yield* kiosks.register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 40 })
          expect((yield* refused(kiosks.register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 41 })))._tag).toBe("KioskConflict")
          expect((yield* Effect.flip(kiosks.get(KioskId.make("ksk_none"))))._tag).toBe("KioskNotFound")
          expect((yield* Effect.flip(kiosks.counts(KioskId.make("ksk_none"))))._tag).toBe("KioskNotFound")
        })
      ))

    it.effect("loading cards, dispensing, capturing and emptying the bin keep the counts equal to the movements", () =>
      run(
        Effect.gen(function* () {
          const kiosks = yield* Kiosks
          yield* kiosks.register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 2 })
          yield* kiosks.loadCards(kiosk, 3, mid("load-1"))
          yield* kiosks.recordStockMovement({ id: mid("dispense:o1"), kioskId: kiosk, kind: "dispense", deltaStacker: -1, deltaBin: 0, ref: "o1" })
          yield* kiosks.recordStockMovement({ id: mid("capture:c1"), kioskId: kiosk, kind: "capture", deltaStacker: 0, deltaBin: 1, ref: "c1" })
          expect(yield* kiosks.counts(kiosk)).toMatchObject({ stackerCards: 2, binCards: 1, binCapacity: 2 })
          const emptied = yield* kiosks.emptyBin(kiosk, mid("empty-1"))
          expect(emptied.deltaBin).toBe(-1)
          // Replaying the emptying returns it, even though the bin now holds a different count.
          yield* kiosks.recordStockMovement({ id: mid("capture:c2"), kioskId: kiosk, kind: "capture", deltaStacker: 0, deltaBin: 1, ref: "c2" })
          expect(yield* kiosks.emptyBin(kiosk, mid("empty-1"))).toEqual(emptied)
          expect((yield* kiosks.counts(kiosk)).binCards).toBe(1)
          expect((yield* kiosks.movements(kiosk)).map((m) => m.id).sort()).toEqual(["capture:c1", "capture:c2", "dispense:o1", "empty-1", "load-1"])
          yield* countsMatchMovements
        })
      ))

    it.effect("a movement replayed with the same id and body is a no-op; with another body it is a conflict", () =>
      run(
        Effect.gen(function* () {
          const kiosks = yield* Kiosks
          yield* kiosks.register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 5 })
          yield* kiosks.loadCards(kiosk, 1, mid("load-1"))
          const dispense = { id: mid("dispense:o1"), kioskId: kiosk, kind: "dispense", deltaStacker: -1, deltaBin: 0, ref: "o1" } as const
          const first = yield* recordStockMovement(dispense)
          // The stacker is empty now, yet the replay returns the first result rather than a refusal.
          expect(yield* recordStockMovement(dispense)).toEqual(first)
          expect((yield* refused(recordStockMovement({ ...dispense, ref: "o2" })))._tag).toBe("StockMovementConflict")
          expect((yield* refused(kiosks.loadCards(kiosk, 2, mid("load-1"))))._tag).toBe("StockMovementConflict")
          expect((yield* refused(kiosks.emptyBin(kiosk, mid("load-1"))))._tag).toBe("StockMovementConflict")
          yield* countsMatchMovements
        })
      ))

    it.effect("refuses a dispense from an empty stacker, a capture into a full bin, an overfill and bad counts, writing nothing", () =>
      run(
        Effect.gen(function* () {
          const kiosks = yield* Kiosks
          yield* kiosks.register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 1 })
          const empty = yield* refused(kiosks.recordStockMovement({ id: mid("d1"), kioskId: kiosk, kind: "dispense", deltaStacker: -1, deltaBin: 0 }))
          expect(empty._tag).toBe("NoCardsInStacker")
          yield* kiosks.recordStockMovement({ id: mid("c1"), kioskId: kiosk, kind: "capture", deltaStacker: 0, deltaBin: 1 })
          expect((yield* refused(kiosks.recordStockMovement({ id: mid("c2"), kioskId: kiosk, kind: "capture", deltaStacker: 0, deltaBin: 1 })))._tag).toBe("CaptureBinFull")
          yield* kiosks.loadCards(kiosk, defaultKiosksSettings.stackerCardsMax - 1)
          expect((yield* refused(kiosks.loadCards(kiosk, 2)))._tag).toBe("StackerOverfilled")
          for (const count of [0, -3, 1.5]) expect((yield* refused(kiosks.loadCards(kiosk, count)))._tag).toBe("InvalidRequest")
          const unknown = KioskId.make("ksk_none")
          expect((yield* refused(kiosks.loadCards(unknown, 1)))._tag).toBe("KioskNotFound")
          expect((yield* refused(kiosks.emptyBin(unknown)))._tag).toBe("KioskNotFound")
          yield* countsMatchMovements
        })
      ))

    it.effect("100 concurrent dispenses from a stacker of 60 give out exactly 60 cards", () =>
      run(
        Effect.gen(function* () {
          const kiosks = yield* Kiosks
          yield* kiosks.register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 10 })
          yield* kiosks.loadCards(kiosk, 60)
          const results = yield* Effect.forEach(
            Array.from({ length: 100 }, (_, i) => i),
            (i) => Effect.either(kiosks.recordStockMovement({ id: mid(`dispense:${i}`), kioskId: kiosk, kind: "dispense", deltaStacker: -1, deltaBin: 0 })),
            { concurrency: "unbounded" }
          )
          expect(results.filter(Either.isRight)).toHaveLength(60)
          expect(new Set(results.filter(Either.isLeft).map((r) => r.left._tag))).toEqual(new Set(["NoCardsInStacker"]))
          expect((yield* kiosks.counts(kiosk)).stackerCards).toBe(0)
          yield* countsMatchMovements
        })
      ))
  })
}
