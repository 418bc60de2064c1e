import { Schema } from "effect"
import fc from "fast-check"
import { customerCount, deployment, kioskCount, offerCount } from "./deployment.js"

/**
 * What QA (and the model-based suite) can do to the system, as plain data: a command names its
 * parties by number (customer 0, kiosk 1, the 3rd coupon issued), so one command means the same on
 * every layer, reads the same in a report, and a failing sequence fits in a replay token.
 *
 * The kiosk's own steps (place, then deliver or abort) happen inside `Buy` and `PowerCut`: the kiosk
 * flow decides them from what the hardware and the customer do (a card not taken, a jam, a power cut
 * at a given stage), which is what a scenario controls.
 */

export type Medium = "card" | "paper" | "phone"
export type RedeemPart = "part" | "all" | "more"
/**
 * Where the power goes: before the server hears of the order, as the card leaves the stacker, or after
 * the customer took it. (At `card-issued`, the card read but not yet recorded with the server, the
 * restart cannot settle the order: see the scenarios README, "What the suite found".)
 */
export type CutStage = "placing" | "dispensing" | "handed-over"
export type FaultName = "card.jam" | "sms.loss" | "provider.outage" | "carrier.decline" | "carrier.outage"

export const faultNames: ReadonlyArray<FaultName> = ["card.jam", "sms.loss", "provider.outage", "carrier.decline", "carrier.outage"]

export type Command =
  /** The customer asks for a code at the kiosk and types it: registers them (welcome points) or identifies them. */
  | { readonly _tag: "Register"; readonly customer: number; readonly kiosk: number }
  /** An operator grants campaign points. */
  | { readonly _tag: "Grant"; readonly customer: number; readonly points: number }
  /** The customer identifies at the kiosk and buys; `takes` says whether they take a card from the gate. */
  | { readonly _tag: "Buy"; readonly customer: number; readonly kiosk: number; readonly offer: number; readonly quantity: number; readonly medium: Medium; readonly takes: boolean }
  /** A card purchase during which the kiosk loses power at `stage`; the kiosk restarts and reconciles. */
  | { readonly _tag: "PowerCut"; readonly customer: number; readonly kiosk: number; readonly offer: number; readonly stage: CutStage }
  /** The coupon's merchant redeems part of what is left, all of it, or more than is left. */
  | { readonly _tag: "Redeem"; readonly coupon: number; readonly part: RedeemPart }
  /** The merchant rolls a redemption back. */
  | { readonly _tag: "Rollback"; readonly redemption: number }
  /** The card's holder returns it at a kiosk (any kiosk). */
  | { readonly _tag: "ReturnCard"; readonly card: number; readonly kiosk: number }
  /** Days go by; the back office then expires coupons and sweeps overdue cards (deposit charges go out). */
  | { readonly _tag: "PassDays"; readonly days: number }
  /** Minutes go by with nothing else happening (to reach a period boundary). */
  | { readonly _tag: "Wait"; readonly minutes: number }
  /** A merchant's provider server pushes a new price and stock for its offer; kiosks see it at once (claims 4, 7). */
  | { readonly _tag: "MerchantUpdate"; readonly offer: number; readonly pricePoints: number; readonly stock: number }
  /** The back office settles every merchant up to last midnight. */
  | { readonly _tag: "Settle" }
  /** A device or outside service starts or stops failing (a jam is cleared by an operator when it stops). */
  | { readonly _tag: "Fault"; readonly fault: FaultName; readonly on: boolean }

const kiosk = fc.integer({ min: 0, max: kioskCount - 1 })
const customer = fc.integer({ min: 0, max: customerCount - 1 })
const offer = fc.integer({ min: 0, max: offerCount - 1 })
/** Indexes of things issued during a run: the model says which exist. */
const issued = fc.integer({ min: 0, max: 4 })

