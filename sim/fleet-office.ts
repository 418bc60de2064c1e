import { Effect, Either } from "effect"
import { backOfficeRound } from "../core/back-office.js"
import { Housekeeping } from "../core/housekeeping.js"
import { Cards } from "../core/cards.js"
import { Orders } from "../core/orders.js"
import { Redemptions } from "../core/redemption.js"
import { Settlements } from "../core/settlement.js"
import { CouponCode, type OfferId, RedemptionId, TransferId } from "../core/domain/ids.js"
import { RedeemCoupon, RollbackRedemption } from "../core/domain/redemption.js"
import { defaultOutboxSettings, OutboxKinds, smsHandler } from "../core/outbox.js"
import { ProviderGateway } from "../core/ports/provider-gateway.js"
import { chance, DAY_MS } from "./behaviour-customer.js"
import { changeOffers, nextChangeMs } from "./behaviour-merchant.js"
import { nextDailyRunMs } from "./behaviour-operator.js"
import { bump } from "./fleet-kpis.js"
import { type Customer, dayOf, type FleetWorld, type MerchantTask, type SimMerchant } from "./fleet-world.js"

/**
 * The server side of the deployment that no kiosk drives: the outbox worker (SMS codes, provider
 * orders, deposit charges, payouts), the back office's daily run (settlement, sweeps, stale orders,
 * campaign grants), and the merchants' side (tills redeeming coupons, catalog changes pulled from
 * their provider servers). Each is one fiber on virtual time.
 */

/** Sends what is due; nudged when a code is asked for, otherwise every `outboxIdleMs`. */
export const outboxWorker = (world: FleetWorld): Effect.Effect<never> => {
  const { outbox, orderHandlers } = world.services
  const handlers = { ...orderHandlers.handlers, sms: smsHandler }
  const c = world.counters
  const round = Effect.gen(function* () {
    for (let batch = 0; batch < world.config.operators.outboxBatchesMax; batch++) {
      const summary = yield* outbox.dispatchDue({ handlers })
      c.outbox["claimed"] = (c.outbox["claimed"] ?? 0) + summary.claimed
      if (summary.sent > 0) bump(c.outbox, "sent", summary.sent)
      if (summary.retried > 0) bump(c.outbox, "retried", summary.retried)
      if (summary.dead > 0) {
        bump(c.outbox, "dead", summary.dead)
        world.log.emit("outbox.dead", { messages: summary.dead })
      }
      if (summary.failed > 0) bump(c.outbox, "failed", summary.failed)
      // A batch short of the limit took everything that was due.
      if (summary.claimed < defaultOutboxSettings.batchMax) return
    }
  }).pipe(Effect.provide(world.outside.context))
  return Effect.forever(Effect.zipRight(world.outboxNudge.rest(world.config.operators.outboxIdleMs), round))
}

/** Dispatches until nothing is due or `roundsMax` rounds (for the end of a run, faults healed). */
export const drainOutbox = (world: FleetWorld, roundsMax: number) =>
  Effect.gen(function* () {
    const { outbox, orderHandlers } = world.services
    const handlers = { ...orderHandlers.handlers, sms: smsHandler }
    for (let round = 0; round < roundsMax; round++) {
      const summary = yield* outbox.dispatchDue({ handlers })
      if (summary.sent > 0) bump(world.counters.outbox, "sent", summary.sent)
      if (summary.dead > 0) bump(world.counters.outbox, "dead", summary.dead)
      if (summary.claimed > 0) continue
      const pending = yield* outbox.list({ state: "pending", limit: 1 })
      if (pending.length === 0) return true
      // Backing off: let virtual time pass to the next attempt.
      yield* Effect.sleep(Math.max(1_000, (pending[0]?.nextAttemptMs ?? 0) - world.time.nowMs))
    }
    return false
  }).pipe(Effect.provide(world.outside.context))

/** Hands a task to the merchants' desk; a full desk (a bound, not a queue to grow) drops it, counted. */
export const toMerchantDesk = (world: FleetWorld, task: MerchantTask): void => {
  if (!world.merchantDesk.offer(task)) bump(world.counters.office, `merchant-desk-full:${task._tag}`)
}

/** Dead messages an operator retries in one go. */
const RETRIES_MAX = 100

/**
 * An operator retries the dead deposit charges: a charge the outbox gave up on leaves its card
 * overdue with the charge pending, which nobody else will ever finish (reported to the lead: the
 * carrier_charge handler has no onDead). Answers how many went back in the queue.
 */
