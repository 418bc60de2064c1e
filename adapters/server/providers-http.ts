import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option, Schema } from "effect"
import { Catalog } from "../../core/catalog.js"
import { EcouponApi } from "../http-api/api.js"
import { makeProblem } from "../http-api/problem.js"
import { CatalogPush } from "../http-api/providers-api.js"
import { MerchantSecrets } from "./credentials/merchant-secrets.js"
import { DELIVERY_HEADER, DELIVERY_ID_FORMAT, SIGNATURE_HEADER, SIGNATURE_WINDOW_MS, signatureMatches, TIMESTAMP_HEADER } from "./credentials/webhook-signature.js"
import { asProblem } from "./problems.js"

/**
 * The catalog webhook. Checked in this order, nothing written before the last: the signature headers
 * are there; the timestamp is within five minutes of the server's clock; the merchant has a secret
 * and the signature over the raw body matches it (one 401 for an unknown merchant and a bad
 * signature alike); the delivery id is new (recorded once, whatever the push's outcome: a retry of a
 * push whose answer was lost is told it was received). Then the body is decoded and applied.
 */
const refused = (detail: string) => makeProblem(401, "signature-refused", "Signature refused", detail)

export const ProvidersHttpLive = HttpApiBuilder.group(EcouponApi, "providers", (handlers) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const secrets = yield* MerchantSecrets
    const catalog = yield* Catalog
    const decodePush = Schema.decodeUnknown(Schema.parseJson(CatalogPush))
    return handlers.handleRaw("pushCatalog", ({ path, request }) =>
      Effect.gen(function* () {
        const timestamp = request.headers[TIMESTAMP_HEADER] ?? ""
        const deliveryId = request.headers[DELIVERY_HEADER] ?? ""
        const signature = request.headers[SIGNATURE_HEADER] ?? ""
        if (!/^\d{1,12}$/.test(timestamp) || !DELIVERY_ID_FORMAT.test(deliveryId) || signature === "") {
          return yield* Effect.fail(refused(`send ${TIMESTAMP_HEADER} (Unix seconds), ${DELIVERY_HEADER} (8-128 of A-Z a-z 0-9 . _ : -) and ${SIGNATURE_HEADER} (v1=<hex HMAC-SHA256 of "<timestamp>.<body>" with the merchant's secret>)`))
        }
        const nowMs = yield* Clock.currentTimeMillis
        if (Math.abs(nowMs - Number(timestamp) * 1000) > SIGNATURE_WINDOW_MS) {
          return yield* Effect.fail(refused(`the timestamp is more than ${SIGNATURE_WINDOW_MS / 60_000} minutes from the server's clock; sign with the current time (check the provider server's clock)`))
        }
        const body = yield* request.text.pipe(Effect.mapError(() => makeProblem(400, "unreadable-body", "Unreadable body", "the body could not be read; send the catalog as JSON")))
        const secret = yield* secrets.secretFor(path.merchantId)
        if (Option.isNone(secret) || !signatureMatches(secret.value, timestamp, body, signature)) {
          return yield* Effect.fail(refused("the signature does not match the body with this merchant's secret; sign exactly the bytes you send, with the secret the operator issued (a rotated secret replaces the old one at once)"))
        }
        const recorded = yield* sql`INSERT INTO webhook_deliveries (merchant_id, delivery_id, received_at_ms) VALUES (${path.merchantId}, ${deliveryId}, ${nowMs})
          ON CONFLICT (merchant_id, delivery_id) DO NOTHING RETURNING delivery_id`.pipe(Effect.orDie)
        if (recorded.length === 0) {
          return yield* Effect.fail(makeProblem(409, "delivery-replayed", "Delivery replayed", `delivery ${deliveryId} was received before; nothing was applied again. A new push needs a new delivery id`))
        }
        const push = yield* decodePush(body).pipe(
          Effect.mapError((error) => makeProblem(400, "invalid-input", "Invalid input", `the catalog does not read as one: ${error.message.slice(0, 1500)}`))
        )
        const sync = yield* catalog.upsertFromProvider(path.merchantId, push.offers, { replace: push.replace ?? false }).pipe(asProblem)
        return yield* HttpServerResponse.json({ offers: sync.offers.length, changed: sync.changed, withdrawn: sync.withdrawn })
      }).pipe(Effect.catchTag("HttpBodyError", () => Effect.die("the answer could not be encoded")))
    )
  })
)
