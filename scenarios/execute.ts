import { Clock, Effect, Either, Exit, Option } from "effect"
import { CouponCode, CouponId, MerchantId, type OrderId, RedemptionId, TransferId } from "../core/domain/ids.js"
import type { PurchaseOutcome } from "../core/kiosk-flow.js"
import type { KioskSession } from "../core/ports/kiosk-backend.js"
import type { Command, CutStage, FaultName, Medium } from "./commands.js"
import { deployment, midnightOf } from "./deployment.js"
import { providerCatalogs } from "./deployment-store.js"
import type { ScenarioEnv, Station } from "./system.js"

/**
 * Runs one command against the system under test and says what it answered, in the words the model
 * uses (`model.ts`), so the two can be compared as strings. Refusals and device failures are answers,
 * not errors; only a defect (a bug in the core or the runner) fails the step.
 */


type Identified = { readonly _tag: "Session"; readonly session: KioskSession } | { readonly _tag: "Answer"; readonly answer: string }

/** The customer asks for a code at the kiosk, reads it from their phone and types it. */
const identify = (env: ScenarioEnv, station: Station, customer: number): Effect.Effect<Identified> =>
  Effect.gen(function* () {
    const phone = env.names.phones[customer] ?? ""
    const sent = yield* Effect.either(station.flow.requestCode(phone))
    if (Either.isLeft(sent)) return { _tag: "Answer", answer: `refused ${sent.left._tag === "BackendRefused" ? sent.left.reason : "unavailable"}` } as const
    const askedAtMs = yield* Clock.currentTimeMillis
    const code = yield* env.server.codeFor(phone, askedAtMs)
    if (code === undefined) return { _tag: "Answer", answer: "no code came (SMS lost)" } as const
    const session = yield* Effect.either(station.flow.verifyCode(sent.right.challengeId, code))
    if (Either.isLeft(session)) return { _tag: "Answer", answer: `refused ${session.left._tag === "BackendRefused" ? session.left.reason : "unavailable"}` } as const
    env.registry.users[customer] = session.right.userId
    return { _tag: "Session", session: session.right } as const
  })

/** Notes a delivered coupon (and the card in the customer's hand) so later commands can name them by number. */
const noteCoupon = (env: ScenarioEnv, station: Station, orderId: OrderId, couponId: string, couponCode: string, offer: number, cardUid: string | null) =>
  Effect.gen(function* () {
    const merchantId = MerchantId.make(env.names.merchants[offer] ?? "")
    env.registry.orders.push(orderId)
    env.registry.coupons.push({ id: CouponId.make(couponId), code: CouponCode.make(couponCode), merchantId })
    if (cardUid !== null) env.registry.cards.push({ uid: cardUid as never, card: yield* station.hand.takeLast })
  })

const describePurchase = (env: ScenarioEnv, station: Station, outcome: PurchaseOutcome, offer: number, medium: Medium) =>
  Effect.gen(function* () {
    switch (outcome._tag) {
      case "Delivered":
        yield* noteCoupon(env, station, outcome.delivery.orderId, outcome.delivery.couponId, outcome.delivery.couponCode, offer, outcome.delivery.cardUid)
        return `delivered ${medium} ${outcome.delivery.valuePoints}`
      case "Refused":
        return `refused ${outcome.refusal.reason}`
      case "CardNotTaken":
        return "card not taken: captured, order aborted"
      case "DeviceFailed":
        return `device failed ${outcome.error._tag}: order ${Option.isSome(outcome.abortion) ? "aborted" : "left unresolved"}`
      case "Unresolved":
        return `order unresolved at ${outcome.stage}`
    }
  })

const buy = (env: ScenarioEnv, command: Extract<Command, { readonly _tag: "Buy" }>) =>
  Effect.gen(function* () {
    const station = env.stations[command.kiosk] as Station
    const who = yield* identify(env, station, command.customer)
    if (who._tag === "Answer") return who.answer
    const catalog = yield* Effect.orDie(station.flow.browse)
    const offerId = env.names.offers[command.offer] ?? env.names.offers[0] ?? deployment.offers[0].id
    if (command.medium === "card") yield* station.hand.willTake(command.takes)
    const outcome = yield* station.flow.purchase({ session: who.session, offerId, quantity: command.quantity, catalogVersion: catalog.version, medium: command.medium })
    yield* Effect.ignore(station.flow.endSession(who.session))
    return yield* describePurchase(env, station, outcome, command.offer, command.medium)
  })

