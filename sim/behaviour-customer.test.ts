import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { OfferId, MerchantId, PhoneNumber } from "../core/domain/ids.js"
import type { CatalogOffer } from "../core/ports/kiosk-backend.js"
import {
  chooseMedium,
  chooseOffer,
  codeInText,
  DAY_MS,
  defaultCustomerParams,
  HOUR_MS,
  mistype,
  nextArrivalMs,
  phoneOfCustomer,
  planRedemptions,
  planReturn
} from "./behaviour-customer.js"
import { deriveSeed } from "./rng.js"
import { Effect } from "effect"
import { deviceRandom, type DeviceRandom } from "./rng.js"

const randomOf = (label: string): DeviceRandom => Effect.runSync(deviceRandom(deriveSeed(7, label)))
const p = defaultCustomerParams

const offer = (id: string, pricePoints: number, stock = 10): CatalogOffer => ({
  offerId: OfferId.make(id),
  merchantId: MerchantId.make("mer_1"),
  title: id,
  pricePoints,
  stock,
  validUntilMs: DAY_MS
})

describe("customer behaviour", () => {
  it("arrives by the hour of the day: none while closed, about the daily mean over many days", () => {
    const random = randomOf("arrivals")
    const perHour = new Array<number>(24).fill(0)
    let t = 0
    let arrivals = 0
    const days = 200
    for (;;) {
      const next = nextArrivalMs(random, t, p)
      if (next === undefined || next >= days * DAY_MS) break
      expect(next).toBeGreaterThanOrEqual(t)
      perHour[Math.floor((next % DAY_MS) / HOUR_MS)]! += 1
      arrivals++
      t = next
    }
    // The profile is closed from midnight to six.
    expect(perHour.slice(0, 6).every((n) => n === 0)).toBe(true)
    expect(perHour[23]).toBe(0)
    const mean = arrivals / days
    expect(mean).toBeGreaterThan(p.customersPerKioskPerDay * 0.95)
    expect(mean).toBeLessThan(p.customersPerKioskPerDay * 1.05)
    // The evening peak (weight 10) sees more than the early morning (weight 1).
    expect(perHour[18]!).toBeGreaterThan(perHour[6]! * 5)
  })

  it("never arrives when nobody comes", () => {
    expect(nextArrivalMs(randomOf("none"), 0, { ...p, customersPerKioskPerDay: 0 })).toBeUndefined()
    expect(nextArrivalMs(randomOf("none"), 0, { ...p, hourWeights: new Array(24).fill(0) })).toBeUndefined()
  })

  it("chooses an affordable offer in stock, or none", () => {
    const random = randomOf("offers")
    const offers = [offer("off_cheap", 500), offer("off_dear", 9_000), offer("off_gone", 100, 0)]
    for (let i = 0; i < 200; i++) {
      const choice = chooseOffer(random, offers, 1_000, p)
      expect(choice?.offer.offerId).toBe("off_cheap")
      expect(choice!.offer.pricePoints * choice!.quantity).toBeLessThanOrEqual(1_000)
    }
    expect(chooseOffer(random, offers, 400, p)).toBeUndefined()
    expect(chooseOffer(random, [], 10_000, p)).toBeUndefined()
  })

  it("prefers cards, some paper, a few phones", () => {
    const random = randomOf("media")
    const counts: Record<string, number> = { card: 0, paper: 0, phone: 0 }
    for (let i = 0; i < 10_000; i++) counts[chooseMedium(random, p)]! += 1
    expect(counts["card"]! / 10_000).toBeCloseTo(p.cardShare, 1)
    expect(counts["paper"]! / 10_000).toBeCloseTo(p.paperShare, 1)
    expect(counts["phone"]).toBeGreaterThan(0)
  })

  it("plans redemptions that never exceed the coupon, fall inside its life, and use it up when full", () => {
    const random = randomOf("redemptions")
    let never = 0
    let full = 0
    for (let i = 0; i < 2_000; i++) {
      const value = 100 + random.int(10_000)
      const plan = planRedemptions(random, value, 1_000, 1_000 + 30 * DAY_MS, p)
      if (plan.length === 0) never++
      const spent = plan.reduce((sum, r) => sum + r.amountPoints, 0)
      expect(spent).toBeLessThanOrEqual(value)
      if (spent === value) full++
      for (const r of plan) {
        expect(r.amountPoints).toBeGreaterThan(0)
        expect(r.atMs).toBeGreaterThan(1_000)
        expect(r.atMs).toBeLessThan(1_000 + p.redeemWithinDays * DAY_MS)
      }
      expect(plan.map((r) => r.atMs)).toEqual([...plan.map((r) => r.atMs)].sort((a, b) => a - b))
    }
    expect(never / 2_000).toBeCloseTo(p.neverRedeemShare, 1)
    expect(full / 2_000).toBeGreaterThan(0.4)
    // A coupon that has already expired is never planned.
    expect(planRedemptions(random, 1_000, 1_000, 2_000, p)).toEqual([])
  })

  it("brings cards back before the deadline, after it, or never, in about the configured shares", () => {
    const random = randomOf("returns")
    let onTime = 0
    let late = 0
    for (let i = 0; i < 5_000; i++) {
      const plan = planReturn(random, 0, 14 * DAY_MS, p)
      if (plan._tag === "Keep") continue
      if (plan.atMs < 14 * DAY_MS) onTime++
      else late++
      expect(plan.atMs).toBeGreaterThan(0)
    }
    expect(onTime / 5_000).toBeCloseTo(p.returnOnTimeShare, 1)
    expect(late / 5_000).toBeCloseTo(p.returnLateShare, 1)
  })

  it("mistypes a code into a different code of the same length, and reads codes from messages", () => {
    const random = randomOf("codes")
    for (let i = 0; i < 500; i++) {
      const code = String(random.int(1_000_000)).padStart(6, "0")
      const typed = mistype(random, code)
      expect(typed).not.toBe(code)
      expect(typed).toMatch(/^\d{6}$/)
    }
    expect(codeInText("ecoupon registration code 012345. Valid 5 min.")).toBe("012345")
    expect(codeInText("Your ecoupon 7K3M-Q9RT-2XWB is worth 100 points")).toBeUndefined()
  })

  it("gives every customer a distinct, valid mobile number", () => {
    const numbers = new Set(Array.from({ length: 10_000 }, (_, n) => phoneOfCustomer(n)))
    expect(numbers.size).toBe(10_000)
    for (const phone of [...numbers].slice(0, 100)) expect(Schema.is(PhoneNumber)(phone)).toBe(true)
  })
})
