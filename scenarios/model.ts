import type { Command, CutStage, FaultName, Medium } from "./commands.js"
import { DAY_MS, deployment, midnightOf } from "./deployment.js"

/**
 * The plain model the system is held to: users, balances, coupons, cards, stock, deadlines, in a few
 * arrays and numbers, written from DESIGN §1 and §4 without looking at how the core does it. `apply`
 * moves the model by one command and answers what the system must answer; `sheetOf` lists every
 * balance and count the system must show afterwards.
 */

export interface ModelCoupon {
  readonly merchant: number
  readonly region: number
  readonly value: number
  remaining: number
  state: "active" | "used" | "expired" | "returned" | "forfeited"
  readonly expiresAtMs: number
  /** The card it is written on, if any. */
  readonly card: number | null
}

export interface ModelCard {
  readonly coupon: number
  state: "with_user" | "overdue" | "returned" | "closed"
  readonly deadlineMs: number
  charge: "none" | "pending" | "confirmed" | "declined" | "cancelled"
  /** Failed attempts to send the deposit charge (the outbox gives up after `outboxAttemptsMax`). */
  chargeAttempts: number
  /** Back in a kiosk's bin: nobody holds it any more. */
  back: boolean
}

export interface ModelRedemption {
  readonly coupon: number
  readonly merchant: number
  readonly amount: number
  readonly atMs: number
  state: "redeemed" | "rolled_back"
  settled: boolean
}

export interface Model {
  nowMs: number
  readonly users: Array<{ registered: boolean; balance: number }>
  readonly coupons: Array<ModelCoupon>
  readonly cards: Array<ModelCard>
  readonly redemptions: Array<ModelRedemption>
  readonly stock: Array<number>
  readonly prices: Array<number>
  readonly kiosks: Array<{ stacker: number; bin: number }>
  readonly payable: Array<number>
  readonly paid: Array<number>
  readonly institutions: Array<number>
  /** Deposits charged through carrier billing. */
  deposits: number
  readonly faults: Record<FaultName, boolean>
}

export const initialModel = (): Model => ({
  nowMs: deployment.startMs,
  users: deployment.phones.map(() => ({ registered: false, balance: 0 })),
  coupons: [],
  cards: [],
  redemptions: [],
  stock: deployment.offers.map((offer) => offer.stock),
  prices: deployment.offers.map((offer) => offer.pricePoints),
  kiosks: deployment.kiosks.map(() => ({ stacker: deployment.stackerCards, bin: 0 })),
  payable: deployment.merchants.map(() => 0),
  paid: deployment.merchants.map(() => 0),
  institutions: deployment.institutions.map(() => 0),
  deposits: 0,
  faults: { "card.jam": false, "sms.loss": false, "provider.outage": false, "carrier.decline": false, "carrier.outage": false }
})


/** The amount a `Redeem` asks for, from what the model says is left (the same number goes to the system). */
export const redeemAmount = (model: Model, coupon: number, part: "part" | "all" | "more"): number => {
  const c = model.coupons[coupon]
  if (c === undefined) return 1
  const base = c.state === "active" || c.state === "used" ? c.remaining : c.value
  return part === "part" ? Math.max(1, Math.floor(base / 2)) : part === "all" ? Math.max(1, base) : base + 100
}

/**
 * Whether the command makes sense now: it names things that exist, and it avoids what the model
 * deliberately leaves out (a card return or a power cut while the card unit is jammed: the flow then
 * tells the server before the unit fails, a known gap the runner does not model).
 */
