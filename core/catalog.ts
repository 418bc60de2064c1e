import { Clock, Effect, PubSub, Schema, type Scope, Stream } from "effect"
import { CatalogChange, type CatalogChangeKind, Offer, type OfferInput, OfferNotFound, OfferOfOtherMerchant, RegionCatalog } from "./domain/catalog.js"
import { type MerchantId, OfferId, type RegionId } from "./domain/ids.js"
import { InvalidRequest } from "./domain/invalid-request.js"
import { MerchantNotFound } from "./domain/merchant.js"
import { RegionNotFound } from "./domain/region.js"
import { makeCatalogRepo, type PendingChange } from "./catalog-repo.js"
import { CatalogConfig, checkOffer, type OfferDraft, sameOffer } from "./catalog-rules.js"
import type { ProviderOffer } from "./ports/provider-gateway.js"
import { DbInt } from "./domain/points.js"
import { onRows, rowsThen } from "./rows.js"
import { traced } from "./traced.js"

export { type CatalogSettings, CatalogConfig, defaultCatalogSettings } from "./catalog-rules.js"

/** What a provider push did. */
export interface ProviderSync {
  readonly offers: ReadonlyArray<Offer>
  /** Offers created or changed (an identical offer changes nothing and bumps no version). */
  readonly changed: number
  /** Offers withdrawn because a `replace` push left them out. */
  readonly withdrawn: number
}

const versionRows = rowsThen(Schema.Struct({ catalog_version: DbInt }))
const decodeOfferIds = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: OfferId })))

/**
 * Merchants' offers and the per-region catalogs kiosks show (DESIGN claims 1, 4, 7). Every change to
 * an offer bumps the catalog version of each region it touches (the ones it is sold in, and the ones it
 * left) and appends a `catalog_changes` record, in the transaction of the change; once that commits
 * the change is published to `changes(regionId)` subscribers. An upsert identical to what is stored
 * changes nothing and bumps nothing, so a provider may push its whole catalog as often as it likes.
 *
 * A region's catalog lists offers that are on sale, from registered merchants, and not yet over;
 * offers whose window has not opened yet are listed with their window, because the kiosk must show
 * them from the moment they open and no change will announce that moment.
 *
 * Catalog operations are meant to run on their own, not inside a caller's transaction: they publish
 * when their own transaction ends, which inside another would be before that one commits.
 */
