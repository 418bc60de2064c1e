import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import {
  CatalogChange,
  type CatalogChangeKind,
  CatalogChangeRow,
  type Offer,
  offerFromRow,
  OfferRow
} from "./domain/catalog.js"
import { type MerchantId, type OfferId, RegionId } from "./domain/ids.js"
import { DbInt } from "./domain/points.js"
import { MerchantStatus } from "./domain/merchant.js"

/** A row of `catalog_changes` as written or read. */
export type ChangeRow = typeof CatalogChangeRow.Type

/** A change decided but not yet given its version. */
export interface PendingChange {
  readonly regionId: RegionId
  readonly change: CatalogChangeKind
  readonly merchantId: MerchantId
  readonly offerId: OfferId | null
}

const OfferRegionRow = Schema.Struct({ offer_id: Schema.String, region_id: RegionId })
const decodeOffers = Schema.decodeUnknown(Schema.Array(OfferRow))
const decodeOfferRegions = Schema.decodeUnknown(Schema.Array(OfferRegionRow))
const decodeChanges = Schema.decodeUnknown(Schema.Array(CatalogChangeRow))
const decodeStatuses = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String, status: MerchantStatus })))
export const decodeCatalogVersions = Schema.decodeUnknown(Schema.Array(Schema.Struct({ catalog_version: DbInt })))
const decodeRegionIds = Schema.decodeUnknown(Schema.Array(Schema.Struct({ region_id: RegionId })))

const unique = <A>(values: Iterable<A>): Array<A> => [...new Set(values)]

/** Whether kiosks in `regionId` show `offer` now: on sale, from a registered merchant, not yet over. */
export const onShow = (offer: Offer, merchantStatus: MerchantStatus, regionId: RegionId, nowMs: number): boolean =>
  offer.status === "active" && merchantStatus === "registered" && offer.regions.includes(regionId) && offer.validUntilMs > nowMs

/**
 * The SQL of the catalog: reading offers with their regions, bumping a region's version with its
 * change record, and turning change records into the changes kiosks apply. Runs inside the caller's
 * transaction; SQL failures are defects.
 */
