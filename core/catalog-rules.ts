import { Context } from "effect"
import {
  COUPON_VALIDITY_MS_MAX,
  type Offer,
  type OfferInput,
  OFFER_REGIONS_MAX,
  PRICE_POINTS_MAX,
  STOCK_MAX,
  TITLE_LENGTH_MAX
} from "./domain/catalog.js"
import { InvalidRequest } from "./domain/invalid-request.js"

/** The catalog's limits and defaults, and the rules an offer must meet before anything is written. */

export interface CatalogSettings {
  /** Coupon validity for provider offers, which do not say (kept from the offer once it has one). */
  readonly couponValidityMsDefault: number
  /** Offers one provider push may carry. */
  readonly batchOffersMax: number
  /** Offers one region's catalog returns; a region with more is cut at this many, by offer id. */
  readonly catalogOffersMax: number
  /** Changes one `changesSince` returns; the caller asks again from the last version it got. */
  readonly changesPageMax: number
  /** Changes a slow subscriber may fall behind before the oldest are dropped (it then catches up). */
  readonly changesBuffer: number
}

export const defaultCatalogSettings: CatalogSettings = {
  couponValidityMsDefault: 90 * 24 * 60 * 60 * 1000,
  batchOffersMax: 1_000,
  catalogOffersMax: 5_000,
  changesPageMax: 1_000,
  changesBuffer: 4_096
}

export class CatalogConfig extends Context.Reference<CatalogConfig>()("ecoupon/CatalogConfig", {
  defaultValue: (): CatalogSettings => defaultCatalogSettings
}) {}

/** An offer to write; a provider's offer carries no coupon validity (undefined: keep or default). */
export type OfferDraft = Omit<OfferInput, "couponValidityMs"> & { readonly couponValidityMs: number | undefined }

export type OfferFields = Pick<Offer, "title" | "pricePoints" | "stock" | "validFromMs" | "validUntilMs" | "couponValidityMs" | "status" | "regions">

/** Whether writing `b` over `a` would change anything kiosks or orders see. */
export const sameOffer = (a: OfferFields, b: OfferFields): boolean =>
  a.title === b.title &&
  a.pricePoints === b.pricePoints &&
  a.stock === b.stock &&
  a.validFromMs === b.validFromMs &&
  a.validUntilMs === b.validUntilMs &&
  a.couponValidityMs === b.couponValidityMs &&
  a.status === b.status &&
  a.regions.join(" ") === b.regions.join(" ")

const whole = (n: number, min: number, max: number) => Number.isSafeInteger(n) && n >= min && n <= max

/** The draft with a trimmed title and sorted regions, or why it is refused. */
export const checkOffer = (draft: OfferDraft): InvalidRequest | OfferDraft => {
  const refuse = (reason: string) => new InvalidRequest({ reason: `offer ${draft.offerId}: ${reason}` })
  const title = draft.title.trim()
  if (title.length === 0 || title.length > TITLE_LENGTH_MAX) return refuse(`title must be 1 to ${TITLE_LENGTH_MAX} characters`)
  if (!whole(draft.pricePoints, 1, PRICE_POINTS_MAX)) return refuse(`price must be a whole number of points from 1 to ${PRICE_POINTS_MAX}, got ${draft.pricePoints}`)
  if (!whole(draft.stock, 0, STOCK_MAX)) return refuse(`stock must be a whole number from 0 to ${STOCK_MAX}, got ${draft.stock}`)
  if (!Number.isSafeInteger(draft.validFromMs) || !Number.isSafeInteger(draft.validUntilMs) || draft.validFromMs >= draft.validUntilMs) {
    return refuse(`the validity window must be whole milliseconds with its start before its end, got ${draft.validFromMs} to ${draft.validUntilMs}`)
  }
  if (draft.couponValidityMs !== undefined && !whole(draft.couponValidityMs, 1, COUPON_VALIDITY_MS_MAX)) {
    return refuse(`coupon validity must be from 1 ms to ${COUPON_VALIDITY_MS_MAX} ms, got ${draft.couponValidityMs}`)
  }
  const regions = [...new Set(draft.regions)].sort()
  if (regions.length === 0 || regions.length > OFFER_REGIONS_MAX) return refuse(`name 1 to ${OFFER_REGIONS_MAX} regions to sell it in, got ${regions.length}`)
  return { ...draft, title, regions }
}
