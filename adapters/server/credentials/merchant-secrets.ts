import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option, Schema } from "effect"
import type { MerchantId } from "../../../core/domain/ids.js"
import { Merchants } from "../../../core/merchants.js"
import { firstRow } from "../../../core/rows.js"
import { DbInt } from "../../../core/domain/points.js"
import { MasterKey } from "./master-key.js"
import { newMerchantSecret } from "./webhook-signature.js"

/**
 * Each merchant's HMAC secret (table `merchant_secrets`), sealed with the master key and bound to the
 * merchant's id. `issue` makes one (or replaces the one there: a rotation, effective at once) and
 * answers it once; `secretFor` recovers it, for checking the merchant's webhook signatures and for
 * signing the order submissions sent to its provider server (the ProviderGateway's HTTP layer asks
 * here).
 */
const Row = Schema.Struct({ merchant_id: Schema.String, version: DbInt, sealed: Schema.String, created_at_ms: DbInt })

export interface IssuedSecret {
  readonly merchantId: MerchantId
  readonly version: number
  readonly secret: string
}

export class MerchantSecrets extends Effect.Service<MerchantSecrets>()("ecoupon/server/MerchantSecrets", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const key = yield* MasterKey
    const merchants = yield* Merchants
    const first = firstRow(Row)

    const find = (merchantId: MerchantId) => sql`SELECT * FROM merchant_secrets WHERE merchant_id = ${merchantId}`.pipe(Effect.orDie, Effect.flatMap(first))

    /** A new secret for the merchant, replacing any it had. */
    const issue = (merchantId: MerchantId) =>
      Effect.gen(function* () {
        yield* merchants.get(merchantId)
        const secret = newMerchantSecret()
        const sealed = key.seal(secret, merchantId)
        const nowMs = yield* Clock.currentTimeMillis
        const version = yield* sql.withTransaction(
          Effect.gen(function* () {
            const existing = yield* find(merchantId)
            const next = Option.match(existing, { onNone: () => 1, onSome: (row) => row.version + 1 })
            if (Option.isNone(existing)) {
              yield* sql`INSERT INTO merchant_secrets (merchant_id, version, sealed, created_at_ms) VALUES (${merchantId}, ${next}, ${sealed}, ${nowMs})`
            } else {
              yield* sql`UPDATE merchant_secrets SET version = ${next}, sealed = ${sealed}, created_at_ms = ${nowMs} WHERE merchant_id = ${merchantId}`
            }
            return next
          })
        ).pipe(Effect.orDie)
        return { merchantId, version, secret } satisfies IssuedSecret
      }).pipe(Effect.withSpan("MerchantSecrets.issue"))

    /** The merchant's secret, if it has one. A sealed secret that does not open (another master key) is a defect. */
    const secretFor = (merchantId: MerchantId): Effect.Effect<Option.Option<string>> =>
      find(merchantId).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(Option.none()),
          onSome: (row) => Effect.try({ try: () => Option.some(key.open(row.sealed, merchantId)), catch: () => new Error(`the secret of merchant ${merchantId} does not open with this server's master key; is ECOUPON_MASTER_KEY the one it was sealed with?`) }).pipe(Effect.orDie)
        })),
        Effect.withSpan("MerchantSecrets.secretFor")
      )

    const revoke = (merchantId: MerchantId) => sql`DELETE FROM merchant_secrets WHERE merchant_id = ${merchantId}`.pipe(Effect.orDie, Effect.asVoid)

    return { issue, secretFor, revoke } as const
  })
}) {}
