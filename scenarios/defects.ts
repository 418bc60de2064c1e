import { Effect } from "effect"
import { TransferId, UserId } from "../core/domain/ids.js"
import { providerOrderKey } from "../core/orders.js"
import type { ServiceWrapper } from "./system.js"

/**
 * Known defects, each seeded into the core by wrapping one service at its edge (what the kiosks'
 * backends and the back office call), to prove the suites bite: `defects.test.ts` shows that
 * `--suite full` finds every one and shrinks it to a short sequence. Each is a bug a real change to
 * the core could make; none is reachable from a command line.
 */

export interface Defect {
  readonly name: string
  readonly description: string
  readonly wrap: ServiceWrapper
}

export const defects: ReadonlyArray<Defect> = [
  {
    name: "redemption-skips-value-check",
    description: "a redemption above what is left on the coupon takes what is left and answers yes",
    wrap: (s) => ({
      ...s,
      redemptions: {
        ...s.redemptions,
        redeem: (request) =>
          s.redemptions.redeem(request).pipe(
            Effect.catchTag("CouponBalanceTooLow", (low) =>
              low.balancePoints <= 0
                ? Effect.fail(low)
                : Effect.map(s.redemptions.redeem({ ...request, amount: low.balancePoints }), (redemption) => ({ ...redemption, amount: request.amount }) as typeof redemption)
            )
          )
      }
    })
  },
  {
    name: "card-return-refunds-twice",
    description: "a returned card's remaining balance is credited to the institution twice",
    wrap: (s) => ({
      ...s,
      cards: {
        ...s.cards,
        return: (request) =>
          Effect.tap(s.cards.return(request), (result) =>
            result.institutionId === null || result.forwardedPoints === 0
              ? Effect.void
              : s.sql`UPDATE ledger_accounts SET credits_posted = credits_posted + ${result.forwardedPoints} WHERE id = ${`institution:${result.institutionId}`}`.pipe(
                  Effect.zipRight(s.sql`UPDATE ledger_accounts SET debits_posted = debits_posted + ${result.forwardedPoints} WHERE id = 'issuer'`),
                  Effect.orDie
                ))
      }
    })
  },
  {
    name: "delivery-never-queues-provider",
    description: "a delivery never queues the order's content for the merchant's provider server",
    wrap: (s) => ({
      ...s,
      orders: {
        ...s.orders,
        deliver: (request) => Effect.tap(s.orders.deliver(request), () => Effect.orDie(s.sql`DELETE FROM outbox WHERE idempotency_key = ${providerOrderKey(request.orderId)}`))
      }
    })
  },
  {
    name: "pending-transfer-ignores-floor",
    description: "an order is placed although the customer's points do not cover it (the floor check is skipped: the shortfall appears from the issuer)",
    wrap: (s) => ({
      ...s,
      orders: {
        ...s.orders,
        place: (request) =>
          s.orders.place(request).pipe(
            Effect.catchTag("InsufficientPoints", (short) =>
              Effect.gen(function* () {
                yield* Effect.orDie(s.users.grant(UserId.make(short.userId), short.requiredPoints - short.availablePoints, TransferId.make(`defect:${request.orderId}`)))
                return yield* s.orders.place(request)
              })
            )
          )
      }
    })
  },
  {
    name: "settlement-forgets-its-lines",
    description: "a settlement pays the merchant but forgets which redemptions it took, so the next one takes them again",
    wrap: (s) => ({
      ...s,
      settlements: {
        ...s.settlements,
        closeAll: (options) =>
          Effect.tap(s.settlements.closeAll(options), (closed) =>
            Effect.forEach(closed.statements, (statement) => Effect.orDie(s.sql`DELETE FROM settlement_lines WHERE settlement_id = ${statement.id}`), { discard: true })
          )
      }
    })
  },
  {
    name: "abort-keeps-the-stock",
    description: "an aborted order gives the points back but not the offer's stock",
    wrap: (s) => ({
      ...s,
      orders: {
        ...s.orders,
        abort: (request) =>
          Effect.tap(s.orders.abort(request), () =>
            Effect.orDie(s.sql`UPDATE offers SET stock = stock - (SELECT quantity FROM orders WHERE id = ${request.orderId}) WHERE id = (SELECT offer_id FROM orders WHERE id = ${request.orderId})`)
          )
      }
    })
  },
  {
    name: "sign-in-grants-welcome-again",
    description: "every sign-in at a kiosk grants the welcome points again",
    wrap: (s) => ({
      ...s,
      users: {
        ...s.users,
        verifyIdentification: (challengeId, code) =>
          Effect.tap(s.users.verifyIdentification(challengeId, code), (session) =>
            Effect.orDie(s.users.grant(session.userId, 10_000, TransferId.make(`defect:welcome:${session.id}`)))
          )
      }
    })
  }
]

export const defectNamed = (name: string): Defect | undefined => defects.find((defect) => defect.name === name)

