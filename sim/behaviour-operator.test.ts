import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { MerchantId, OfferId, RegionId } from "../core/domain/ids.js"
import { DAY_MS } from "./behaviour-customer.js"
import { changeOffers, defaultMerchantParams, initialOffers, nextChangeMs, regionsOfMerchant } from "./behaviour-merchant.js"
import { defaultOperatorParams, maintenanceNeeds, nextDailyRunMs, responseDelayMs } from "./behaviour-operator.js"
import { cardWithUid } from "./card-memory.js"
import type { SimCardUnitSnapshot } from "./card-unit-control.js"
import type { SimPrinterSnapshot } from "./printer.js"
import { deriveSeed, deviceRandom } from "./rng.js"

const randomOf = (label: string) => Effect.runSync(deviceRandom(deriveSeed(11, label)))

const card = (patch: Partial<SimCardUnitSnapshot> = {}): SimCardUnitSnapshot => ({
  initialised: true,
  jammed: false,
  frontEntry: false,
  position: "none",
  cardInTransport: undefined,
  cardAtSlot: undefined,
  stackerCards: 200,
  stackerCapacity: 500,
  binCards: 0,
  binCapacity: 300,
  dispensed: 0,
  captured: 0,
  taken: 0,
  inserted: 0,
  faultsFired: {},
  ...patch
})

const printer = (patch: Partial<SimPrinterSnapshot> = {}): SimPrinterSnapshot => ({
  online: true,
  coverOpen: false,
  cutterError: false,
  paperRemainingMm: 60_000,
  rollLengthMm: 80_000,
  printed: 0,
  faultsFired: {},
  ...patch
})

describe("operator behaviour", () => {
  it("is not called to a healthy kiosk", () => {
    expect(maintenanceNeeds(card(), printer(), defaultOperatorParams)).toEqual([])
  })

  it("empties the bin before re-initialising a jammed unit, then restocks and sees to the printer", () => {
    const needs = maintenanceNeeds(
      card({ jammed: true, binCards: 290, stackerCards: 3 }),
      printer({ cutterError: true, paperRemainingMm: 1_000 }),
      defaultOperatorParams
    )
    expect(needs).toEqual(["empty-bin", "reinitialise", "restock", "printer-service", "printer-paper"])
  })

  it("re-initialises a unit left with a card in its transport, emptying a bin that holds anything first", () => {
    const stuck = cardWithUid("04A1B2C3D4E5F6")
    expect(maintenanceNeeds(card({ position: "rf", cardInTransport: stuck, binCards: 1 }), printer(), defaultOperatorParams)).toEqual(["empty-bin", "reinitialise"])
    expect(maintenanceNeeds(card({ position: "rf", cardInTransport: stuck }), printer(), defaultOperatorParams)).toEqual(["reinitialise"])
    expect(maintenanceNeeds(card({ initialised: false }), printer(), defaultOperatorParams)).toEqual(["reinitialise"])
    expect(maintenanceNeeds(card(), printer({ online: false }), defaultOperatorParams)).toEqual(["printer-service"])
  })

  it("answers within the response window and runs the office daily at its hour", () => {
    const random = randomOf("operator")
    for (let i = 0; i < 200; i++) {
      const delay = responseDelayMs(random, defaultOperatorParams)
      expect(delay).toBeGreaterThanOrEqual(defaultOperatorParams.responseMs[0])
      expect(delay).toBeLessThanOrEqual(defaultOperatorParams.responseMs[1])
    }
    const day = 10 * DAY_MS
    expect(nextDailyRunMs(day, defaultOperatorParams)).toBe(day + defaultOperatorParams.dailyJobsAtMs)
    expect(nextDailyRunMs(day + defaultOperatorParams.dailyJobsAtMs, defaultOperatorParams)).toBe(day + DAY_MS + defaultOperatorParams.dailyJobsAtMs)
  })
})

describe("merchant behaviour", () => {
  const regions = [RegionId.make("reg_1"), RegionId.make("reg_2"), RegionId.make("reg_3")]

  it("sells in its own region, sometimes the next; its first offers are well formed", () => {
    const random = randomOf("merchants")
    for (let m = 0; m < 50; m++) {
      const mine = regionsOfMerchant(random, m, regions, defaultMerchantParams)
      expect(mine[0]).toBe(regions[m % 3])
      expect(mine.length).toBeLessThanOrEqual(2)
      const offers = initialOffers(random, MerchantId.make(`mer_${m}`), mine, 0, defaultMerchantParams)
      expect(offers.length).toBeGreaterThanOrEqual(defaultMerchantParams.offersPerMerchant[0])
      expect(offers.length).toBeLessThanOrEqual(defaultMerchantParams.offersPerMerchant[1])
      for (const offer of offers) {
        expect(Schema.is(OfferId)(offer.offerId)).toBe(true)
        expect(offer.pricePoints % 100).toBe(0)
        expect(offer.stock).toBeGreaterThan(0)
        expect(offer.validUntilMs).toBeGreaterThan(offer.validFromMs)
      }
      expect(new Set(offers.map((o) => o.offerId)).size).toBe(offers.length)
    }
  })

  it("reprices one offer and restocks only those running low, keeping what is left of the others", () => {
    const random = randomOf("changes")
    const offers = initialOffers(random, MerchantId.make("mer_9"), regions.slice(0, 1), 0, { ...defaultMerchantParams, offersPerMerchant: [4, 4] })
    const left = new Map(offers.map((o, i) => [o.offerId, i === 0 ? 0 : 90 + i] as const))
    const changed = changeOffers(random, offers, (id) => left.get(id) ?? 0, defaultMerchantParams)
    expect(changed.priceChanges).toBeLessThanOrEqual(1)
    expect(changed.offers[0]!.stock).toBeGreaterThan(0)
    expect(changed.restocks).toBeGreaterThanOrEqual(1)
    for (const [i, offer] of changed.offers.entries()) {
      if (i > 0 && offer.stock !== left.get(offer.offerId)) expect(offer.stock).toBeGreaterThanOrEqual(defaultMerchantParams.stock[0])
      expect(offer.pricePoints).toBeGreaterThanOrEqual(100)
    }
    const at = nextChangeMs(random, 0, defaultMerchantParams)
    expect(at).toBeGreaterThanOrEqual(defaultMerchantParams.changeEveryDays[0] * DAY_MS)
    expect(at).toBeLessThanOrEqual(defaultMerchantParams.changeEveryDays[1] * DAY_MS)
  })
})
