import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { InstitutionId, KioskId, MerchantId, OfferId, RegionId, TransferId, UserId } from "../domain/ids.js"
import { StockMovementId } from "../domain/kiosk.js"
import { Account } from "../domain/ledger.js"
import { SessionId } from "../domain/user.js"
import { defaultDesiredState } from "../domain/twin.js"
import { recordStockMovement } from "../kiosks.js"
import { Ledger } from "../ledger.js"

/**
 * A small deployment for the order, card, redemption and settlement tests, written straight into the
 * tables (the services that own them are tested on their own): two regions with their institutions,
 * a kiosk in each, a registered and a suspended merchant, two users, one offer on sale in region 1.
 * Everything is at virtual time 0 unless a test moves the clock.
 */
export const world = {
  institution1: InstitutionId.make("ins_1"),
  institution2: InstitutionId.make("ins_2"),
  region1: RegionId.make("reg_1"),
  region2: RegionId.make("reg_2"),
  kiosk1: KioskId.make("ksk_1"),
  kiosk2: KioskId.make("ksk_2"),
  merchant: MerchantId.make("mer_1"),
  suspendedMerchant: MerchantId.make("mer_2"),
  alice: UserId.make("usr_alice"),
  bob: UserId.make("usr_bob"),
  offer: OfferId.make("off_1"),
  aliceSession: SessionId.make("ses_alice"),
  /** Region 1's catalog version after seeding; the offer last changed at it. */
  catalogVersion: 1,
  offerPrice: 1_000,
  offerStock: 5,
  couponValidityMs: 30 * 86_400_000,
  alicePoints: 10_000,
  stackerCards: 10,
  binCapacity: 3
} as const

export const DAY_MS = 86_400_000

export interface OfferSeed {
  readonly id: OfferId
  readonly merchantId?: MerchantId
  readonly pricePoints?: number
  readonly stock?: number
  readonly validFromMs?: number
  readonly validUntilMs?: number
  readonly couponValidityMs?: number
  readonly status?: string
  readonly regions?: ReadonlyArray<RegionId>
}

/** Adds an offer and records it as a catalog change in each of its regions (bumping their version). */
export const addOffer = (seed: OfferSeed) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const merchantId = seed.merchantId ?? world.merchant
    yield* sql`
      INSERT INTO offers (id, merchant_id, title, price_points, stock, valid_from_ms, valid_until_ms, coupon_validity_ms, status, version, updated_at_ms)
      VALUES (${seed.id}, ${merchantId}, ${`offer ${seed.id}`}, ${seed.pricePoints ?? world.offerPrice}, ${seed.stock ?? world.offerStock},
        ${seed.validFromMs ?? 0}, ${seed.validUntilMs ?? 365 * DAY_MS}, ${seed.couponValidityMs ?? world.couponValidityMs}, ${seed.status ?? "active"}, 1, 0)`
    for (const region of seed.regions ?? [world.region1]) {
      yield* sql`INSERT INTO offer_regions (offer_id, region_id) VALUES (${seed.id}, ${region})`
      yield* bumpCatalog(region, seed.id, merchantId)
    }
  }).pipe(Effect.orDie)

/** Records a change of the offer in the region and returns the region's new catalog version. */
export const bumpCatalog = (regionId: RegionId, offerId: OfferId, merchantId: MerchantId = world.merchant) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`UPDATE regions SET catalog_version = catalog_version + 1 WHERE id = ${regionId}`
    const rows = yield* sql<{ catalog_version: number | string }>`SELECT catalog_version FROM regions WHERE id = ${regionId}`
    const version = Number(rows[0]?.catalog_version ?? 0)
    yield* sql`
      INSERT INTO catalog_changes (region_id, version, offer_id, merchant_id, change, at_ms)
      VALUES (${regionId}, ${version}, ${offerId}, ${merchantId}, 'upsert', 0)`
    return version
  }).pipe(Effect.orDie)

export const grant = (userId: UserId, amount: number, id: string) =>
  Effect.flatMap(Ledger, (ledger) =>
    ledger.transfer({ id: TransferId.make(id), debit: Account.issuer, credit: Account.user(userId), amount, code: "grant", ref: userId })
  ).pipe(Effect.orDie)

export const seedWorld = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const ledger = yield* Ledger
  const w = world
  yield* sql`INSERT INTO institutions (id, name, created_at_ms) VALUES (${w.institution1}, 'Food bank', 0), (${w.institution2}, 'Library fund', 0)`
  yield* ledger.openAccount(Account.institution(w.institution1), "institution")
  yield* ledger.openAccount(Account.institution(w.institution2), "institution")
  yield* sql`
    INSERT INTO regions (id, name, institution_id, catalog_version, created_at_ms)
    VALUES (${w.region1}, 'North', ${w.institution1}, 0, 0), (${w.region2}, 'South', ${w.institution2}, 0, 0)`
  const desired = JSON.stringify(defaultDesiredState(14))
  for (const [kiosk, region] of [[w.kiosk1, w.region1], [w.kiosk2, w.region2]] as const) {
    yield* sql`
      INSERT INTO kiosks (id, region_id, name, stacker_cards, bin_cards, bin_capacity, created_at_ms)
      VALUES (${kiosk}, ${region}, ${`kiosk ${kiosk}`}, 0, 0, ${w.binCapacity}, 0)`
    yield* sql`
      INSERT INTO kiosk_twins (kiosk_id, desired_json, desired_version, reported_json, reported_version, last_seen_ms)
      VALUES (${kiosk}, ${desired}, 1, 'null', 0, NULL)`
    yield* recordStockMovement({ id: StockMovementId.make(`load:${kiosk}`), kioskId: kiosk, kind: "load", deltaStacker: w.stackerCards, deltaBin: 0 })
  }
  yield* sql`
    INSERT INTO merchants (id, name, status, provider_url, created_at_ms, updated_at_ms)
    VALUES (${w.merchant}, 'Cafe', 'registered', NULL, 0, 0), (${w.suspendedMerchant}, 'Closed shop', 'suspended', NULL, 0, 0)`
  for (const merchant of [w.merchant, w.suspendedMerchant]) {
    yield* ledger.openAccount(Account.merchantPayable(merchant), "merchant_payable")
    yield* ledger.openAccount(Account.merchantPaid(merchant), "merchant_paid")
  }
  yield* sql`INSERT INTO users (id, phone, registered_at_ms) VALUES (${w.alice}, '+821000000001', 0), (${w.bob}, '+821000000002', 0)`
  yield* ledger.openAccount(Account.user(w.alice), "user")
  yield* ledger.openAccount(Account.user(w.bob), "user")
  yield* grant(w.alice, w.alicePoints, "grant:alice")
  yield* sql`
    INSERT INTO sessions (id, user_id, kiosk_id, created_at_ms, expires_at_ms, ended_at_ms)
    VALUES (${w.aliceSession}, ${w.alice}, ${w.kiosk1}, 0, ${DAY_MS}, NULL)`
  yield* addOffer({ id: w.offer })
}).pipe(Effect.orDie)
