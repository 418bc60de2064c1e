import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Context, Schema } from "effect"
import type { KioskId, MerchantId, RegionId } from "../../core/domain/ids.js"
import { Forbidden, Unauthorized } from "./problem.js"

/**
 * Who may call what (DESIGN §7). Every caller sends `Authorization: Bearer <credential>`; the
 * credential's prefix says what it is (`ek_` a kiosk key, `em_` a merchant key, `eo_` an operator
 * token, see adapters/server/credentials/api-key-format.ts). The middleware answers 401 for no
 * credential, a malformed, unknown or revoked one, and 403 for a good credential that may not do this
 * (another kind of caller, a role too weak). The provider servers' webhook is signed instead (HMAC),
 * and health is open.
 */

export const OperatorRole = Schema.Literal("admin", "operator", "auditor")
export type OperatorRole = typeof OperatorRole.Type

export interface KioskCaller {
  readonly keyId: string
  readonly kioskId: KioskId
  readonly regionId: RegionId
}
export class CurrentKiosk extends Context.Tag("ecoupon/http-api/CurrentKiosk")<CurrentKiosk, KioskCaller>() {}

export interface MerchantCaller {
  readonly keyId: string
  readonly merchantId: MerchantId
}
export class CurrentMerchant extends Context.Tag("ecoupon/http-api/CurrentMerchant")<CurrentMerchant, MerchantCaller>() {}

export interface OperatorCaller {
  readonly keyId: string
  readonly name: string
  readonly role: OperatorRole
}
export class CurrentOperator extends Context.Tag("ecoupon/http-api/CurrentOperator")<CurrentOperator, OperatorCaller>() {}

const failure = Schema.Union(Unauthorized, Forbidden)
const bearer = { bearer: HttpApiSecurity.bearer }

/** A kiosk's own key. */
export class KioskAuth extends HttpApiMiddleware.Tag<KioskAuth>()("KioskAuth", { failure, provides: CurrentKiosk, security: bearer }) {}

/** A merchant's own key. */
export class MerchantAuth extends HttpApiMiddleware.Tag<MerchantAuth>()("MerchantAuth", { failure, provides: CurrentMerchant, security: bearer }) {}

/** Any operator token: admin, operator or auditor (reads). */
export class OperatorReadAuth extends HttpApiMiddleware.Tag<OperatorReadAuth>()("OperatorReadAuth", { failure, provides: CurrentOperator, security: bearer }) {}

/** An admin's or an operator's token (changes); an auditor is refused. */
export class OperatorWriteAuth extends HttpApiMiddleware.Tag<OperatorWriteAuth>()("OperatorWriteAuth", { failure, provides: CurrentOperator, security: bearer }) {}

/** An admin's token (credentials: operator tokens, kiosk and merchant keys, merchant secrets). */
export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("AdminAuth", { failure, provides: CurrentOperator, security: bearer }) {}