export const applicable = (model: Model, command: Command): boolean => {
  switch (command._tag) {
    case "Register":
      return true
    case "Grant":
    case "Buy":
      return model.users[command.customer]?.registered === true
    case "PowerCut": {
      const user = model.users[command.customer]
      const amount = (model.prices[command.offer] ?? 0)
      return user?.registered === true && !model.faults["card.jam"] && !model.faults["sms.loss"] &&
        (model.stock[command.offer] ?? 0) >= 1 && user.balance >= amount && (model.kiosks[command.kiosk]?.stacker ?? 0) > 0
    }
    case "Redeem":
      return command.coupon < model.coupons.length
    case "Rollback":
      return command.redemption < model.redemptions.length
    case "ReturnCard": {
      const card = model.cards[command.card]
      return card !== undefined && !card.back && !model.faults["card.jam"]
    }
    case "PassDays":
    case "Wait":
    case "MerchantUpdate":
    case "Settle":
    case "Fault":
      return true
  }
}

/** A coupon delivered on `medium`: its value leaves the user's points, its card (if any) the stacker. */
const deliver = (model: Model, customer: number, kiosk: number, offer: number, quantity: number, medium: Medium) => {
  const value = (model.prices[offer] ?? 0) * quantity
  const user = model.users[customer]
  if (user !== undefined) user.balance -= value
  model.stock[offer] = (model.stock[offer] ?? 0) - quantity
  const card = medium === "card" ? model.cards.length : null
  model.coupons.push({ merchant: offer, region: kiosk, value, remaining: value, state: "active", expiresAtMs: model.nowMs + deployment.couponValidityMs, card })
  if (card !== null) {
    const k = model.kiosks[kiosk]
    if (k !== undefined) k.stacker -= 1
    model.cards.push({ coupon: model.coupons.length - 1, state: "with_user", deadlineMs: model.nowMs + deployment.returnDeadlineDays * DAY_MS, charge: "none", chargeAttempts: 0, back: false })
  }
  return `delivered ${medium} ${value}`
}

/** A card dispensed and captured again (left at the gate, or taken by a power cut): stacker to bin. */
const retainCard = (model: Model, kiosk: number) => {
  const k = model.kiosks[kiosk]
  if (k !== undefined) {
    k.stacker -= 1
    k.bin += 1
  }
}

/** The deposit charge of each overdue card goes out (the outbox's round at the end of every command). */
const sendCharges = (model: Model) => {
  for (const card of model.cards) {
    if (card.charge !== "pending" || card.chargeAttempts >= deployment.outboxAttemptsMax) continue
    if (model.faults["carrier.outage"]) card.chargeAttempts += 1
    else if (model.faults["carrier.decline"]) {
      card.charge = "declined"
      card.state = "closed"
    } else {
      card.charge = "confirmed"
      card.state = "closed"
      model.deposits += deployment.depositPoints
    }
  }
}

const buy = (model: Model, command: Extract<Command, { readonly _tag: "Buy" }>): string => {
  if (model.faults["sms.loss"]) return "no code came (SMS lost)"
  const amount = (model.prices[command.offer] ?? 0) * command.quantity
  if ((model.stock[command.offer] ?? 0) < command.quantity) return "refused out-of-stock"
  if ((model.users[command.customer]?.balance ?? 0) < amount) return "refused insufficient-points"
  if (command.medium !== "card") return deliver(model, command.customer, command.kiosk, command.offer, command.quantity, command.medium)
  if (model.faults["card.jam"]) return "device failed Jam: order aborted"
  if ((model.kiosks[command.kiosk]?.stacker ?? 0) === 0) return "device failed StackerEmpty: order aborted"
  if (!command.takes) {
    retainCard(model, command.kiosk)
    return "card not taken: captured, order aborted"
  }
  return deliver(model, command.customer, command.kiosk, command.offer, command.quantity, "card")
}

const powerCut = (model: Model, command: Extract<Command, { readonly _tag: "PowerCut" }>, stage: CutStage): string => {
  switch (stage) {
    case "placing":
      return "power cut at placing; restart: forgotten"
    case "dispensing":
      return "power cut at dispensing; restart: aborted"
    case "handed-over":
      deliver(model, command.customer, command.kiosk, command.offer, 1, "card")
      return "power cut at handed-over; restart: delivered"
  }
}