const powerCut = (env: ScenarioEnv, command: Extract<Command, { readonly _tag: "PowerCut" }>, stage: CutStage) =>
  Effect.gen(function* () {
    const station = env.stations[command.kiosk] as Station
    const who = yield* identify(env, station, command.customer)
    if (who._tag === "Answer") return who.answer
    const catalog = yield* Effect.orDie(station.flow.browse)
    const offerId = env.names.offers[command.offer] ?? env.names.offers[0] ?? deployment.offers[0].id
    yield* station.hand.willTake(true)
    station.cutPowerAt(stage)
    const exit = yield* Effect.exit(station.flow.purchase({ session: who.session, offerId, quantity: 1, catalogVersion: catalog.version, medium: "card" }))
    if (Exit.isSuccess(exit)) return `no power cut: ${yield* describePurchase(env, station, exit.value, command.offer, "card")}`
    const flow = yield* station.restart
    const started = yield* flow.startup
    const outcomes: Array<string> = []
    for (const reconciled of started.reconciled) {
      outcomes.push(reconciled._tag.toLowerCase() + (reconciled._tag === "Kept" ? ` (${reconciled.reason})` : ""))
      if (reconciled._tag !== "Delivered") continue
      const coupon = yield* env.server.couponOfOrder(reconciled.entry.orderId, command.kiosk)
      if (coupon !== undefined) yield* noteCoupon(env, station, reconciled.entry.orderId, coupon.id, coupon.code, command.offer, coupon.cardUid === undefined ? reconciled.entry.cardUid : coupon.cardUid)
    }
    return `power cut at ${stage}; restart: ${outcomes.join(", ") || "nothing in flight"}`
  })

const redeem = (env: ScenarioEnv, coupon: number, amount: number) =>
  Effect.gen(function* () {
    const known = env.registry.coupons[coupon]
    if (known === undefined) return "refused CouponNotFound"
    const redemptionId = RedemptionId.make(`rdm_${String(env.registry.redemptions.length + 1).padStart(4, "0")}_${coupon}${env.names.idSuffix}`)
    const result = yield* Effect.either(env.office.redeem({ redemptionId, merchantId: known.merchantId, couponCode: known.code, amount }))
    if (Either.isLeft(result)) return `refused ${result.left._tag}`
    env.registry.redemptions.push({ id: redemptionId, merchantId: known.merchantId })
    return `redeemed ${amount}, ${result.right.couponBalanceAfter} left`
  })

const rollback = (env: ScenarioEnv, index: number) =>
  Effect.gen(function* () {
    const redemption = env.registry.redemptions[index]
    if (redemption === undefined) return "refused RedemptionNotFound"
    const result = yield* Effect.either(env.office.rollback(redemption.id, redemption.merchantId))
    return Either.isLeft(result) ? `refused ${result.left._tag}` : "rolled back"
  })

const returnCard = (env: ScenarioEnv, index: number, kiosk: number) =>
  Effect.gen(function* () {
    const held = env.registry.cards[index]
    const station = env.stations[kiosk] as Station
    if (held?.card === undefined) return "the customer has no such card"
    yield* station.hand.offer(held.card)
    const outcome = yield* station.flow.acceptReturn(30_000)
    switch (outcome._tag) {
      case "Returned":
        return outcome.result.outcome === "returned"
          ? `returned, ${outcome.result.forwardedPoints} to ${env.names.canonical(String(outcome.result.institutionId))}`
          : "returned after the deposit was charged"
      case "Rejected":
        return `given back: ${outcome.reason}`
      case "DeviceFailed":
        return `device failed ${outcome.error._tag}`
      default:
        return outcome._tag
    }
  })

/** The back office's daily sweeps, as `sim/fleet-office.ts` runs them: coupons past expiry, then cards past their deadline. */
const passDays = (env: ScenarioEnv, days: number) =>
  Effect.gen(function* () {
    yield* env.advance(days * 86_400_000)
    const { expired, expiredPoints, overdue, forfeited } = yield* env.server.sweep
    return `${expired} coupon(s) expired (${expiredPoints} points), ${overdue} card(s) overdue (${forfeited} points forfeited)`
  })