/** Generators of each command, weighted towards what makes money move. */
export const commandArbitraries = {
  Register: fc.record({ _tag: fc.constant("Register" as const), customer, kiosk }),
  Grant: fc.record({ _tag: fc.constant("Grant" as const), customer, points: fc.constantFrom(500, 5_000) }),
  Buy: fc.record({
    _tag: fc.constant("Buy" as const),
    customer,
    kiosk,
    offer,
    quantity: fc.constantFrom(1, 1, 2),
    medium: fc.constantFrom<Medium>("card", "card", "paper", "phone"),
    takes: fc.constantFrom(true, true, true, false)
  }),
  PowerCut: fc.record({ _tag: fc.constant("PowerCut" as const), customer, kiosk, offer, stage: fc.constantFrom<CutStage>("placing", "dispensing", "handed-over") }),
  Redeem: fc.record({ _tag: fc.constant("Redeem" as const), coupon: issued, part: fc.constantFrom<RedeemPart>("part", "all", "more") }),
  Rollback: fc.record({ _tag: fc.constant("Rollback" as const), redemption: issued }),
  ReturnCard: fc.record({ _tag: fc.constant("ReturnCard" as const), card: issued, kiosk }),
  PassDays: fc.record({ _tag: fc.constant("PassDays" as const), days: fc.constantFrom(1, 1, 15, 91) }),
  Wait: fc.record({ _tag: fc.constant("Wait" as const), minutes: fc.constantFrom(60, 720) }),
  MerchantUpdate: fc.record({ _tag: fc.constant("MerchantUpdate" as const), offer, pricePoints: fc.constantFrom(900, 2_000, 4_500), stock: fc.constantFrom(0, 4, 6, 6) }),
  Settle: fc.constant({ _tag: "Settle" as const }),
  Fault: fc.record({ _tag: fc.constant("Fault" as const), fault: fc.constantFrom(...faultNames), on: fc.boolean() })
} as const

/** One line a person reads in a report: what happens, in their words. */
export const describeCommand = (command: Command): string => {
  switch (command._tag) {
    case "Register":
      return `customer ${command.customer} asks for a code at kiosk ${deployment.kiosks[command.kiosk]} and types it`
    case "Grant":
      return `an operator grants customer ${command.customer} ${command.points} points`
    case "Buy":
      return `customer ${command.customer} buys ${command.quantity} x ${deployment.offers[command.offer]?.id} on ${command.medium} at ${deployment.kiosks[command.kiosk]}${command.medium === "card" && !command.takes ? ", and walks off without the card" : ""}`
    case "PowerCut":
      return `customer ${command.customer} buys ${deployment.offers[command.offer]?.id} on card at ${deployment.kiosks[command.kiosk]}; the power fails at ${command.stage} and the kiosk restarts`
    case "Redeem":
      return `the merchant redeems ${command.part === "part" ? "half of what is left on" : command.part === "all" ? "all that is left on" : "more than is left on"} coupon #${command.coupon}`
    case "Rollback":
      return `the merchant rolls back redemption #${command.redemption}`
    case "ReturnCard":
      return `the holder of card #${command.card} returns it at ${deployment.kiosks[command.kiosk]}`
    case "PassDays":
      return `${command.days} day(s) pass; the back office expires coupons and sweeps overdue cards`
    case "Wait":
      return `${command.minutes} minutes pass`
    case "MerchantUpdate":
      return `the provider server of ${deployment.merchants[command.offer]} pushes ${deployment.offers[command.offer]?.id} at ${command.pricePoints} points, stock ${command.stock}`
    case "Settle":
      return "the back office settles every merchant up to last midnight"
    case "Fault":
      return `${command.fault} ${command.on ? "starts failing" : "works again"}`
  }
}

const Int = Schema.Int
/** The commands' schema: a replay token's commands are decoded with it, so a mangled token is refused whole. */
export const CommandSchema: Schema.Schema<Command> = Schema.Union(
  Schema.Struct({ _tag: Schema.Literal("Register"), customer: Int, kiosk: Int }),
  Schema.Struct({ _tag: Schema.Literal("Grant"), customer: Int, points: Int }),
  Schema.Struct({ _tag: Schema.Literal("Buy"), customer: Int, kiosk: Int, offer: Int, quantity: Int, medium: Schema.Literal("card", "paper", "phone"), takes: Schema.Boolean }),
  Schema.Struct({ _tag: Schema.Literal("PowerCut"), customer: Int, kiosk: Int, offer: Int, stage: Schema.Literal("placing", "dispensing", "handed-over") }),
  Schema.Struct({ _tag: Schema.Literal("Redeem"), coupon: Int, part: Schema.Literal("part", "all", "more") }),
  Schema.Struct({ _tag: Schema.Literal("Rollback"), redemption: Int }),
  Schema.Struct({ _tag: Schema.Literal("ReturnCard"), card: Int, kiosk: Int }),
  Schema.Struct({ _tag: Schema.Literal("PassDays"), days: Int }),
  Schema.Struct({ _tag: Schema.Literal("Wait"), minutes: Int }),
  Schema.Struct({ _tag: Schema.Literal("MerchantUpdate"), offer: Int, pricePoints: Int, stock: Int }),
  Schema.Struct({ _tag: Schema.Literal("Settle") }),
  Schema.Struct({ _tag: Schema.Literal("Fault"), fault: Schema.Literal("card.jam", "sms.loss", "provider.outage", "carrier.decline", "carrier.outage"), on: Schema.Boolean })
)
