import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import type { KioskId, MerchantId } from "../../core/domain/ids.js"
import { Kiosks } from "../../core/kiosks.js"
import { Merchants } from "../../core/merchants.js"
import { EcouponApi } from "../http-api/api.js"
import { type ApiKeyRecord, ApiKeys, type IssuedKey } from "./credentials/api-keys.js"
import { MerchantSecrets } from "./credentials/merchant-secrets.js"
import { asProblem } from "./problems.js"

const viewOf = (record: ApiKeyRecord) => ({
  keyId: record.keyId,
  kind: record.kind,
  subject: record.subject,
  role: record.role,
  createdAtMs: record.createdAtMs,
  revokedAtMs: record.revokedAtMs
})
const issuedView = (issued: IssuedKey) => ({ key: viewOf(issued.record), credential: issued.credential })

/** The credentials group (admins): keys and tokens through `ApiKeys`, merchants' secrets through `MerchantSecrets`. */
export const CredentialsHttpLive = HttpApiBuilder.group(EcouponApi, "credentials", (handlers) =>
  Effect.gen(function* () {
    const keys = yield* ApiKeys
    const secrets = yield* MerchantSecrets
    const kiosks = yield* Kiosks
    const merchants = yield* Merchants
    // A key is issued only for a subject that exists.
    const kioskKey = (kioskId: KioskId, rotate: boolean) =>
      Effect.zipRight(asProblem(kiosks.get(kioskId)), Effect.map(rotate ? keys.rotate("kiosk", kioskId) : keys.issue("kiosk", kioskId), issuedView))
    const merchantKey = (merchantId: MerchantId, rotate: boolean) =>
      Effect.zipRight(asProblem(merchants.get(merchantId)), Effect.map(rotate ? keys.rotate("merchant", merchantId) : keys.issue("merchant", merchantId), issuedView))
    return handlers
      .handle("keys", ({ urlParams }) => Effect.map(keys.list(urlParams), (records) => records.map(viewOf)))
      .handle("revokeKey", ({ path }) => Effect.map(asProblem(keys.revoke(path.keyId)), viewOf))
      .handle("issueKioskKey", ({ path }) => kioskKey(path.kioskId, false))
      .handle("rotateKioskKey", ({ path }) => kioskKey(path.kioskId, true))
      .handle("issueMerchantKey", ({ path }) => merchantKey(path.merchantId, false))
      .handle("rotateMerchantKey", ({ path }) => merchantKey(path.merchantId, true))
      .handle("issueMerchantSecret", ({ path }) => asProblem(secrets.issue(path.merchantId)))
      .handle("createToken", ({ payload }) => Effect.map(keys.issue("operator", payload.name, payload.role), issuedView))
  })
)
