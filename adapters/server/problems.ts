import { Effect } from "effect"
import type { BackendRefused, RefusalReason } from "../../core/ports/kiosk-backend.js"
import { makeProblem, type Problem, type ProblemStatus } from "../http-api/problem.js"

/**
 * Every domain refusal as a problem document, in one place (the API contract's statuses are in
 * adapters/http-api/problem.ts). Kiosks see the refusal reasons of core/ports/kiosk-backend.ts (the
 * in-process layer already maps core's errors onto them, core/kiosk-backend-local.ts
 * `refusalReasons`); merchants and operators see core's own tagged errors. The slug, and so the
 * problem's `type`, is the reason or the error's tag in kebab case: stable as long as the names are.
 */

type RefusalStatus = Exclude<ProblemStatus, 401 | 413 | 500 | 503>

/** The status of each kiosk-facing refusal. */
export const refusalStatus = {
  "invalid-phone": 400,
  "invalid-request": 400,
  "wrong-code": 422,
  "code-expired": 410,
  // Six wrong codes, or too many codes asked for one phone: wait, then ask again.
  "code-locked": 429,
  "session-invalid": 404,
  "catalog-changed": 409,
  "offer-unavailable": 409,
  "out-of-stock": 409,
  "insufficient-points": 422,
  "kiosk-disabled": 409,
  "unknown-card": 404,
  "card-conflict": 409,
  "order-conflict": 409
} as const satisfies Record<RefusalReason, RefusalStatus>

const titleOf = (slug: string) => slug.charAt(0).toUpperCase() + slug.slice(1).replace(/-/g, " ")

/** A kiosk refusal as the problem document the client turns back into the same `BackendRefused`. */
export const refusalProblem = (refused: BackendRefused): Problem =>
  makeProblem(refusalStatus[refused.reason], refused.reason, titleOf(refused.reason), refused.detail, {
    reason: refused.reason,
    ...(refused.currentCatalogVersion !== undefined ? { currentCatalogVersion: refused.currentCatalogVersion } : {})
  })

/** The status of each domain error merchants and operators can meet. */
export const domainStatus = {
  InvalidRequest: 400,
  InvalidPhone: 400,
  InvalidTransfer: 400,
  OfferNotFound: 404,
  InstitutionNotFound: 404,
  KioskNotFound: 404,
  RegionNotFound: 404,
  MerchantNotFound: 404,
  SettlementNotFound: 404,
  RedemptionNotFound: 404,
  CouponNotFound: 404,
  OrderNotFound: 404,
  UserNotFound: 404,
  UnknownCard: 404,
  OutboxMessageNotFound: 404,
  ApiKeyNotFound: 404,
  AccountNotFound: 404,
  OfferOfOtherMerchant: 403,
  InstitutionConflict: 409,
  KioskConflict: 409,
  RegionConflict: 409,
  MerchantConflict: 409,
  MerchantStatusRefused: 409,
  StockMovementConflict: 409,
  NoCardsInStacker: 409,
  StackerOverfilled: 409,
  CaptureBinFull: 409,
  SettlementPeriodConflict: 409,
  PeriodNotOver: 409,
  RedemptionConflict: 409,
  TransferConflict: 409,
  AccountKindConflict: 409,
  OutboxMessageNotDead: 409,
  TwinReportStale: 409,
  TwinReportConflict: 409,
  CouponNotRedeemable: 409,
  CouponClosed: 409,
  RedemptionSettled: 409,
  CouponExpired: 410,
  RollbackWindowClosed: 410,
  CouponBalanceTooLow: 422,
  InsufficientFunds: 422
} as const satisfies Record<string, RefusalStatus>

export type DomainError = { readonly _tag: keyof typeof domainStatus; readonly message: string }

const kebab = (tag: string) => tag.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()

export const domainProblem = (error: DomainError): Problem => makeProblem(domainStatus[error._tag], kebab(error._tag), titleOf(kebab(error._tag)), error.message)

/** Fails with the problem of a domain refusal. */
export const asProblem = <A, R>(effect: Effect.Effect<A, DomainError, R>): Effect.Effect<A, Problem, R> => Effect.mapError(effect, domainProblem)
