import type { CatalogOffer } from "../core/ports/kiosk-backend.js"
import type { Medium } from "../core/domain/order.js"
import type { DeviceRandom } from "./rng.js"

/**
 * How simulated customers behave: when they come to a kiosk, what they do there, and what they do
 * with their coupons and cards afterwards. Pure decisions over a seeded generator; `behaviour-journey.ts`
 * acts them out against the kiosk flow. Every number here is a parameter with a default, listed in
 * `sim/README.md` ("Behaviour parameters").
 */

export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000

export interface CustomerParams {
  /** Mean arrivals at one kiosk in one day (new and returning customers; card returns come on top). */
  readonly customersPerKioskPerDay: number
  /** Relative arrivals per hour of the day, 24 weights (kiosks in a station or mall). */
  readonly hourWeights: ReadonlyArray<number>
  /** An arrival is a registered customer of the region (when there is one) with this probability. */
  readonly returningShare: number
  /** A customer who waited this long in the queue walks away. */
  readonly patienceMs: number
  readonly typePhoneMs: readonly [number, number]
  /** How often the customer looks at the phone for the code, and for how long before asking again. */
  readonly smsPollMs: number
  readonly smsWaitMs: number
  readonly codeResendsMax: number
  readonly typeCodeMs: readonly [number, number]
  /** Types a wrong code first (then the right one). */
  readonly mistypeShare: number
  readonly browseMs: readonly [number, number]
  /** Shares of card, paper and phone; the rest of 1 after card and paper is phone. */
  readonly cardShare: number
  readonly paperShare: number
  readonly quantityTwoShare: number
  /** Walks off without the card the kiosk presents. */
  readonly leaveCardShare: number
  readonly takeCardAfterMs: readonly [number, number]
  readonly secondPurchaseShare: number
  /** After returning a card, also buys. */
  readonly buyAfterReturnShare: number
  /** Coupons never used. */
  readonly neverRedeemShare: number
  /** Of the used coupons, those used up to the last point. */
  readonly fullRedeemShare: number
  readonly redemptionsMax: number
  /** Redemptions happen within this many days of the purchase (and before the coupon expires). */
  readonly redeemWithinDays: number
  /** A merchant rolls a redemption back (a till mistake). */
  readonly rollbackShare: number
  /** Cards brought back before their deadline, and after it; the rest are kept. */
  readonly returnOnTimeShare: number
  readonly returnLateShare: number
  /** Returned at another kiosk of the region, or of another region. */
  readonly returnElsewhereShare: number
  readonly returnOtherRegionShare: number
}

export const defaultCustomerParams: CustomerParams = {
  customersPerKioskPerDay: 50,
  hourWeights: [0, 0, 0, 0, 0, 0, 1, 3, 6, 7, 6, 7, 9, 8, 6, 6, 7, 9, 10, 9, 7, 5, 2, 0],
  returningShare: 0.55,
  patienceMs: 10 * 60_000,
  typePhoneMs: [8_000, 20_000],
  smsPollMs: 5_000,
  smsWaitMs: 60_000,
  codeResendsMax: 2,
  typeCodeMs: [4_000, 12_000],
  mistypeShare: 0.08,
  browseMs: [10_000, 45_000],
  cardShare: 0.75,
  paperShare: 0.2,
  quantityTwoShare: 0.1,
  leaveCardShare: 0.03,
  takeCardAfterMs: [1_000, 8_000],
  secondPurchaseShare: 0.1,
  buyAfterReturnShare: 0.3,
  neverRedeemShare: 0.1,
  fullRedeemShare: 0.6,
  redemptionsMax: 3,
  redeemWithinDays: 10,
  rollbackShare: 0.02,
  returnOnTimeShare: 0.75,
  returnLateShare: 0.1,
  returnElsewhereShare: 0.3,
  returnOtherRegionShare: 0.05
}

/** A whole number in [low, high]. */
export const between = (random: DeviceRandom, [low, high]: readonly [number, number]): number =>
  low + random.int(Math.max(1, high - low + 1))

export const chance = (random: DeviceRandom, share: number): boolean => random.next() < share

/**
 * The next arrival after `fromMs` of a Poisson process whose rate follows the hour of the day
 * (piecewise constant, so each hour is drawn on its own: the exponential is memoryless). Undefined if
 * no arrival comes within two days (all weights zero).
 */