export const retryDeadCharges = (world: FleetWorld) =>
  Effect.gen(function* () {
    const dead = yield* world.services.outbox.list({ state: "dead", kind: OutboxKinds.carrierCharge, limit: RETRIES_MAX })
    let retried = 0
    for (const message of dead) {
      const again = yield* Effect.either(world.services.outbox.retry(message.id))
      if (Either.isRight(again)) retried++
    }
    if (retried > 0) bump(world.counters.office, "dead-charges-retried", retried)
    return retried
  })

/**
 * The back office, every day at `dailyJobsAtMs`: settle yesterday, sweep, void stale orders, grant,
 * and prune what the retention lets go.
 */
export const backOffice = (world: FleetWorld): Effect.Effect<never> => {
  const { settlements, redemptions, cards, orders, users } = world.services
  const params = world.config.operators
  const c = world.counters
  const daily = Effect.gen(function* () {
    const nowMs = world.time.nowMs
    const midnight = nowMs - (((nowMs - world.config.startMs) % DAY_MS) + DAY_MS) % DAY_MS
    const round = yield* backOfficeRound({ periodEndMs: midnight, staleOrderAfterMs: params.staleOrderAfterMs }).pipe(
      Effect.provideService(Settlements, settlements),
      Effect.provideService(Redemptions, redemptions),
      Effect.provideService(Cards, cards),
      Effect.provideService(Orders, orders),
      Effect.provideService(Housekeeping, world.services.housekeeping)
    )
    const settledPoints = round.settledPoints
    bump(c.office, "statements", round.statements)
    bump(c.office, "settled-points", settledPoints)
    if (round.settlementsRefused > 0) bump(c.office, "settlement-refused", round.settlementsRefused)
    const expired = round.expiredCoupons
    const expiredPoints = round.expiredPoints
    const overdue = round.overdueCards
    const forfeited = round.forfeitedPoints
    const charges = round.chargesQueued
    const stale = round.staleOrdersVoided
    bump(c.office, "coupons-expired", expired)
    bump(c.office, "expired-points", expiredPoints)
    bump(c.office, "cards-overdue", overdue)
    bump(c.office, "forfeited-points", forfeited)
    bump(c.office, "deposit-charges-queued", charges)
    bump(c.office, "stale-orders-voided", stale)
    // Campaign grants to a few registered customers of each region.
    let granted = 0
    const day = dayOf(world, nowMs)
    for (const [r, customers] of world.registered.entries()) {
      const count = Math.floor(customers.length * params.campaignShare)
      for (let i = 0; i < count; i++) {
        const customer = customers[world.random.int(customers.length)] as Customer
        if (customer.userId === undefined) continue
        const given = yield* Effect.either(users.grant(customer.userId, params.campaignGrantPoints, TransferId.make(`campaign:${day}:${r}:${i}:${customer.userId}`)))
        if (Either.isRight(given)) granted++
      }
    }
    bump(c.office, "campaign-grants", granted)
    yield* retryDeadCharges(world)
    bump(c.office, "pruned-challenges", round.prunedChallenges)
    bump(c.office, "pruned-sessions", round.prunedSessions)
    bump(c.office, "pruned-outbox", round.prunedOutboxMessages)
    world.outboxNudge.nudge()
    world.log.emit("office", {
      day,
      statements: round.statements,
      settledPoints,
      expired,
      expiredPoints,
      overdue,
      forfeited,
      charges,
      stale,
      granted,
      pruned: round.prunedChallenges + round.prunedSessions + round.prunedOutboxMessages
    })
  })
  return Effect.forever(
    Effect.gen(function* () {
      yield* Effect.sleep(nextDailyRunMs(world.time.nowMs, params) - world.time.nowMs)
      yield* daily
    })
  )
}

/** Starts each merchant's cycle of catalog changes. */
export const scheduleMerchantChanges = (world: FleetWorld, merchant: SimMerchant): void => {
  const next = (fromMs: number) => {
    const atMs = nextChangeMs(merchant.random, fromMs, world.config.merchantBehaviour)
    if (atMs >= world.horizonMs) return
    world.time.at(atMs, () => {
      toMerchantDesk(world, { _tag: "Change", merchant })
      next(atMs)
    })
  }
  next(world.time.nowMs)
}

