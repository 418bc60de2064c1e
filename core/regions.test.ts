import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { InstitutionId, RegionId } from "./domain/ids.js"
import { Account } from "./domain/ledger.js"
import { Institutions } from "./institutions.js"
import { Ledger } from "./ledger.js"
import { Regions } from "./regions.js"
import { onFreshStore } from "./testing/fresh-store.js"
import { refused } from "./testing/refusals.js"

const food = InstitutionId.make("ins_food")
const seoul = RegionId.make("reg_seoul")

const services = Layer.mergeAll(Institutions.Default, Regions.Default, Ledger.Default)

for (const store of testStores) {
  const run = onFreshStore(store.layer, services, { seed: 11 })

  describe(`Institutions and regions on ${store.name}`, () => {
    it.effect("an institution gets its ledger account; replaying the same request returns the first result", () =>
      run(
        Effect.gen(function* () {
          const institutions = yield* Institutions
          const created = yield* institutions.register({ id: food, name: " Food bank " })
          expect(created.name).toBe("Food bank")
          expect((yield* (yield* Ledger).balance(Account.institution(food))).kind).toBe("institution")
          expect(yield* institutions.register({ id: food, name: "Food bank" })).toEqual(created)
          const generated = yield* institutions.register({ name: "Library" })
          expect(generated.id).toMatch(/^ins_[0-9A-Z]{16}$/)
          expect((yield* institutions.list()).map((i) => i.id).sort()).toEqual([food, generated.id].sort())
          expect(yield* institutions.get(food)).toEqual(created)
        })
      ))

    it.effect("refuses a conflicting institution, a blank or overlong name, and writes nothing", () =>
      run(
        Effect.gen(function* () {
          const institutions = yield* Institutions
          yield* institutions.register({ id: food, name: "Food bank" })
          const conflict = yield* refused(institutions.register({ id: food, name: "Other" }))
          expect(conflict._tag === "InstitutionConflict" && conflict.existingName).toBe("Food bank")
          expect((yield* refused(institutions.register({ name: "" })))._tag).toBe("InvalidRequest")
          expect((yield* refused(institutions.register({ name: "x".repeat(201) })))._tag).toBe("InvalidRequest")
          expect((yield* Effect.flip(institutions.get(InstitutionId.make("ins_none"))))._tag).toBe("InstitutionNotFound")
        })
      ))

    it.effect("a region names its institution and starts at catalog version 0", () =>
      run(
        Effect.gen(function* () {
          yield* (yield* Institutions).register({ id: food, name: "Food bank" })
          const regions = yield* Regions
          const region = yield* regions.register({ id: seoul, name: "Seoul", institutionId: food })
          expect([region.institutionId, region.catalogVersion]).toEqual([food, 0])
          expect(yield* regions.register({ id: seoul, name: "Seoul", institutionId: food })).toEqual(region)
          expect(yield* regions.get(seoul)).toEqual(region)
          expect((yield* regions.list()).map((r) => r.id)).toEqual([seoul])
        })
      ))

    it.effect("refuses a region of an unknown institution, a conflicting one or a blank name, and writes nothing", () =>
      run(
        Effect.gen(function* () {
          yield* (yield* Institutions).register({ id: food, name: "Food bank" })
          const library = yield* (yield* Institutions).register({ name: "Library" })
          const regions = yield* Regions
          expect((yield* refused(regions.register({ name: "Seoul", institutionId: InstitutionId.make("ins_none") })))._tag).toBe("InstitutionNotFound")
          yield* regions.register({ id: seoul, name: "Seoul", institutionId: food })
          expect((yield* refused(regions.register({ id: seoul, name: "Seoul", institutionId: library.id })))._tag).toBe("RegionConflict")
          expect((yield* refused(regions.register({ name: "  ", institutionId: food })))._tag).toBe("InvalidRequest")
          expect((yield* Effect.flip(regions.get(RegionId.make("reg_none"))))._tag).toBe("RegionNotFound")
        })
      ))
  })
}