const settle = (env: ScenarioEnv) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const closed = yield* env.office.settle(midnightOf(now))
    if (closed.refused.length > 0) return `settlement refused: ${closed.refused.map((r) => `${env.names.canonical(r.merchantId)} ${r.reason}`).join("; ")}`
    const lines = closed.statements.filter((s) => s.lines.length > 0).map((s) => `${env.names.canonical(s.merchantId)} ${s.totalPoints}`)
    return lines.length === 0 ? "no statements" : `statements: ${lines.join(", ")}`
  })

export const merchantUpdate = (env: ScenarioEnv, command: Extract<Command, { readonly _tag: "MerchantUpdate" }>) =>
  Effect.gen(function* () {
    const merchantId = env.names.merchants[command.offer] ?? env.names.merchants[0] ?? deployment.merchants[0]
    const offer = (providerCatalogs(env.names).find((c) => c.merchantId === merchantId)?.offers ?? [])[0]
    if (offer === undefined) return "no such offer"
    const updated = { ...offer, pricePoints: command.pricePoints, stock: command.stock }
    yield* env.server.setProviderCatalog(merchantId, [updated])
    const pushed = yield* Effect.either(env.office.pushCatalog(merchantId, [updated]))
    return Either.isLeft(pushed) ? `refused ${pushed.left._tag}` : "catalog updated"
  })

export const setFaultOf = (env: ScenarioEnv, fault: FaultName, on: boolean) =>
  Effect.gen(function* () {
    if (fault === "card.jam") for (const station of env.stations) yield* station.setJam(on)
    else yield* env.server.setFault(fault, on)
    return `${fault} ${on ? "on" : "off"}`
  })

const grant = (env: ScenarioEnv, customer: number, points: number) =>
  Effect.gen(function* () {
    const userId = env.registry.users[customer]
    if (userId === undefined) return "unknown customer"
    const now = yield* Clock.currentTimeMillis
    const granted = yield* Effect.either(env.office.grant(userId, points, TransferId.make(`campaign:${customer}:${now}${env.names.idSuffix}`)))
    return Either.isLeft(granted) ? `refused ${granted.left._tag}` : `granted ${points}`
  })

const register = (env: ScenarioEnv, customer: number, kiosk: number) =>
  Effect.gen(function* () {
    const station = env.stations[kiosk] as Station
    const who = yield* identify(env, station, customer)
    if (who._tag === "Answer") return who.answer
    yield* Effect.ignore(station.flow.endSession(who.session))
    return who.session.newlyRegistered ? `registered, ${who.session.balancePoints} welcome points` : "identified"
  })

/**
 * Runs `command` after the gap every command starts with, then one outbox round; answers what the
 * system said. `redeemPoints` is the amount a `Redeem` asks for (the model works it out).
 */
export const execute = (env: ScenarioEnv, command: Command, redeemPoints: number): Effect.Effect<string> =>
  Effect.gen(function* () {
    yield* env.advance(deployment.commandGapMs)
    const answer = yield* executeNow(env, command, redeemPoints)
    yield* env.server.sendOutbox
    return answer
  })

const executeNow = (env: ScenarioEnv, command: Command, redeemPoints: number): Effect.Effect<string> => {
  switch (command._tag) {
    case "Register":
      return register(env, command.customer, command.kiosk)
    case "Grant":
      return grant(env, command.customer, command.points)
    case "Buy":
      return buy(env, command)
    case "PowerCut":
      return powerCut(env, command, command.stage)
    case "Redeem":
      return redeem(env, command.coupon, redeemPoints)
    case "Rollback":
      return rollback(env, command.redemption)
    case "ReturnCard":
      return returnCard(env, command.card, command.kiosk)
    case "PassDays":
      return passDays(env, command.days)
    case "Wait":
      return Effect.as(env.advance(command.minutes * 60_000), `${command.minutes} minutes later`)
    case "MerchantUpdate":
      return merchantUpdate(env, command)
    case "Settle":
      return settle(env)
    case "Fault":
      return setFaultOf(env, command.fault, command.on)
  }
}
