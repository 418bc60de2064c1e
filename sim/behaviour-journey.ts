import { Effect, Either } from "effect"
import { PhoneNumber, type UserId } from "../core/domain/ids.js"
import type { Delivery } from "../core/domain/order.js"
import type { PurchaseOutcome } from "../core/kiosk-flow.js"
import type { CatalogOffer, CatalogView, KioskSession } from "../core/ports/kiosk-backend.js"
import {
  between,
  chance,
  chooseMedium,
  chooseOffer,
  codeInText,
  HOUR_MS,
  mistype,
  planRedemptions,
  planReturn
} from "./behaviour-customer.js"
import { bump } from "./fleet-kpis.js"
import { toMerchantDesk } from "./fleet-office.js"
import { type Customer, dayOf, type FleetWorld, type HeldCard, type SimKiosk, type Visit } from "./fleet-world.js"

/**
 * A customer's visit to a kiosk, acted out against the kiosk flow (the code a real kiosk runs) with
 * the customer's hands on the sim devices: typing a phone number, reading the code from the phone's
 * SMS inbox (sometimes mistyping it), browsing, choosing an offer and a medium, taking the card from
 * the gate or walking off without it, and, on a return visit, pushing a card into the slot. What
 * happens afterwards (redemptions at the merchant, bringing the card back) is planned at hand-over
 * and scheduled on virtual time.
 */

type Identified =
  | { readonly _tag: "Session"; readonly session: KioskSession }
  | { readonly _tag: "NoCode"; readonly reason: string }

/** Asks for a code, waits for it on the phone, types it (maybe wrong first); asks again if it never comes. */
const identify = (world: FleetWorld, kiosk: SimKiosk, customer: Customer): Effect.Effect<Identified> =>
  Effect.gen(function* () {
    const p = world.config.customers
    const r = kiosk.random
    const phone = PhoneNumber.make(customer.phone)
    yield* world.time.sleep(between(r, p.typePhoneMs))
    let lastReason = "no code arrived"
    for (let attempt = 0; attempt <= p.codeResendsMax; attempt++) {
      if (attempt > 0) world.counters.codeResends++
      const askedAtMs = world.time.nowMs
      const sent = yield* Effect.either(kiosk.flow.requestCode(customer.phone))
      if (Either.isLeft(sent)) return { _tag: "NoCode", reason: refusalName(sent.left) } as const
      world.outboxNudge.nudge()
      let code: string | undefined
      for (let waitedMs = 0; waitedMs < p.smsWaitMs && code === undefined; waitedMs += p.smsPollMs) {
        yield* world.time.sleep(p.smsPollMs)
        const inbox = yield* world.outside.sms.inbox(phone)
        // The newest message sent since the customer asked; older codes were replaced.
        for (let i = inbox.length - 1; i >= 0 && code === undefined; i--) {
          const message = inbox[i]
          if (message !== undefined && message.sentAtMs >= askedAtMs) code = codeInText(message.text)
        }
      }
      if (code === undefined) continue
      yield* world.time.sleep(between(r, p.typeCodeMs))
      if (chance(r, p.mistypeShare)) {
        world.counters.codeMistypes++
        const wrong = yield* Effect.either(kiosk.flow.verifyCode(sent.right.challengeId, mistype(r, code)))
        if (Either.isRight(wrong)) return yield* Effect.dieMessage("a mistyped code was accepted")
        yield* world.time.sleep(between(r, p.typeCodeMs))
      }
      const verified = yield* Effect.either(kiosk.flow.verifyCode(sent.right.challengeId, code))
      if (Either.isRight(verified)) return { _tag: "Session", session: verified.right } as const
      lastReason = refusalName(verified.left)
    }
    return { _tag: "NoCode", reason: lastReason } as const
  })

const refusalName = (error: { readonly _tag: string }): string => ("reason" in error && typeof error.reason === "string" ? error.reason : error._tag)