export class Catalog extends Effect.Service<Catalog>()("ecoupon/Catalog", {
  effect: Effect.gen(function* () {
    const repo = yield* makeCatalogRepo
    const { sql } = repo
    const settings = yield* CatalogConfig
    // Sliding: a writer never waits on a slow reader; a reader that sees a gap in versions catches up
    // with changesSince.
    const pubsub = yield* PubSub.sliding<CatalogChange>(Math.max(1, settings.changesBuffer))

    const publish = (changes: ReadonlyArray<CatalogChange>): Effect.Effect<void> =>
      changes.length === 0 ? Effect.void : Effect.asVoid(PubSub.publishAll(pubsub, changes))

    /**
     * Runs `write` in a transaction, then bumps the versions for the changes it decided (all at the
     * end, in region order: see `bump`), materialises them there, and publishes them after commit.
     */
    const committed = <A, E>(write: (nowMs: number) => Effect.Effect<readonly [A, ReadonlyArray<PendingChange>], E>): Effect.Effect<A, E> =>
      Effect.gen(function* () {
        const nowMs = yield* Clock.currentTimeMillis
        const [result, changes] = yield* sql.withTransaction(
          Effect.gen(function* () {
            const [result, pending] = yield* write(nowMs)
            const rows = yield* repo.bump(pending, nowMs)
            return [result, yield* repo.materialize(rows, nowMs, settings.catalogOffersMax)] as const
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
        yield* publish(changes)
        return result
      })

    const requireRegions = (regions: ReadonlyArray<RegionId>) =>
      Effect.gen(function* () {
        const found = yield* sql`SELECT id FROM regions WHERE id IN ${sql.in(regions)}`.pipe(Effect.orDie)
        const known = new Set(found.map((row) => row["id"]))
        const missing = regions.find((region) => !known.has(region))
        if (missing !== undefined) return yield* new RegionNotFound({ regionId: missing })
      })

    /** Writes one checked offer in the current transaction; returns it and the changes it makes. */
    const writeOffer = (draft: OfferDraft, nowMs: number) =>
      Effect.gen(function* () {
        const { merchantId, offerId, regions } = draft
        const merchant = yield* repo.lockMerchant(merchantId)
        if (!merchant.has(merchantId)) return yield* new MerchantNotFound({ merchantId })
        yield* requireRegions(regions)
        const existing = (yield* repo.loadOffers([offerId])).get(offerId)
        if (existing !== undefined && existing.merchantId !== merchantId) {
          return yield* new OfferOfOtherMerchant({ offerId, merchantId, ownerId: existing.merchantId })
        }
        const couponValidityMs = draft.couponValidityMs ?? existing?.couponValidityMs ?? settings.couponValidityMsDefault
        const fields = {
          title: draft.title,
          pricePoints: draft.pricePoints,
          stock: draft.stock,
          validFromMs: draft.validFromMs,
          validUntilMs: draft.validUntilMs,
          couponValidityMs,
          status: "active" as const,
          regions
        }
        if (existing !== undefined && sameOffer(existing, fields)) return [existing, []] as const
        const version = (existing?.version ?? 0) + 1
        if (existing === undefined) {
          yield* sql`
            INSERT INTO offers (id, merchant_id, title, price_points, stock, valid_from_ms, valid_until_ms, coupon_validity_ms, status, version, updated_at_ms)
            VALUES (${offerId}, ${merchantId}, ${fields.title}, ${fields.pricePoints}, ${fields.stock}, ${fields.validFromMs}, ${fields.validUntilMs},
              ${couponValidityMs}, 'active', ${version}, ${nowMs})`.pipe(Effect.orDie)
        } else {
          yield* sql`
            UPDATE offers SET title = ${fields.title}, price_points = ${fields.pricePoints}, stock = ${fields.stock},
              valid_from_ms = ${fields.validFromMs}, valid_until_ms = ${fields.validUntilMs}, coupon_validity_ms = ${couponValidityMs},
              status = 'active', version = ${version}, updated_at_ms = ${nowMs}
            WHERE id = ${offerId}`.pipe(Effect.orDie)
        }
        const before = existing?.regions ?? []
        const left = before.filter((region) => !regions.includes(region))
        const joined = regions.filter((region) => !before.includes(region))
        if (left.length > 0) yield* sql`DELETE FROM offer_regions WHERE offer_id = ${offerId} AND region_id IN ${sql.in(left)}`.pipe(Effect.orDie)
        for (const regionId of joined) {
          yield* sql`INSERT INTO offer_regions (offer_id, region_id) VALUES (${offerId}, ${regionId})`.pipe(Effect.orDie)
        }
        const changes: Array<PendingChange> = [
          ...regions.map((regionId) => ({ regionId, change: "upsert" as const, merchantId, offerId })),
          ...left.map((regionId) => ({ regionId, change: "withdraw" as const, merchantId, offerId }))
        ]
        const offer = new Offer({ id: offerId, merchantId, ...fields, version, updatedAtMs: nowMs })
        return [offer, changes] as const
      })

    const withdrawIn = (offer: Offer, nowMs: number) =>
      Effect.gen(function* () {
        if (offer.status === "withdrawn") return [offer, []] as const
        const version = offer.version + 1
        yield* sql`UPDATE offers SET status = 'withdrawn', version = ${version}, updated_at_ms = ${nowMs} WHERE id = ${offer.id}`.pipe(Effect.orDie)
        const changes = offer.regions.map((regionId): PendingChange => ({ regionId, change: "withdraw", merchantId: offer.merchantId, offerId: offer.id }))
        return [new Offer({ ...offer, status: "withdrawn", version, updatedAtMs: nowMs }), changes] as const
      })

    const requireOffer = (offerId: OfferId) =>
      Effect.flatMap(repo.loadOffers([offerId]), (offers) => {
        const offer = offers.get(offerId)
        return offer === undefined ? Effect.fail(new OfferNotFound({ offerId })) : Effect.succeed(offer)
      })

    const upsertOffer = (input: OfferInput): Effect.Effect<Offer, InvalidRequest | MerchantNotFound | RegionNotFound | OfferOfOtherMerchant> =>
      Effect.gen(function* () {
        const draft = checkOffer(input)
        if (draft instanceof InvalidRequest) return yield* draft
        return yield* committed((nowMs) => writeOffer(draft, nowMs))
      }).pipe(traced("Catalog.upsertOffer"))

    const withdrawOffer = (offerId: OfferId): Effect.Effect<Offer, OfferNotFound> =>
      committed((nowMs) =>
        Effect.gen(function* () {
          const found = yield* requireOffer(offerId)
          yield* repo.lockMerchant(found.merchantId)
          return yield* withdrawIn(yield* requireOffer(offerId), nowMs)
        })
      ).pipe(traced("Catalog.withdrawOffer"))

    /**
     * A provider server's push (or a pulled catalog): every offer upserted in one transaction, so a
     * bad offer refuses the whole batch and writes nothing. With `replace`, the merchant's offers on
     * sale that the batch leaves out are withdrawn: the batch is the whole catalog.
     */
    const upsertFromProvider = (
      merchantId: MerchantId,
      offers: ReadonlyArray<ProviderOffer>,
      options: { readonly replace?: boolean } = {}
    ): Effect.Effect<ProviderSync, InvalidRequest | MerchantNotFound | RegionNotFound | OfferOfOtherMerchant> =>
      Effect.gen(function* () {
        if (offers.length > settings.batchOffersMax) {
          return yield* new InvalidRequest({ reason: `a push carries at most ${settings.batchOffersMax} offers, got ${offers.length}; split it` })
        }
        const seen = new Set<string>()
        const drafts: Array<OfferDraft> = []
        for (const offer of offers) {
          if (seen.has(offer.offerId)) return yield* new InvalidRequest({ reason: `offer ${offer.offerId} appears twice in one push` })
          seen.add(offer.offerId)
          const draft = checkOffer({ ...offer, merchantId, couponValidityMs: undefined })
          if (draft instanceof InvalidRequest) return yield* draft
          drafts.push(draft)
        }
        return yield* committed((nowMs) =>
          Effect.gen(function* () {
            const written = yield* Effect.forEach(drafts, (draft) => writeOffer(draft, nowMs))
            const changes = written.flatMap(([, offerChanges]) => offerChanges)
            let withdrawn = 0
            if (options.replace === true) {
              const stale = yield* sql`
                SELECT id FROM offers WHERE merchant_id = ${merchantId} AND status = 'active' ORDER BY id`.pipe(
                Effect.flatMap(decodeOfferIds),
                Effect.orDie
              )
              for (const { id: offerId } of stale) {
                if (seen.has(offerId)) continue
                const [, offerChanges] = yield* withdrawIn(yield* requireOffer(offerId).pipe(Effect.orDie), nowMs)
                changes.push(...offerChanges)
                withdrawn += 1
              }
            }
            const sync: ProviderSync = { offers: written.map(([offer]) => offer), changed: written.filter(([, offerChanges]) => offerChanges.length > 0).length, withdrawn }
            return [sync, changes] as const
          })
        )
      }).pipe(traced("Catalog.upsertFromProvider"))

    const catalogForRegion = (regionId: RegionId): Effect.Effect<RegionCatalog, RegionNotFound> =>
      Effect.gen(function* () {
        const nowMs = yield* Clock.currentTimeMillis
        const version = yield* regionVersion(regionId)
        const offers = yield* repo.onShowInRegion(regionId, nowMs, settings.catalogOffersMax)
        return new RegionCatalog({ regionId, version, offers })
      }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die), traced("Catalog.catalogForRegion"))

    /** The region's catalog version; its rows decoded in the statement's own continuation (a hot path: every kiosk visit). */
    const regionVersion = (regionId: RegionId): Effect.Effect<number, RegionNotFound> =>
      onRows(sql`SELECT catalog_version FROM regions WHERE id = ${regionId}`, (rows) =>
        versionRows(rows, (decoded) => (decoded[0] === undefined ? Effect.fail(new RegionNotFound({ regionId })) : Effect.succeed(decoded[0].catalog_version)))
      )

    /** The changes after `sinceVersion`, oldest first, at most `limit` (and `changesPageMax`) of them. */
    /**
     * A kiosk asks this on every visit and the answer is nearly always "nothing new": the region's
     * version (one statement, no transaction) says so, since every change's version is at most its
     * region's. Only when there is something newer are the changes read, in a transaction.
     */
    const changesSince = (regionId: RegionId, sinceVersion: number, limit?: number): Effect.Effect<ReadonlyArray<CatalogChange>, RegionNotFound> => {
      const since = Math.max(0, Math.floor(sinceVersion))
      return Effect.flatMap(regionVersion(regionId), (version): Effect.Effect<ReadonlyArray<CatalogChange>> =>
        version <= since
          ? Effect.succeed([])
          : Effect.gen(function* () {
              const nowMs = yield* Clock.currentTimeMillis
              const pageSize = Math.min(Math.max(1, Math.floor(limit ?? settings.changesPageMax)), settings.changesPageMax)
              const rows = yield* repo.changeRowsSince(regionId, since, pageSize)
              return yield* repo.materialize(rows, nowMs, settings.catalogOffersMax)
            }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die))
      ).pipe(traced("Catalog.changesSince"))
    }

    /**
     * Live changes of one region, from the moment the stream runs. To follow a region without a gap:
     * `subscribe`, then read `catalogForRegion`, and skip changes at or below its version.
     */
    const changes = (regionId: RegionId): Stream.Stream<CatalogChange> => Stream.unwrapScoped(subscribe(regionId))

    /**
     * Subscribes now and returns the stream of what follows: unlike `changes`, nothing published after
     * this returns can be missed, so "subscribe, then read the catalog" has no gap.
     */
    const subscribe = (regionId: RegionId): Effect.Effect<Stream.Stream<CatalogChange>, never, Scope.Scope> =>
      Effect.map(PubSub.subscribe(pubsub), (queue) => Stream.fromQueue(queue).pipe(Stream.filter((change) => change.regionId === regionId)))

    /** Every region's live changes, subscribed now: the server's fan-out to its kiosks and to other servers. */
    const subscribeAll: Effect.Effect<Stream.Stream<CatalogChange>, never, Scope.Scope> = Effect.map(PubSub.subscribe(pubsub), (queue) => Stream.fromQueue(queue))

    /**
     * For the merchants service, inside its transaction: bump every region where the merchant has
     * offers on sale, after its status changed. Returns the changes to `publish` once committed.
     */
    const recordMerchantChange = (merchantId: MerchantId, change: CatalogChangeKind, nowMs: number): Effect.Effect<ReadonlyArray<CatalogChange>> =>
      Effect.gen(function* () {
        const regions = yield* repo.regionsOfMerchant(merchantId)
        const rows = yield* repo.bump(regions.map((regionId) => ({ regionId, change, merchantId, offerId: null })), nowMs)
        return yield* repo.materialize(rows, nowMs, settings.catalogOffersMax)
      })

    return {
      upsertOffer,
      withdrawOffer,
      upsertFromProvider,
      offer: (offerId: OfferId): Effect.Effect<Offer, OfferNotFound> => requireOffer(offerId).pipe(traced("Catalog.offer")),
      catalogForRegion,
      changesSince,
      changes,
      subscribe,
      subscribeAll,
      recordMerchantChange,
      publish
    } as const
  })
}) {}