export const makeCatalogRepo = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const withRegions = (rows: ReadonlyArray<typeof OfferRow.Type>) =>
    Effect.gen(function* () {
      if (rows.length === 0) return []
      const links = yield* sql`
        SELECT offer_id, region_id FROM offer_regions WHERE offer_id IN ${sql.in(rows.map((row) => row.id))}`.pipe(
        Effect.flatMap(decodeOfferRegions),
        Effect.orDie
      )
      const regions = new Map<string, Array<RegionId>>()
      for (const link of links) {
        const list = regions.get(link.offer_id) ?? []
        list.push(link.region_id)
        regions.set(link.offer_id, list)
      }
      return rows.map((row) => offerFromRow(row, regions.get(row.id) ?? []))
    })

  const loadOffers = (ids: ReadonlyArray<OfferId>): Effect.Effect<ReadonlyMap<OfferId, Offer>> =>
    Effect.gen(function* () {
      const wanted = unique(ids)
      if (wanted.length === 0) return new Map()
      const rows = yield* sql`SELECT * FROM offers WHERE id IN ${sql.in(wanted)}`.pipe(Effect.flatMap(decodeOffers), Effect.orDie)
      const offers = yield* withRegions(rows)
      return new Map(offers.map((offer) => [offer.id, offer]))
    })

  /** Offers on show in a region now, by id; of one merchant when given. */
  const onShowInRegion = (regionId: RegionId, nowMs: number, limit: number, merchantId?: MerchantId): Effect.Effect<ReadonlyArray<Offer>> =>
    Effect.gen(function* () {
      const ofMerchant = merchantId === undefined ? sql`` : sql`AND f.merchant_id = ${merchantId}`
      const rows = yield* sql`
        SELECT f.* FROM offers f
        JOIN offer_regions r ON r.offer_id = f.id AND r.region_id = ${regionId}
        JOIN merchants m ON m.id = f.merchant_id
        WHERE f.status = 'active' AND m.status = 'registered' AND f.valid_until_ms > ${nowMs} ${ofMerchant}
        ORDER BY f.id
        LIMIT ${limit}`.pipe(Effect.flatMap(decodeOffers), Effect.orDie)
      return yield* withRegions(rows)
    })

  const merchantStatuses = (ids: ReadonlyArray<MerchantId>): Effect.Effect<ReadonlyMap<string, MerchantStatus>> =>
    Effect.gen(function* () {
      const wanted = unique(ids)
      if (wanted.length === 0) return new Map()
      const rows = yield* sql`SELECT id, status FROM merchants WHERE id IN ${sql.in(wanted)}`.pipe(Effect.flatMap(decodeStatuses), Effect.orDie)
      return new Map(rows.map((row) => [row.id, row.status]))
    })

  /**
   * Moves a region's catalog version on by one per change and records why. All of a transaction's
   * bumps go through one call, in region id order (stable, so one region's changes keep their order):
   * concurrent writers then lock region rows in the same order and cannot deadlock (PostgreSQL).
   */
  const bump = (changes: ReadonlyArray<PendingChange>, nowMs: number): Effect.Effect<ReadonlyArray<ChangeRow>> =>
    Effect.forEach(
      [...changes].sort((a, b) => (a.regionId < b.regionId ? -1 : a.regionId > b.regionId ? 1 : 0)),
      ({ change, merchantId, offerId, regionId }) =>
        Effect.gen(function* () {
          const bumped = yield* sql`
            UPDATE regions SET catalog_version = catalog_version + 1 WHERE id = ${regionId}
            RETURNING catalog_version`.pipe(Effect.flatMap(decodeCatalogVersions), Effect.orDie)
          const version = bumped[0]?.catalog_version
          if (version === undefined) return yield* Effect.dieMessage(`region ${regionId} vanished while its catalog changed`)
          yield* sql`
            INSERT INTO catalog_changes (region_id, version, offer_id, merchant_id, change, at_ms)
            VALUES (${regionId}, ${version}, ${offerId}, ${merchantId}, ${change}, ${nowMs})`.pipe(Effect.orDie)
          return { region_id: regionId, version, offer_id: offerId, merchant_id: merchantId, change, at_ms: nowMs }
        })
    )

  /** Change records as kiosks apply them, each with the offers it puts on show now. */
  const materialize = (rows: ReadonlyArray<ChangeRow>, nowMs: number, perMerchantMax: number): Effect.Effect<ReadonlyArray<CatalogChange>> =>
    Effect.gen(function* () {
      const offers = yield* loadOffers(rows.flatMap((row) => (row.offer_id === null ? [] : [row.offer_id])))
      const statuses = yield* merchantStatuses(rows.map((row) => row.merchant_id))
      const merchantOffers = new Map<string, ReadonlyArray<Offer>>()
      for (const row of rows) {
        const key = `${row.region_id} ${row.merchant_id}`
        if (row.offer_id === null && !merchantOffers.has(key)) {
          merchantOffers.set(key, yield* onShowInRegion(row.region_id, nowMs, perMerchantMax, row.merchant_id))
        }
      }
      return rows.map((row) => {
        const status = statuses.get(row.merchant_id) ?? "suspended"
        const offer = row.offer_id === null ? undefined : offers.get(row.offer_id)
        const shown =
          row.offer_id === null
            ? (merchantOffers.get(`${row.region_id} ${row.merchant_id}`) ?? [])
            : offer !== undefined && onShow(offer, status, row.region_id, nowMs)
              ? [offer]
              : []
        return new CatalogChange({
          regionId: row.region_id,
          version: row.version,
          change: row.change,
          merchantId: row.merchant_id,
          offerId: row.offer_id,
          atMs: row.at_ms,
          offers: shown
        }, true)
      })
    })

  const changeRowsSince = (regionId: RegionId, sinceVersion: number, limit: number): Effect.Effect<ReadonlyArray<ChangeRow>> =>
    sql`
      SELECT region_id, version, offer_id, merchant_id, change, at_ms FROM catalog_changes
      WHERE region_id = ${regionId} AND version > ${sinceVersion}
      ORDER BY version
      LIMIT ${limit}`.pipe(Effect.flatMap(decodeChanges), Effect.orDie)

  /** Regions where a merchant has offers on sale, in id order. */
  const regionsOfMerchant = (merchantId: MerchantId): Effect.Effect<ReadonlyArray<RegionId>> =>
    sql`
      SELECT DISTINCT r.region_id FROM offer_regions r JOIN offers f ON f.id = r.offer_id
      WHERE f.merchant_id = ${merchantId} AND f.status = 'active'
      ORDER BY r.region_id`.pipe(
      Effect.flatMap(decodeRegionIds),
      Effect.map((rows) => rows.map((row) => row.region_id)),
      Effect.orDie
    )

  /** Holds the merchant's row until the transaction ends, so one merchant's catalog changes queue. */
  const lockMerchant = (merchantId: MerchantId): Effect.Effect<ReadonlyMap<string, MerchantStatus>> =>
    Effect.gen(function* () {
      const lock = sql.onDialectOrElse({ pg: () => sql`FOR UPDATE`, orElse: () => sql`` })
      const rows = yield* sql`SELECT id, status FROM merchants WHERE id = ${merchantId} ${lock}`.pipe(Effect.flatMap(decodeStatuses), Effect.orDie)
      return new Map(rows.map((row) => [row.id, row.status]))
    })

  return { sql, loadOffers, onShowInRegion, bump, materialize, changeRowsSince, regionsOfMerchant, lockMerchant } as const
})
