import { Clock, Effect } from "effect"
import { Catalog } from "../../core/catalog.js"
import { InstitutionId, KioskId, MerchantId, OfferId, RegionId } from "../../core/domain/ids.js"
import { StockMovementId } from "../../core/domain/kiosk.js"
import { Institutions } from "../../core/institutions.js"
import { Kiosks } from "../../core/kiosks.js"
import { Merchants } from "../../core/merchants.js"
import type { ProviderOffer } from "../../core/ports/provider-gateway.js"
import { Regions } from "../../core/regions.js"
import { ApiKeys } from "../server/credentials/api-keys.js"

/**
 * The small deployment `ecoupon demo` sets up on its fresh store, through the same core services an
 * operator's `ecoupon admin` uses: one institution and its region, merchants with offers (each
 * merchant's provider server, simulated, holds the same offers so orders reach it), kiosks loaded
 * with cards, and a key per kiosk for its agent to talk to the server over HTTP.
 */

const DAY_MS = 86_400_000

export const demoRegion = RegionId.make("reg_seoul")
export const demoInstitution = InstitutionId.make("ins_food_bank")

export interface DemoMerchant {
  readonly id: MerchantId
  readonly name: string
  readonly offers: ReadonlyArray<ProviderOffer>
}

export interface DemoKiosk {
  readonly id: KioskId
  readonly name: string
  /** The agent's credential (`ek_…`); printed nowhere. */
  readonly key: string
}

export interface DemoDeployment {
  readonly merchants: ReadonlyArray<DemoMerchant>
  readonly kiosks: ReadonlyArray<DemoKiosk>
}

export interface DemoDeploymentSettings {
  readonly kiosks: number
  /** Cards loaded into each kiosk's stacker (the sim unit holds as many). */
  readonly cardsPerKiosk: number
  readonly binCapacity: number
}

const menu: ReadonlyArray<{ readonly id: string; readonly name: string; readonly offers: ReadonlyArray<readonly [string, string, number]> }> = [
  { id: "mer_cafe", name: "Cafe Haneul", offers: [["off_americano", "Americano", 1_500], ["off_latte", "Cafe latte", 2_500]] },
  { id: "mer_bakery", name: "Bakery Mil", offers: [["off_croissant", "Croissant", 2_000], ["off_cake", "Strawberry cake", 4_500]] },
  { id: "mer_books", name: "Bookshop Chaek", offers: [["off_book_voucher", "Book voucher", 5_000]] },
  { id: "mer_cinema", name: "Cinema Byeol", offers: [["off_ticket", "Movie ticket", 8_000], ["off_popcorn", "Popcorn", 3_000]] }
]

const kioskNames = ["Gangnam Station", "Hongdae", "Jamsil", "Sinchon", "Yeouido", "Itaewon", "Myeongdong", "Seoul Station", "Konkuk Univ.", "Mapo"]

/** Registers everything; fails only on a store that already holds a deployment (the demo's is fresh). */
export const setUpDemoDeployment = (settings: DemoDeploymentSettings) =>
  Effect.gen(function* () {
    const institutions = yield* Institutions
    const regions = yield* Regions
    const merchants = yield* Merchants
    const catalog = yield* Catalog
    const kiosks = yield* Kiosks
    const keys = yield* ApiKeys
    const nowMs = yield* Clock.currentTimeMillis

    yield* institutions.register({ id: demoInstitution, name: "Seoul Food Bank" })
    yield* regions.register({ id: demoRegion, name: "Seoul", institutionId: demoInstitution })

    const registered: Array<DemoMerchant> = []
    for (const m of menu) {
      const id = MerchantId.make(m.id)
      yield* merchants.register({ id, name: m.name, providerUrl: `https://${m.id.slice(4)}.provider.example/api` })
      yield* merchants.approve(id)
      const offers = m.offers.map(([offerId, title, pricePoints]): ProviderOffer => ({
        offerId: OfferId.make(offerId),
        title,
        pricePoints,
        stock: 100_000,
        validFromMs: nowMs - DAY_MS,
        validUntilMs: nowMs + 365 * DAY_MS,
        regions: [demoRegion]
      }))
      for (const offer of offers) yield* catalog.upsertOffer({ ...offer, merchantId: id, couponValidityMs: 30 * DAY_MS })
      registered.push({ id, name: m.name, offers })
    }

    const made: Array<DemoKiosk> = []
    for (let k = 0; k < settings.kiosks; k++) {
      const id = KioskId.make(`ksk_${String(k + 1).padStart(2, "0")}`)
      const name = `${kioskNames[k % kioskNames.length]}${k >= kioskNames.length ? ` ${Math.floor(k / kioskNames.length) + 1}` : ""}`
      yield* kiosks.register({ id, regionId: demoRegion, name, binCapacity: settings.binCapacity })
      yield* kiosks.loadCards(id, settings.cardsPerKiosk, StockMovementId.make(`load:${id}:initial`))
      const issued = yield* keys.issue("kiosk", id)
      made.push({ id, name, key: issued.credential })
    }
    return { merchants: registered, kiosks: made } satisfies DemoDeployment
  })
