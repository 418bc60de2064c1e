import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { CheckResult } from "../../core/domain/audit.js"
import { InstitutionId, KioskId, MerchantId, RegionId, TransferId, UserId } from "../../core/domain/ids.js"
import { Institution } from "../../core/domain/institution.js"
import { AccountId } from "../../core/domain/ledger.js"
import { Kiosk, StockMovement, StockMovementId } from "../../core/domain/kiosk.js"
import { Merchant } from "../../core/domain/merchant.js"
import { Order } from "../../core/domain/order.js"
import { OutboxId } from "../../core/domain/outbox.js"
import { Region } from "../../core/domain/region.js"
import { RegionCatalog } from "../../core/domain/catalog.js"
import { Statement } from "../../core/domain/settlement.js"
import { Twin, TwinConfig } from "../../core/domain/twin.js"
import { OperatorReadAuth, OperatorWriteAuth } from "./security.js"

/**
 * The operators' group: what `ecoupon admin` does, over HTTP, plus the kiosks' twins, settlement
 * runs, the audit, stale orders the server voided, and the outbox's dead letters. Reads take any
 * operator token (auditors included); changes take an admin's or an operator's. Credentials are
 * the admins' own group (credentials-api.ts).
 */
const Name = Schema.String.pipe(Schema.maxLength(400))
export const NewInstitution = Schema.Struct({ id: Schema.optional(InstitutionId), name: Name })
export const NewRegion = Schema.Struct({ id: Schema.optional(RegionId), name: Name, institutionId: InstitutionId })
export const NewMerchant = Schema.Struct({ id: Schema.optional(MerchantId), name: Name, providerUrl: Schema.optional(Schema.String.pipe(Schema.maxLength(2000))) })
export const NewKiosk = Schema.Struct({ id: Schema.optional(KioskId), name: Name, regionId: RegionId, binCapacity: Schema.Int })
export const LoadCards = Schema.Struct({ count: Schema.Int, movementId: Schema.optional(StockMovementId) })
export const EmptyBin = Schema.Struct({ movementId: Schema.optional(StockMovementId) })
export const DesiredPatchBody = Schema.Struct({
  enabled: Schema.optional(Schema.Boolean),
  returnDeadlineDays: Schema.optional(Schema.Int),
  /** A version to pin the kiosk's catalog at, or null to follow the region's latest. */
  catalogVersion: Schema.optional(Schema.NullOr(Schema.Int)),
  config: Schema.optional(TwinConfig)
})
export const GrantBody = Schema.Struct({ userId: UserId, points: Schema.Int.pipe(Schema.positive()), transferId: TransferId })
export const GrantResult = Schema.Struct({ transferId: Schema.String, userId: UserId, points: Schema.Int, availablePoints: Schema.Int })
export const SettlementRun = Schema.Struct({ periodEndMs: Schema.Int })
export const SettlementRunResult = Schema.Struct({
  statements: Schema.Array(Statement),
  refused: Schema.Array(Schema.Struct({ merchantId: MerchantId, reason: Schema.String }))
})
/** The auditor's report with its verdict: `ok` when every invariant holds. */
export const AuditAnswer = Schema.Struct({ ok: Schema.Boolean, violationCount: Schema.Int, checkedAtMs: Schema.Int, checks: Schema.Array(CheckResult) })
/** Ledger accounts to read, by id (`user:<userId>`, `coupon:<couponId>`, `merchant:<id>:payable`, `institution:<id>`, ...). */
export const BalancesRequest = Schema.Struct({ accounts: Schema.Array(AccountId).pipe(Schema.maxItems(500)) })
/** An account's balance; accounts that do not exist (nothing ever moved through them) are left out. */
export const AccountBalance = Schema.Struct({ account: Schema.String, posted: Schema.Int, pending: Schema.Int, available: Schema.Int })
/** A dead letter without its payload (an SMS's carries a phone number). */
export const DeadLetter = Schema.Struct({
  id: OutboxId,
  kind: Schema.String,
  idempotencyKey: Schema.String,
  attempts: Schema.Int,
  lastError: Schema.NullOr(Schema.String),
  createdAtMs: Schema.Int
})

const merchantPath = Schema.Struct({ merchantId: MerchantId })
const kioskPath = Schema.Struct({ kioskId: KioskId })


export class OperatorsApi extends HttpApiGroup.make("operators")
  .add(HttpApiEndpoint.get("institutions", "/institutions").addSuccess(Schema.Array(Institution)).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.post("addInstitution", "/institutions").setPayload(NewInstitution).addSuccess(Institution).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.get("regions", "/regions").addSuccess(Schema.Array(Region)).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.post("addRegion", "/regions").setPayload(NewRegion).addSuccess(Region).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.get("regionCatalog", "/regions/:regionId/catalog").setPath(Schema.Struct({ regionId: RegionId })).addSuccess(RegionCatalog).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.get("merchants", "/merchants").addSuccess(Schema.Array(Merchant)).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.post("addMerchant", "/merchants").setPayload(NewMerchant).addSuccess(Merchant).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.post("approveMerchant", "/merchants/:merchantId/approve").setPath(merchantPath).addSuccess(Merchant).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.post("suspendMerchant", "/merchants/:merchantId/suspend").setPath(merchantPath).addSuccess(Merchant).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.post("restoreMerchant", "/merchants/:merchantId/restore").setPath(merchantPath).addSuccess(Merchant).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.get("kiosks", "/kiosks").addSuccess(Schema.Array(Kiosk)).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.post("addKiosk", "/kiosks").setPayload(NewKiosk).addSuccess(Kiosk).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.post("loadCards", "/kiosks/:kioskId/load-cards").setPath(kioskPath).setPayload(LoadCards).addSuccess(StockMovement).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.post("emptyBin", "/kiosks/:kioskId/empty-bin").setPath(kioskPath).setPayload(EmptyBin).addSuccess(StockMovement).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.get("twin", "/kiosks/:kioskId/twin").setPath(kioskPath).addSuccess(Twin).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.patch("setDesired", "/kiosks/:kioskId/desired").setPath(kioskPath).setPayload(DesiredPatchBody).addSuccess(Twin).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.post("grant", "/grants").setPayload(GrantBody).addSuccess(GrantResult).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.post("runSettlement", "/settlements/run").setPayload(SettlementRun).addSuccess(SettlementRunResult).middleware(OperatorWriteAuth))
  .add(HttpApiEndpoint.post("balances", "/balances").setPayload(BalancesRequest).addSuccess(Schema.Array(AccountBalance)).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.get("audit", "/audit").addSuccess(AuditAnswer).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.get("flaggedOrders", "/orders/flagged").addSuccess(Schema.Array(Order)).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.get("deadLetters", "/outbox/dead").addSuccess(Schema.Array(DeadLetter)).middleware(OperatorReadAuth))
  .add(HttpApiEndpoint.post("retryDeadLetter", "/outbox/:id/retry").setPath(Schema.Struct({ id: OutboxId })).addSuccess(DeadLetter).middleware(OperatorWriteAuth))
  .prefix("/v1/ops")
  .annotate(OpenApi.Description, "Operators: institutions, regions and their catalogs (offers with their stock), merchants, kiosks and their twins, point grants, settlement runs, ledger balances, the audit, dead letters. Auditors read only")
{}
