import { Schema } from "effect"
import { MerchantId, OfferId, RegionId } from "./ids.js"
import { DbInt } from "./points.js"

/** active: on sale where its regions' kiosks show it. withdrawn: off sale everywhere. */
export const OfferStatus = Schema.Literal("active", "withdrawn")
export type OfferStatus = typeof OfferStatus.Type

export const TITLE_LENGTH_MAX = 200
export const PRICE_POINTS_MAX = 1_000_000_000
export const STOCK_MAX = 10_000_000
export const COUPON_VALIDITY_MS_MAX = 5 * 366 * 24 * 60 * 60 * 1000
export const OFFER_REGIONS_MAX = 100

export class Offer extends Schema.Class<Offer>("Offer")({
  id: OfferId,
  merchantId: MerchantId,
  title: Schema.String,
  pricePoints: Schema.Int,
  stock: Schema.Int,
  /** The offer is on sale from validFromMs (inclusive) to validUntilMs (exclusive). */
  validFromMs: Schema.Int,
  validUntilMs: Schema.Int,
  /** How long a coupon bought from this offer can be redeemed. */
  couponValidityMs: Schema.Int,
  status: OfferStatus,
  /** Bumps with every change to the offer. */
  version: Schema.Int,
  updatedAtMs: Schema.Int,
  /** Sorted. */
  regions: Schema.Array(RegionId)
}) {}

export const OfferRow = Schema.Struct({
  id: OfferId,
  merchant_id: MerchantId,
  title: Schema.String,
  price_points: DbInt,
  stock: DbInt,
  valid_from_ms: DbInt,
  valid_until_ms: DbInt,
  coupon_validity_ms: DbInt,
  status: OfferStatus,
  version: DbInt,
  updated_at_ms: DbInt
})

export const offerFromRow = (row: typeof OfferRow.Type, regions: ReadonlyArray<RegionId>): Offer =>
  new Offer({
    id: row.id,
    merchantId: row.merchant_id,
    title: row.title,
    pricePoints: row.price_points,
    stock: row.stock,
    validFromMs: row.valid_from_ms,
    validUntilMs: row.valid_until_ms,
    couponValidityMs: row.coupon_validity_ms,
    status: row.status,
    version: row.version,
    updatedAtMs: row.updated_at_ms,
    regions: [...regions].sort()
  }, true)

/** An offer as an operator or a provider server describes it: created if new, replaced if not. */
export interface OfferInput {
  readonly offerId: OfferId
  readonly merchantId: MerchantId
  readonly title: string
  readonly pricePoints: number
  readonly stock: number
  readonly validFromMs: number
  readonly validUntilMs: number
  readonly couponValidityMs: number
  readonly regions: ReadonlyArray<RegionId>
}

/**
 * What one bump of a region's catalog version changed. upsert / withdraw name an offer; the merchant
 * changes name a merchant (offerId null) and concern all its offers in the region.
 */
export const CatalogChangeKind = Schema.Literal("upsert", "withdraw", "merchant_registered", "merchant_suspended", "merchant_restored")
export type CatalogChangeKind = typeof CatalogChangeKind.Type

/**
 * One change as kiosks apply it: drop what it names (the offer, or every offer of the merchant), then
 * add `offers`, the named offers that are on show in the region now. The same rule applies a live
 * change and a replayed one alike; replaying old changes with today's `offers` converges on today's
 * catalog.
 */
export class CatalogChange extends Schema.Class<CatalogChange>("CatalogChange")({
  regionId: RegionId,
  version: Schema.Int,
  change: CatalogChangeKind,
  merchantId: MerchantId,
  offerId: Schema.NullOr(OfferId),
  atMs: Schema.Int,
  offers: Schema.Array(Offer)
}) {}

export const CatalogChangeRow = Schema.Struct({
  region_id: RegionId,
  version: DbInt,
  offer_id: Schema.NullOr(OfferId),
  merchant_id: MerchantId,
  change: CatalogChangeKind,
  at_ms: DbInt
})

/** A region's catalog at one version: the offers on show, their validity windows with them. */
export class RegionCatalog extends Schema.Class<RegionCatalog>("RegionCatalog")({
  regionId: RegionId,
  version: Schema.Int,
  offers: Schema.Array(Offer)
}) {}

export class OfferNotFound extends Schema.TaggedError<OfferNotFound>()("OfferNotFound", { offerId: Schema.String }) {
  override get message() {
    return `no offer ${this.offerId}; check the id, or upsert the offer first`
  }
}

export class OfferOfOtherMerchant extends Schema.TaggedError<OfferOfOtherMerchant>()("OfferOfOtherMerchant", {
  offerId: OfferId,
  merchantId: MerchantId,
  ownerId: MerchantId
}) {
  override get message() {
    return `offer ${this.offerId} belongs to merchant ${this.ownerId}, not ${this.merchantId}; use an offer id of your own`
  }
}