const redeem = (model: Model, coupon: number, amount: number): string => {
  const c = model.coupons[coupon]
  if (c === undefined) return "refused CouponNotFound"
  if (c.state !== "active") return "refused CouponNotRedeemable"
  if (model.nowMs >= c.expiresAtMs) return "refused CouponExpired"
  if (amount > c.remaining) return "refused CouponBalanceTooLow"
  c.remaining -= amount
  if (c.remaining === 0) c.state = "used"
  model.payable[c.merchant] = (model.payable[c.merchant] ?? 0) + amount
  model.redemptions.push({ coupon, merchant: c.merchant, amount, atMs: model.nowMs, state: "redeemed", settled: false })
  return `redeemed ${amount}, ${c.remaining} left`
}

const rollback = (model: Model, index: number): string => {
  const r = model.redemptions[index]
  const c = r === undefined ? undefined : model.coupons[r.coupon]
  if (r === undefined || c === undefined) return "refused RedemptionNotFound"
  if (r.state === "rolled_back") return "rolled back"
  if (r.settled) return "refused RedemptionSettled"
  if (model.nowMs - r.atMs > deployment.rollbackWindowMs) return "refused RollbackWindowClosed"
  if (c.state !== "active" && c.state !== "used") return "refused CouponClosed"
  r.state = "rolled_back"
  c.remaining += r.amount
  c.state = "active"
  model.payable[r.merchant] = (model.payable[r.merchant] ?? 0) - r.amount
  return "rolled back"
}

const returnCard = (model: Model, index: number, kiosk: number): string => {
  const card = model.cards[index]
  if (card === undefined) return "unknown card"
  const k = model.kiosks[kiosk]
  if (k !== undefined) k.bin += 1
  card.back = true
  if (card.state === "closed") return "returned after the deposit was charged"
  const coupon = model.coupons[card.coupon]
  let forwarded = 0
  if (coupon !== undefined && (coupon.state === "active" || coupon.state === "used")) {
    forwarded = coupon.remaining
    coupon.remaining = 0
    coupon.state = "returned"
  }
  model.institutions[kiosk] = (model.institutions[kiosk] ?? 0) + forwarded
  if (card.charge === "pending") card.charge = "cancelled"
  card.state = "returned"
  return `returned, ${forwarded} to ${deployment.institutions[kiosk]}`
}

const passDays = (model: Model, days: number): string => {
  model.nowMs += days * DAY_MS
  let expired = 0
  let expiredPoints = 0
  for (const c of model.coupons) {
    if (c.state !== "active" || c.expiresAtMs > model.nowMs) continue
    expired += 1
    expiredPoints += c.remaining
    model.institutions[c.region] = (model.institutions[c.region] ?? 0) + c.remaining
    c.remaining = 0
    c.state = "expired"
  }
  let overdue = 0
  let forfeited = 0
  for (const card of model.cards) {
    if (card.state !== "with_user" || card.deadlineMs > model.nowMs) continue
    overdue += 1
    const c = model.coupons[card.coupon]
    if (c !== undefined && (c.state === "active" || c.state === "used")) {
      forfeited += c.remaining
      model.institutions[c.region] = (model.institutions[c.region] ?? 0) + c.remaining
      c.remaining = 0
      c.state = "forfeited"
    }
    card.state = "overdue"
    card.charge = "pending"
  }
  return `${expired} coupon(s) expired (${expiredPoints} points), ${overdue} card(s) overdue (${forfeited} points forfeited)`
}