export const nextArrivalMs = (random: DeviceRandom, fromMs: number, params: CustomerParams): number | undefined => {
  const weights = params.hourWeights
  const total = weights.reduce((sum, w) => sum + w, 0)
  if (total <= 0 || params.customersPerKioskPerDay <= 0) return undefined
  let t = fromMs
  // Two days of hours at most: bounded even when most hours are closed.
  for (let step = 0; step < 48; step++) {
    const hour = Math.floor((((t % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS)
    const hourEndMs = t - (((t % HOUR_MS) + HOUR_MS) % HOUR_MS) + HOUR_MS
    const perHour = (params.customersPerKioskPerDay * (weights[hour] ?? 0)) / total
    if (perHour > 0) {
      const gapMs = (-Math.log(1 - random.next()) / perHour) * HOUR_MS
      if (t + gapMs < hourEndMs) return Math.floor(t + gapMs)
    }
    t = hourEndMs
  }
  return undefined
}

export const chooseMedium = (random: DeviceRandom, params: CustomerParams): Medium => {
  const u = random.next()
  return u < params.cardShare ? "card" : u < params.cardShare + params.paperShare ? "paper" : "phone"
}

/** An offer the customer can afford and that is in stock, picked at random; undefined if none. */
export const chooseOffer = (
  random: DeviceRandom,
  offers: ReadonlyArray<CatalogOffer>,
  balancePoints: number,
  params: CustomerParams
): { readonly offer: CatalogOffer; readonly quantity: number } | undefined => {
  const affordable = offers.filter((offer) => offer.stock > 0 && offer.pricePoints <= balancePoints)
  if (affordable.length === 0) return undefined
  const offer = affordable[random.int(affordable.length)] as CatalogOffer
  const two = offer.stock >= 2 && offer.pricePoints * 2 <= balancePoints && chance(random, params.quantityTwoShare)
  return { offer, quantity: two ? 2 : 1 }
}

/** A wrong code of the same length: one digit changed. */
export const mistype = (random: DeviceRandom, code: string): string => {
  if (code.length === 0) return "0"
  const at = random.int(code.length)
  const digit = Number(code[at] ?? "0")
  const other = (digit + 1 + random.int(9)) % 10
  return `${code.slice(0, at)}${other}${code.slice(at + 1)}`
}

export interface PlannedRedemption {
  readonly atMs: number
  readonly amountPoints: number
}

/**
 * When and how much of a coupon worth `valuePoints` the customer spends: nothing, part of it, or all
 * of it, in up to `redemptionsMax` visits within `redeemWithinDays` and before `expiresAtMs`.
 */
export const planRedemptions = (
  random: DeviceRandom,
  valuePoints: number,
  issuedAtMs: number,
  expiresAtMs: number,
  params: CustomerParams
): ReadonlyArray<PlannedRedemption> => {
  if (valuePoints <= 0 || chance(random, params.neverRedeemShare)) return []
  const full = chance(random, params.fullRedeemShare)
  const parts = Math.min(1 + random.int(Math.max(1, params.redemptionsMax)), valuePoints)
  const spend = full ? valuePoints : Math.max(1, Math.floor(valuePoints * (0.3 + 0.6 * random.next())))
  const windowEndMs = Math.min(expiresAtMs - 1, issuedAtMs + params.redeemWithinDays * DAY_MS)
  if (windowEndMs <= issuedAtMs + 60_000) return []
  const times = Array.from({ length: parts }, () => issuedAtMs + 60_000 + Math.floor(random.next() * (windowEndMs - issuedAtMs - 60_000))).sort((a, b) => a - b)
  const amounts: Array<number> = []
  let left = spend
  for (let i = 0; i < parts; i++) {
    const last = i === parts - 1
    const amount = last ? left : Math.max(1, Math.floor((left / (parts - i)) * (0.5 + random.next())))
    const taken = Math.min(amount, left - (parts - i - 1))
    amounts.push(taken)
    left -= taken
  }
  return times.map((atMs, i) => ({ atMs, amountPoints: amounts[i] ?? 0 })).filter((r) => r.amountPoints > 0)
}

export type ReturnPlan =
  | { readonly _tag: "Keep" }
  | { readonly _tag: "Return"; readonly atMs: number; readonly where: "same" | "region" | "elsewhere" }

/** Whether and when the customer brings the card back, relative to its deadline. */
export const planReturn = (random: DeviceRandom, handedOverAtMs: number, deadlineMs: number, params: CustomerParams): ReturnPlan => {
  const u = random.next()
  const where = (): "same" | "region" | "elsewhere" =>
    chance(random, params.returnOtherRegionShare) ? "elsewhere" : chance(random, params.returnElsewhereShare) ? "region" : "same"
  const span = Math.max(HOUR_MS, deadlineMs - handedOverAtMs - HOUR_MS)
  if (u < params.returnOnTimeShare) return { _tag: "Return", atMs: handedOverAtMs + HOUR_MS + Math.floor(random.next() * span), where: where() }
  if (u < params.returnOnTimeShare + params.returnLateShare) {
    return { _tag: "Return", atMs: deadlineMs + Math.floor(random.next() * 5 * DAY_MS), where: where() }
  }
  return { _tag: "Keep" }
}

/** The code in an SMS text ("... code 123456. ..."), if it carries one. */
export const codeInText = (text: string): string | undefined => /code (\d{4,10})\b/.exec(text)?.[1]

/** A deterministic, unique mobile number for customer `n` (never written to the event log). */
export const phoneOfCustomer = (n: number): string => `+8210${String(10_000_000 + (n % 90_000_000)).padStart(8, "0")}`
