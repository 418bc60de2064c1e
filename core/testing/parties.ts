import { Effect } from "effect"
import { InstitutionId, type RegionId } from "../domain/ids.js"
import { Institutions } from "../institutions.js"
import { Merchants, type RegisterMerchant } from "../merchants.js"
import { Regions } from "../regions.js"

/**
 * The parties a service test starts from, registered through their own services (unlike `world.ts`,
 * which writes its rows straight into the tables).
 */

/** The institution the test regions belong to. */
export const foodBank = InstitutionId.make("ins_food")

/** Registers the Food bank and, under it, each region (id and name) in turn. */
export const registerRegions = (regions: ReadonlyArray<readonly [RegionId, string]>) =>
  Effect.gen(function* () {
    const institution = yield* (yield* Institutions).register({ id: foodBank, name: "Food bank" })
    const registry = yield* Regions
    for (const [id, name] of regions) yield* registry.register({ id, name, institutionId: institution.id })
  })

/** Registers a merchant and approves it, so kiosks show its offers; answers it as approved. */
export const registerApprovedMerchant = (request: RegisterMerchant) =>
  Effect.gen(function* () {
    const merchants = yield* Merchants
    const merchant = yield* merchants.register(request)
    return yield* merchants.approve(merchant.id)
  })