const settle = (model: Model): string => {
  const endMs = midnightOf(model.nowMs)
  const totals = deployment.merchants.map(() => 0)
  const statements = deployment.merchants.map(() => false)
  for (const r of model.redemptions) {
    if (r.state !== "redeemed" || r.settled || r.atMs >= endMs) continue
    r.settled = true
    totals[r.merchant] = (totals[r.merchant] ?? 0) + r.amount
    statements[r.merchant] = true
  }
  const lines: Array<string> = []
  // The back office closes the merchants' periods in the order of their ids (core/settlement.ts, closeAll).
  const byId = deployment.merchants.map((merchant, m) => ({ merchant, m })).sort((a, b) => (a.merchant < b.merchant ? -1 : a.merchant > b.merchant ? 1 : 0))
  byId.forEach(({ merchant, m }) => {
    if (!statements[m]) return
    const total = totals[m] ?? 0
    model.payable[m] = (model.payable[m] ?? 0) - total
    model.paid[m] = (model.paid[m] ?? 0) + total
    lines.push(`${merchant} ${total}`)
  })
  return lines.length === 0 ? "no statements" : `statements: ${lines.join(", ")}`
}

/** Moves the model by one command (after the gap every command starts with); answers what the system must answer. */
export const apply = (model: Model, command: Command): string => {
  model.nowMs += deployment.commandGapMs
  const answer = applyNow(model, command)
  sendCharges(model)
  return answer
}

const applyNow = (model: Model, command: Command): string => {
  switch (command._tag) {
    case "Register": {
      if (model.faults["sms.loss"]) return "no code came (SMS lost)"
      const user = model.users[command.customer]
      if (user === undefined) return "unknown customer"
      if (user.registered) return "identified"
      user.registered = true
      user.balance += deployment.welcomeGrantPoints
      return `registered, ${deployment.welcomeGrantPoints} welcome points`
    }
    case "Grant": {
      const user = model.users[command.customer]
      if (user !== undefined) user.balance += command.points
      return `granted ${command.points}`
    }
    case "Buy":
      return buy(model, command)
    case "PowerCut":
      return powerCut(model, command, command.stage)
    case "Redeem":
      return redeem(model, command.coupon, redeemAmount(model, command.coupon, command.part))
    case "Rollback":
      return rollback(model, command.redemption)
    case "ReturnCard":
      return returnCard(model, command.card, command.kiosk)
    case "PassDays":
      return passDays(model, command.days)
    case "Wait":
      model.nowMs += command.minutes * 60_000
      return `${command.minutes} minutes later`
    case "MerchantUpdate":
      model.prices[command.offer] = command.pricePoints
      model.stock[command.offer] = command.stock
      return "catalog updated"
    case "Settle":
      return settle(model)
    case "Fault":
      model.faults[command.fault] = command.on
      return `${command.fault} ${command.on ? "on" : "off"}`
  }
}

/** Every faults healed and every message sent: the end of a run, before the audit. */
export const healAll = (model: Model): void => {
  for (const name of Object.keys(model.faults) as Array<FaultName>) model.faults[name] = false
  for (const card of model.cards) card.chargeAttempts = 0
  sendCharges(model)
}

export type Sheet = Readonly<Record<string, number>>

/** Every balance and count the system must show: points per customer, what is left per coupon, payables, institutions, stock, cards. */
export const sheetOf = (model: Model): Sheet => {
  const sheet: Record<string, number> = {}
  model.users.forEach((user, i) => {
    if (user.registered) sheet[`points of customer ${i}`] = user.balance
  })
  model.coupons.forEach((coupon, i) => {
    sheet[`left on coupon #${i}`] = coupon.remaining
  })
  deployment.merchants.forEach((merchant, m) => {
    sheet[`payable ${merchant}`] = model.payable[m] ?? 0
    sheet[`paid ${merchant}`] = model.paid[m] ?? 0
  })
  deployment.institutions.forEach((institution, i) => {
    sheet[`institution ${institution}`] = model.institutions[i] ?? 0
  })
  deployment.offers.forEach((offer, o) => {
    sheet[`stock ${offer.id}`] = model.stock[o] ?? 0
  })
  deployment.kiosks.forEach((kiosk, k) => {
    sheet[`stacker ${kiosk}`] = model.kiosks[k]?.stacker ?? 0
    sheet[`bin ${kiosk}`] = model.kiosks[k]?.bin ?? 0
  })
  return sheet
}
