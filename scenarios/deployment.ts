import { InstitutionId, KioskId, MerchantId, OfferId, RegionId } from "../core/domain/ids.js"

/**
 * The small deployment every scenario starts from, on every layer: two regions with their
 * institutions, a kiosk in each, two merchants with one offer each (sold in both regions), three
 * customers who are not registered yet. Small on purpose: with few parties, 50 random commands hit
 * the interesting collisions (the same coupon redeemed twice, a card returned at the other kiosk, a
 * stacker running empty, an offer selling out).
 */

export const DAY_MS = 86_400_000
export const MINUTE_MS = 60_000

export const deployment = {
  /** Monday 2025-01-06, 09:00 UTC: scenarios start in business hours. */
  startMs: Date.UTC(2025, 0, 6, 9, 0, 0),
  institutions: [InstitutionId.make("ins_north"), InstitutionId.make("ins_south")],
  regions: [RegionId.make("reg_north"), RegionId.make("reg_south")],
  /** Kiosk k stands in region k. */
  kiosks: [KioskId.make("ksk_north"), KioskId.make("ksk_south")],
  merchants: [MerchantId.make("mer_cafe"), MerchantId.make("mer_books")],
  /** Offer o belongs to merchant o. */
  offers: [
    { id: OfferId.make("off_coffee"), title: "Coffee voucher", pricePoints: 1_200, stock: 6 },
    { id: OfferId.make("off_book"), title: "Book voucher", pricePoints: 4_500, stock: 3 }
  ],
  /** Customers by number; their phone numbers never appear in a result, a report or a log. */
  phones: ["+821055500001", "+821055500002", "+821055500003"],
  stackerCards: 4,
  binCapacity: 50,
  /** The core's defaults the model relies on (core/users-challenges.ts, core/cards.ts, core/catalog-rules.ts, core/redemption.ts). */
  welcomeGrantPoints: 10_000,
  depositPoints: 3_000,
  returnDeadlineDays: 14,
  couponValidityMs: 90 * DAY_MS,
  rollbackWindowMs: DAY_MS,
  /** Offers stay on sale for two years. */
  offerOnSaleMs: 730 * DAY_MS,
  /** Every command starts after this much time: a customer at a kiosk takes minutes, and it keeps the code rate limits (5 per 15 min) out of the way. */
  commandGapMs: 5 * MINUTE_MS + 1_000,
  /** Outbox attempts before a message is dead (core/outbox.ts default). */
  outboxAttemptsMax: 8
} as const

export const customerCount = deployment.phones.length
export const kioskCount = deployment.kiosks.length
export const offerCount = deployment.offers.length

/** Midnight (UTC) at or before `ms`: settlement periods end at midnight. */
export const midnightOf = (ms: number): number => ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS)

/**
 * The parties' ids and phone numbers as one run of the system names them. On every layer but a server
 * the runner did not start they are the deployment's own; against a shared server (`--server URL`)
 * each run names its own (a suffix on every id, fresh phone numbers), so runs never meet. Answers and
 * sheets always speak the deployment's own names (`canonical`), so they compare with the model's.
 */
export interface DeploymentNames {
  readonly institutions: ReadonlyArray<InstitutionId>
  readonly regions: ReadonlyArray<RegionId>
  readonly kiosks: ReadonlyArray<KioskId>
  readonly merchants: ReadonlyArray<MerchantId>
  readonly offers: ReadonlyArray<OfferId>
  readonly phones: ReadonlyArray<string>
  /** When this run's deployment starts: offers are on sale from a day before it. */
  readonly startMs: number
  /** One of this run's ids as the deployment names it (unchanged if it is not one of them). */
  readonly canonical: (id: string) => string
  /** Added to the ids the runner makes up itself (redemptions, grants): "" but on a shared server. */
  readonly idSuffix: string
}

export const deploymentNames: DeploymentNames = {
  institutions: deployment.institutions,
  regions: deployment.regions,
  kiosks: deployment.kiosks,
  merchants: deployment.merchants,
  offers: deployment.offers.map((offer) => offer.id),
  phones: deployment.phones,
  startMs: deployment.startMs,
  canonical: (id) => id,
  idSuffix: ""
}

/** Every id with `_<suffix>`, the phone numbers given, the deployment starting at `startMs`. */
export const suffixedNames = (suffix: string, phones: ReadonlyArray<string>, startMs: number): DeploymentNames => {
  const own = new Map<string, string>()
  const rename = <I extends string>(ids: ReadonlyArray<I>): ReadonlyArray<I> =>
    ids.map((id) => {
      const renamed = `${id}_${suffix}` as I
      own.set(renamed, id)
      return renamed
    })
  return {
    institutions: rename(deployment.institutions),
    regions: rename(deployment.regions),
    kiosks: rename(deployment.kiosks),
    merchants: rename(deployment.merchants),
    offers: rename(deployment.offers.map((offer) => offer.id)),
    phones,
    startMs,
    canonical: (id) => own.get(id) ?? id,
    idSuffix: `_${suffix}`
  }
}
