import { Effect } from "effect"
import type { AuditReport } from "../core/domain/audit.js"
import type { CouponCode, MerchantId, RedemptionId, TransferId, UserId } from "../core/domain/ids.js"
import { RedeemCoupon, RollbackRedemption } from "../core/domain/redemption.js"
import type { ProviderOffer } from "../core/ports/provider-gateway.js"
import type { Services } from "../sim/fleet-world.js"

/**
 * The people and machines around the kiosks, as the scenario code sees them: a merchant's till
 * (redeem, roll back), an operator (grant points, run a settlement, read the audit) and a merchant's
 * provider server (push its catalog). On the sim and serial layers they call the core services in
 * process; on the http layer they are the merchants, operators and providers APIs (`office-http.ts`).
 * A refusal is its domain error's tag on every layer, so the answers compare as strings.
 */

export interface Refusal {
  readonly _tag: string
}

export interface SettlementOutcome {
  readonly statements: ReadonlyArray<{ readonly merchantId: MerchantId; readonly totalPoints: number; readonly lines: ReadonlyArray<unknown> }>
  readonly refused: ReadonlyArray<{ readonly merchantId: MerchantId; readonly reason: string }>
}

export interface RedeemRequest {
  readonly redemptionId: RedemptionId
  readonly merchantId: MerchantId
  readonly couponCode: CouponCode
  readonly amount: number
}

export interface Office {
  /** The merchant's till redeems; answers what is left on the coupon. */
  readonly redeem: (request: RedeemRequest) => Effect.Effect<{ readonly couponBalanceAfter: number }, Refusal>
  /** The merchant rolls its redemption back. */
  readonly rollback: (redemptionId: RedemptionId, merchantId: MerchantId) => Effect.Effect<void, Refusal>
  /** An operator grants campaign points. */
  readonly grant: (userId: UserId, points: number, transferId: TransferId) => Effect.Effect<void, Refusal>
  /** An operator settles every merchant up to `periodEndMs`. */
  readonly settle: (periodEndMs: number) => Effect.Effect<SettlementOutcome>
  /** The merchant's provider server pushes its whole catalog. */
  readonly pushCatalog: (merchantId: MerchantId, offers: ReadonlyArray<ProviderOffer>) => Effect.Effect<void, Refusal>
  /** The auditor's report (DESIGN §5). */
  readonly audit: Effect.Effect<AuditReport>
}

/** The office in process: each action one call of a core service. */
export const officeOf = (services: Services): Office => ({
  redeem: (request) => services.redemptions.redeem(new RedeemCoupon(request)),
  rollback: (redemptionId, merchantId) => Effect.asVoid(services.redemptions.rollback(new RollbackRedemption({ redemptionId, merchantId }))),
  grant: (userId, points, transferId) => Effect.asVoid(services.users.grant(userId, points, transferId)),
  settle: (periodEndMs) => services.settlements.closeAll({ periodEndMs }),
  pushCatalog: (merchantId, offers) => Effect.asVoid(services.catalog.upsertFromProvider(merchantId, offers, { replace: true })),
  audit: services.auditor.run
})