/** After a hand-over: the coupon's redemptions and, for a card, its way back, on virtual time. */
const afterDelivery = (world: FleetWorld, kiosk: SimKiosk, customer: Customer, offer: CatalogOffer, delivery: Delivery) =>
  Effect.gen(function* () {
    const c = world.counters
    const p = world.config.customers
    const r = kiosk.random
    c.coupons++
    c.couponPoints += delivery.valuePoints
    const today = c.today(dayOf(world, world.time.nowMs))
    today.coupons++
    today.couponPoints += delivery.valuePoints
    for (const planned of planRedemptions(r, delivery.valuePoints, delivery.issuedAtMs, delivery.expiresAtMs, p)) {
      if (planned.atMs >= world.horizonMs) continue
      world.time.at(planned.atMs, () => {
        toMerchantDesk(world, { _tag: "Redeem", merchantId: offer.merchantId, couponCode: delivery.couponCode, amountPoints: planned.amountPoints })
      })
    }
    if (delivery.cardUid === null) return
    const taken = yield* kiosk.unit.drainTaken
    const card = taken.find((held) => held.uid === delivery.cardUid)
    if (card === undefined) return yield* Effect.dieMessage(`card ${delivery.cardUid} was delivered but the customer does not have it`)
    c.cardsDispensed++
    customer.cards++
    world.cardsOut++
    const held: HeldCard = { card, customer, deadlineMs: delivery.cardDeadlineMs ?? world.horizonMs, tries: 0 }
    scheduleReturn(world, kiosk, held, planReturn(r, world.time.nowMs, held.deadlineMs, p))
  })

/** Puts a return visit in the chosen kiosk's queue when its time comes (if before the run ends). */
export const scheduleReturn = (world: FleetWorld, from: SimKiosk, held: HeldCard, plan: ReturnType<typeof planReturn>): void => {
  if (plan._tag === "Keep" || plan.atMs >= world.horizonMs) return
  const region = plan.where === "elsewhere" ? world.kiosksByRegion[world.random.int(world.kiosksByRegion.length)] : world.kiosksByRegion[from.regionIndex]
  const target = plan.where === "same" || region === undefined || region.length === 0 ? from : (region[world.random.int(region.length)] ?? from)
  world.time.at(plan.atMs, () => arrive(world, target, { _tag: "Return", arrivedAtMs: plan.atMs, held }))
}

/** Someone joins the kiosk's queue; a full queue turns them away. */
export const arrive = (world: FleetWorld, kiosk: SimKiosk, visit: Visit): void => {
  if (kiosk.stopped || !kiosk.mailbox.offer(visit)) world.counters.walkedAway++
}

type ShopOutcome = string

const recordOrder = (world: FleetWorld, kiosk: SimKiosk, customer: Customer, offer: CatalogOffer, quantity: number, medium: string, outcome: PurchaseOutcome) => {
  const c = world.counters
  const name = outcome._tag === "Refused" ? `refused:${outcome.refusal.reason}` : outcome._tag === "DeviceFailed" ? `device:${outcome.error._tag}` : outcome._tag
  bump(c.orderOutcomes, name)
  if (outcome._tag === "Refused") bump(c.refusals, outcome.refusal.reason)
  if (outcome._tag === "DeviceFailed") {
    bump(c.deviceFailures, outcome.error._tag)
    c.today(dayOf(world, world.time.nowMs)).deviceFailures++
    if (outcome.error._tag === "StackerEmpty") bump(c.stockOuts, "card-stacker")
  }
  if (outcome._tag === "Refused" && outcome.refusal.reason === "out-of-stock") bump(c.stockOuts, "offer")
  if (outcome._tag === "CardNotTaken") c.cardsNotTaken++
  if (outcome._tag === "Delivered") bump(c.ordersByMedium, medium)
  world.log.emit("order", {
    kiosk: kiosk.id,
    user: customer.userId ?? null,
    offer: offer.offerId,
    qty: quantity,
    medium,
    outcome: name,
    ...(outcome._tag === "Delivered"
      ? { order: outcome.delivery.orderId, points: outcome.delivery.valuePoints, card: outcome.delivery.cardUid }
      : outcome._tag === "CardNotTaken"
        ? { order: outcome.abortion.orderId }
        : outcome._tag === "Unresolved"
          ? { order: outcome.orderId, stage: outcome.stage }
          : {})
  })
}

