import { OfferId, type MerchantId, type RegionId } from "../core/domain/ids.js"
import type { ProviderOffer } from "../core/ports/provider-gateway.js"
import { between, chance, DAY_MS } from "./behaviour-customer.js"
import type { DeviceRandom } from "./rng.js"

/**
 * How simulated merchants behave: each sells a few offers in one region (some in two), and every few
 * days changes a price or restocks through its provider server (the sim provider's catalog), after
 * which the management server pulls the catalog (the provider path of DESIGN claim 1). Customers'
 * coupons are redeemed at the merchant's till: see `behaviour-customer.ts` for when and how much.
 */

export interface MerchantParams {
  readonly offersPerMerchant: readonly [number, number]
  /** Prices are whole hundreds of points in this range. */
  readonly priceHundreds: readonly [number, number]
  readonly stock: readonly [number, number]
  /** Share of merchants that sell in a second region too. */
  readonly secondRegionShare: number
  /** Days between a merchant's catalog changes. */
  readonly changeEveryDays: readonly [number, number]
  /** A changed price moves by up to this share, either way. */
  readonly priceChangeShare: number
  /** Restock an offer when its stock falls to this share of its restock level. */
  readonly restockAtShare: number
  /** Offers on sale until this many days after the start (beyond any run's end). */
  readonly offerValidDays: number
  /** Pull attempts after a change before the merchant gives up until its next change. */
  readonly pullAttemptsMax: number
  readonly pullRetryMs: number
}

export const defaultMerchantParams: MerchantParams = {
  offersPerMerchant: [2, 6],
  priceHundreds: [5, 50],
  stock: [100, 600],
  secondRegionShare: 0.2,
  changeEveryDays: [1, 3],
  priceChangeShare: 0.2,
  restockAtShare: 0.25,
  offerValidDays: 400,
  pullAttemptsMax: 20,
  pullRetryMs: 10 * 60_000
}

export const TITLES = ["Americano", "Bibimbap", "Bus pass", "Cinema ticket", "Bakery set", "Phone top-up", "Book voucher", "Gym day", "Car wash", "Lunch box", "Flowers", "Museum entry"] as const

/** The regions a merchant sells in: its own (round robin over the regions) and sometimes the next one. */
export const regionsOfMerchant = (random: DeviceRandom, index: number, regions: ReadonlyArray<RegionId>, params: MerchantParams): ReadonlyArray<RegionId> => {
  const own = regions[index % regions.length] as RegionId
  const next = regions[(index + 1) % regions.length] as RegionId
  return next !== own && chance(random, params.secondRegionShare) ? [own, next] : [own]
}

/** A merchant's first catalog, as its provider server describes it. */
export const initialOffers = (
  random: DeviceRandom,
  merchantId: MerchantId,
  regions: ReadonlyArray<RegionId>,
  startMs: number,
  params: MerchantParams
): ReadonlyArray<ProviderOffer> =>
  Array.from({ length: between(random, params.offersPerMerchant) }, (_, i) => ({
    offerId: OfferId.make(`off_${merchantId.slice(4)}_${i + 1}`),
    title: `${TITLES[random.int(TITLES.length)] ?? "Voucher"} ${i + 1}`,
    pricePoints: between(random, params.priceHundreds) * 100,
    stock: between(random, params.stock),
    validFromMs: startMs,
    validUntilMs: startMs + params.offerValidDays * DAY_MS,
    regions
  }))

/**
 * A merchant's periodic change: one offer's price moves, and offers running low are restocked to a
 * fresh level. `stockNow` is the stock the server holds (what is left after orders), so a restock
 * never hands back units already sold.
 */
export const changeOffers = (
  random: DeviceRandom,
  offers: ReadonlyArray<ProviderOffer>,
  stockNow: (offerId: OfferId) => number,
  params: MerchantParams
): { readonly offers: ReadonlyArray<ProviderOffer>; readonly priceChanges: number; readonly restocks: number } => {
  let priceChanges = 0
  let restocks = 0
  const repriced = offers.length === 0 ? -1 : random.int(offers.length)
  const next = offers.map((offer, i) => {
    const left = stockNow(offer.offerId)
    const restockTo = between(random, params.stock)
    const restock = left <= Math.floor(restockTo * params.restockAtShare)
    if (restock) restocks++
    let pricePoints = offer.pricePoints
    if (i === repriced) {
      const factor = 1 + (random.next() * 2 - 1) * params.priceChangeShare
      pricePoints = Math.max(100, Math.round((offer.pricePoints * factor) / 100) * 100)
      if (pricePoints !== offer.pricePoints) priceChanges++
    }
    return { ...offer, pricePoints, stock: restock ? restockTo : left }
  })
  return { offers: next, priceChanges, restocks }
}

export const nextChangeMs = (random: DeviceRandom, nowMs: number, params: MerchantParams): number =>
  nowMs + Math.floor((params.changeEveryDays[0] + random.next() * (params.changeEveryDays[1] - params.changeEveryDays[0])) * DAY_MS)
