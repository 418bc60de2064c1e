import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { KioskId, MerchantId } from "../../core/domain/ids.js"
import { AdminAuth, OperatorRole } from "./security.js"

/**
 * The admins' group: kiosk keys, merchant keys, operator tokens and merchants' HMAC secrets. A key,
 * token or secret is in the answer that makes it and nowhere else, ever; the server keeps a hash (or,
 * for a merchant's secret, a sealed copy). `issue` adds a key beside the subject's others (move the
 * kiosk over, then revoke the old one); `rotate` issues one and revokes every other of the subject at
 * once.
 */
export const ApiKeyView = Schema.Struct({
  keyId: Schema.String,
  kind: Schema.Literal("kiosk", "merchant", "operator"),
  subject: Schema.String,
  role: Schema.NullOr(OperatorRole),
  createdAtMs: Schema.Int,
  revokedAtMs: Schema.NullOr(Schema.Int)
})
export const IssuedCredential = Schema.Struct({
  key: ApiKeyView,
  /** Shown this once. */
  credential: Schema.String
})
export const NewToken = Schema.Struct({ name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)), role: OperatorRole })
export const IssuedSecret = Schema.Struct({
  merchantId: MerchantId,
  version: Schema.Int,
  /** Shown this once: give it to the merchant for their provider server. */
  secret: Schema.String
})
export const KeyFilter = Schema.Struct({ kind: Schema.optional(Schema.Literal("kiosk", "merchant", "operator")), subject: Schema.optional(Schema.String.pipe(Schema.maxLength(100))) })

const kioskPath = Schema.Struct({ kioskId: KioskId })
const merchantPath = Schema.Struct({ merchantId: MerchantId })

export class CredentialsApi extends HttpApiGroup.make("credentials")
  .add(HttpApiEndpoint.get("keys", "/keys").setUrlParams(KeyFilter).addSuccess(Schema.Array(ApiKeyView)))
  .add(HttpApiEndpoint.post("revokeKey", "/keys/:keyId/revoke").setPath(Schema.Struct({ keyId: Schema.String.pipe(Schema.maxLength(40)) })).addSuccess(ApiKeyView))
  .add(HttpApiEndpoint.post("issueKioskKey", "/kiosks/:kioskId/keys").setPath(kioskPath).addSuccess(IssuedCredential))
  .add(HttpApiEndpoint.post("rotateKioskKey", "/kiosks/:kioskId/keys/rotate").setPath(kioskPath).addSuccess(IssuedCredential))
  .add(HttpApiEndpoint.post("issueMerchantKey", "/merchants/:merchantId/keys").setPath(merchantPath).addSuccess(IssuedCredential))
  .add(HttpApiEndpoint.post("rotateMerchantKey", "/merchants/:merchantId/keys/rotate").setPath(merchantPath).addSuccess(IssuedCredential))
  .add(HttpApiEndpoint.post("issueMerchantSecret", "/merchants/:merchantId/secret").setPath(merchantPath).addSuccess(IssuedSecret))
  .add(HttpApiEndpoint.post("createToken", "/tokens").setPayload(NewToken).addSuccess(IssuedCredential))
  .middleware(AdminAuth)
  .prefix("/v1/ops")
  .annotate(OpenApi.Description, "Admins only: kiosk and merchant keys, operator tokens, merchants' webhook secrets (each shown once)")
{}