/** Browses, chooses, buys; retries on a changed catalog or a sold-out offer; maybe buys twice. */
const shop = (world: FleetWorld, kiosk: SimKiosk, customer: Customer, session: KioskSession): Effect.Effect<ShopOutcome> =>
  Effect.gen(function* () {
    const p = world.config.customers
    const r = kiosk.random
    let balance = session.balancePoints
    let result: ShopOutcome = "nothing-on-sale"
    for (let round = 0; round < 2; round++) {
      const browsed = yield* Effect.either(kiosk.flow.browse)
      if (Either.isLeft(browsed)) return "catalog-unavailable"
      let view: CatalogView = browsed.right
      yield* world.time.sleep(between(r, p.browseMs))
      let choice: { readonly offer: CatalogOffer; readonly quantity: number } | undefined = chooseOffer(r, view.offers, balance, p)
      if (choice === undefined) return round > 0 ? result : view.offers.some((o) => o.stock > 0) ? "nothing-affordable" : "nothing-on-sale"
      const medium = chooseMedium(r, p)
      let bought = false
      // A changed catalog or a sold-out offer sends the customer back to the list, twice at most.
      for (let attempt = 0; attempt < 3 && choice !== undefined && !bought; attempt++) {
        const offer: CatalogOffer = choice.offer
        const quantity: number = choice.quantity
        if (medium === "card") {
          const leave = chance(r, p.leaveCardShare)
          yield* kiosk.unit.planHandOver(leave ? { _tag: "Leave" } : { _tag: "Take", afterMs: between(r, p.takeCardAfterMs) })
        }
        const outcome = yield* kiosk.flow.purchase({ session, offerId: offer.offerId, quantity, catalogVersion: view.version, medium })
        recordOrder(world, kiosk, customer, offer, quantity, medium, outcome)
        switch (outcome._tag) {
          case "Delivered":
            balance -= outcome.delivery.valuePoints
            bought = true
            result = "purchased"
            yield* afterDelivery(world, kiosk, customer, offer, outcome.delivery)
            break
          case "Refused": {
            const reason = outcome.refusal.reason
            result = `refused:${reason}`
            if (reason !== "catalog-changed" && reason !== "out-of-stock" && reason !== "offer-unavailable") return result
            const again = yield* Effect.either(kiosk.flow.browse)
            if (Either.isLeft(again)) return "catalog-unavailable"
            view = again.right
            yield* world.time.sleep(between(r, [3_000, 10_000]))
            // The same offer if it is still there and affordable, else another.
            const same: CatalogOffer | undefined = view.offers.find((o) => o.offerId === offer.offerId && o.stock >= quantity && o.pricePoints * quantity <= balance)
            choice = same === undefined ? chooseOffer(r, view.offers, balance, p) : { offer: same, quantity }
            break
          }
          case "CardNotTaken":
            return "card-not-taken"
          case "DeviceFailed":
            return `device:${outcome.error._tag}`
          case "Unresolved":
            return "unresolved"
        }
      }
      if (!bought || !chance(r, p.secondPurchaseShare)) return result
    }
    return result
  })