/** The server pulls a merchant's catalog from its provider server (DESIGN claim 1). */
export const pullCatalog = (world: FleetWorld, merchant: SimMerchant, attempt: number) =>
  Effect.gen(function* () {
    const c = world.counters
    const fetched = yield* Effect.either(Effect.flatMap(ProviderGateway, (gateway) => gateway.fetchCatalog(merchant.id)).pipe(Effect.provide(world.outside.context)))
    if (Either.isLeft(fetched)) {
      bump(c.catalog, `pull-failed:${fetched.left._tag}`)
      if (attempt + 1 < world.config.merchantBehaviour.pullAttemptsMax) {
        const atMs = world.time.nowMs + world.config.merchantBehaviour.pullRetryMs
        if (atMs < world.horizonMs) world.time.at(atMs, () => toMerchantDesk(world, { _tag: "Pull", merchant, attempt: attempt + 1 }))
      }
      return false
    }
    const synced = yield* Effect.either(world.services.catalog.upsertFromProvider(merchant.id, fetched.right, { replace: true }))
    if (Either.isLeft(synced)) {
      bump(c.catalog, `sync-refused:${synced.left._tag}`)
      return false
    }
    bump(c.catalog, "pulls")
    bump(c.catalog, "offers-changed", synced.right.changed)
    return true
  })


const redeem = (world: FleetWorld, task: Extract<MerchantTask, { readonly _tag: "Redeem" }>) =>
  Effect.gen(function* () {
    const c = world.counters
    const redemptionId = RedemptionId.make(`rdm_${String(world.nextRedemption++).padStart(8, "0")}`)
    const result = yield* Effect.either(
      world.services.redemptions.redeem(new RedeemCoupon({ redemptionId, merchantId: task.merchantId, couponCode: CouponCode.make(task.couponCode), amount: task.amountPoints }))
    )
    if (Either.isLeft(result)) {
      bump(c.redemptionRefusals, result.left._tag)
      world.log.emit("redeem", { merchant: task.merchantId, coupon: task.couponCode, points: task.amountPoints, outcome: result.left._tag })
      return
    }
    c.redemptions++
    c.redeemedPoints += task.amountPoints
    const today = c.today(dayOf(world, world.time.nowMs))
    today.redemptions++
    today.redeemedPoints += task.amountPoints
    world.log.emit("redeem", { merchant: task.merchantId, coupon: task.couponCode, points: task.amountPoints, outcome: "redeemed", left: result.right.couponBalanceAfter })
    if (chance(world.random, world.config.customers.rollbackShare)) {
      const atMs = world.time.nowMs + 10 * 60_000
      if (atMs < world.horizonMs) world.time.at(atMs, () => toMerchantDesk(world, { _tag: "Rollback", merchantId: task.merchantId, redemptionId }))
    }
  })

const rollback = (world: FleetWorld, task: Extract<MerchantTask, { readonly _tag: "Rollback" }>) =>
  Effect.gen(function* () {
    const result = yield* Effect.either(world.services.redemptions.rollback(new RollbackRedemption({ redemptionId: RedemptionId.make(task.redemptionId), merchantId: task.merchantId })))
    const outcome = Either.isRight(result) ? "rolled-back" : result.left._tag
    if (Either.isRight(result)) world.counters.rollbacks++
    else bump(world.counters.redemptionRefusals, `rollback:${outcome}`)
    world.log.emit("rollback", { merchant: task.merchantId, redemption: task.redemptionId, outcome })
  })

const change = (world: FleetWorld, merchant: SimMerchant) =>
  Effect.gen(function* () {
    const stock = new Map<OfferId, number>()
    for (const offer of merchant.offers) {
      const now = yield* Effect.either(world.services.catalog.offer(offer.offerId))
      stock.set(offer.offerId, Either.isRight(now) ? now.right.stock : offer.stock)
    }
    const changed = changeOffers(merchant.random, merchant.offers, (id) => stock.get(id) ?? 0, world.config.merchantBehaviour)
    merchant.offers = changed.offers
    yield* world.outside.providers.setCatalog(merchant.id, changed.offers)
    bump(world.counters.catalog, "price-changes", changed.priceChanges)
    bump(world.counters.catalog, "restocks", changed.restocks)
    world.log.emit("merchant.change", { merchant: merchant.id, priceChanges: changed.priceChanges, restocks: changed.restocks })
    yield* pullCatalog(world, merchant, 0)
  })

/** The merchants' side: one queue of till redemptions, rollbacks and catalog changes, in time order. */
export const merchantDesk = (world: FleetWorld): Effect.Effect<never> =>
  Effect.forever(
    Effect.flatMap(world.merchantDesk.take, (task): Effect.Effect<unknown> => {
      switch (task._tag) {
        case "Redeem":
          return redeem(world, task)
        case "Rollback":
          return rollback(world, task)
        case "Change":
          return change(world, task.merchant)
        case "Pull":
          return pullCatalog(world, task.merchant, task.attempt)
      }
    })
  )
