import { Effect } from "effect"
import { Cards } from "./cards.js"
import { Housekeeping } from "./housekeeping.js"
import { Orders } from "./orders.js"
import { Redemptions } from "./redemption.js"
import { Settlements } from "./settlement.js"

/**
 * The back office's round (DESIGN §4): settle every merchant's redemptions up to `periodEndMs`, send
 * expired coupons' remainders to the institutions, charge overdue cards' deposits (queued to carrier
 * billing), void orders no kiosk resolved within `staleOrderAfterMs`, and prune what the retention
 * lets go (`housekeeping.ts`, last: what this round finished is pruned on a later one). Every step is idempotent, so
 * a round may run as often as wanted (the server runs one on a timer, the simulator once a virtual
 * day); each sweep is bounded by `SWEEP_ROUNDS_MAX` calls of the service's own batch.
 */

export const SWEEP_ROUNDS_MAX = 100

export interface BackOfficeRound {
  readonly statements: number
  readonly settledPoints: number
  readonly settlementsRefused: number
  readonly expiredCoupons: number
  readonly expiredPoints: number
  readonly overdueCards: number
  readonly forfeitedPoints: number
  readonly chargesQueued: number
  readonly staleOrdersVoided: number
  readonly prunedChallenges: number
  readonly prunedSessions: number
  readonly prunedOutboxMessages: number
}

/** Calls a sweep until it says there is no more, within the bound. */
const untilDone = <A extends { readonly more: boolean }>(sweep: Effect.Effect<A>, add: (result: A) => void) =>
  Effect.gen(function* () {
    for (let round = 0; round < SWEEP_ROUNDS_MAX; round++) {
      const result = yield* sweep
      add(result)
      if (!result.more) return
    }
  })

export const backOfficeRound = (options: { readonly periodEndMs: number; readonly staleOrderAfterMs: number }) =>
  Effect.gen(function* () {
    const settlements = yield* Settlements
    const redemptions = yield* Redemptions
    const cards = yield* Cards
    const orders = yield* Orders
    const housekeeping = yield* Housekeeping
    const closed = yield* settlements.closeAll({ periodEndMs: options.periodEndMs })
    const round = {
      statements: closed.statements.length,
      settledPoints: closed.statements.reduce((sum, statement) => sum + statement.totalPoints, 0),
      settlementsRefused: closed.refused.length,
      expiredCoupons: 0,
      expiredPoints: 0,
      overdueCards: 0,
      forfeitedPoints: 0,
      chargesQueued: 0,
      staleOrdersVoided: 0,
      prunedChallenges: 0,
      prunedSessions: 0,
      prunedOutboxMessages: 0
    }
    yield* untilDone(redemptions.expireDue(), (sweep) => {
      round.expiredCoupons += sweep.expiredCoupons
      round.expiredPoints += sweep.forwardedPoints
    })
    yield* untilDone(cards.sweepOverdue(), (sweep) => {
      round.overdueCards += sweep.overdueCards
      round.forfeitedPoints += sweep.forfeitedPoints
      round.chargesQueued += sweep.chargesQueued
    })
    yield* untilDone(orders.voidStale({ olderThanMs: options.staleOrderAfterMs }), (sweep) => {
      round.staleOrdersVoided += sweep.voided
    })
    yield* untilDone(housekeeping.run, (pruned) => {
      round.prunedChallenges += pruned.challenges
      round.prunedSessions += pruned.sessions
      round.prunedOutboxMessages += pruned.outboxMessages
    })
    return round satisfies BackOfficeRound
  }).pipe(Effect.withSpan("BackOffice.round"))