/** A customer at the kiosk: identify (registering if new), shop, sign off. */
export const customerVisit = (world: FleetWorld, kiosk: SimKiosk, customer: Customer): Effect.Effect<void> =>
  Effect.gen(function* () {
    const c = world.counters
    c.journeys++
    c.today(dayOf(world, world.time.nowMs)).journeys++
    const known = customer.userId !== undefined
    const identified = yield* identify(world, kiosk, customer)
    if (identified._tag === "NoCode") {
      bump(c.journeyOutcomes, `no-code:${identified.reason}`)
      world.log.emit("journey", { kiosk: kiosk.id, user: customer.userId ?? null, known, outcome: `no-code:${identified.reason}` })
      return
    }
    const { session } = identified
    if (session.newlyRegistered) {
      c.registrations++
      customer.userId = session.userId
      world.registered[customer.regionIndex]?.push(customer)
    } else if (customer.userId === undefined) {
      // Registered at another visit whose journey did not record it (a replay after a lost answer).
      customer.userId = session.userId
    }
    const outcome = yield* shop(world, kiosk, customer, session)
    yield* Effect.ignore(kiosk.flow.endSession(session))
    bump(c.journeyOutcomes, outcome)
    world.log.emit("journey", { kiosk: kiosk.id, user: session.userId, known, outcome })
  })

/** A customer brings a card back: into the slot, and with luck into the bin; maybe buys too. */
export const returnVisit = (world: FleetWorld, kiosk: SimKiosk, held: HeldCard): Effect.Effect<void> =>
  Effect.gen(function* () {
    const c = world.counters
    const r = kiosk.random
    held.tries++
    const leftover = yield* kiosk.unit.withdrawFromSlot
    if (leftover !== undefined) return yield* Effect.dieMessage(`kiosk ${kiosk.id}: a card was left waiting at the slot by an earlier visit`)
    // If the kiosk gives the card back, the customer takes it from the gate after a moment.
    yield* kiosk.unit.planHandOver({ _tag: "Take", afterMs: 2_000 })
    yield* kiosk.unit.insertAtGate(held.card)
    const outcome = yield* kiosk.flow.acceptReturn(20_000)
    const name = outcome._tag === "Returned" ? outcome.result.outcome : outcome._tag === "Rejected" ? `rejected:${outcome.reason}` : outcome._tag === "DeviceFailed" ? `device:${outcome.error._tag}` : outcome._tag
    bump(c.cardReturns, name)
    const user: UserId | null = held.customer.userId ?? null
    if (outcome._tag === "Returned") {
      c.today(dayOf(world, world.time.nowMs)).cardReturns++
      held.customer.cards--
      world.cardsOut--
      world.log.emit("return", { kiosk: kiosk.id, user, card: held.card.uid, outcome: name, forwarded: outcome.result.forwardedPoints })
    } else {
      // Whatever did not go in comes back: from the slot, or from the gate once the customer takes it.
      const fromSlot = yield* kiosk.unit.withdrawFromSlot
      yield* world.time.sleep(3_000)
      yield* kiosk.unit.snapshot
      const fromGate = (yield* kiosk.unit.drainTaken).find((card) => card.uid === held.card.uid)
      const back = fromSlot ?? fromGate
      if (back === undefined) {
        // Swallowed: a jam while drawing it in left it inside the unit. The operator's re-initialise
        // (the flow's start-up) identifies it and returns it with the server then.
        c.cardsSwallowed++
        held.customer.cards--
        world.cardsOut--
      } else if (held.tries < 3) {
        scheduleReturn(world, kiosk, held, { _tag: "Return", atMs: world.time.nowMs + 4 * HOUR_MS + r.int(20 * HOUR_MS), where: "region" })
      }
      if (outcome._tag === "DeviceFailed") {
        bump(c.deviceFailures, outcome.error._tag)
        c.today(dayOf(world, world.time.nowMs)).deviceFailures++
      }
      world.log.emit("return", { kiosk: kiosk.id, user, card: held.card.uid, outcome: name, kept: back !== undefined })
    }
    if (held.customer.userId !== undefined && outcome._tag === "Returned" && chance(r, world.config.customers.buyAfterReturnShare)) {
      yield* customerVisit(world, kiosk, held.customer)
    }
  })
