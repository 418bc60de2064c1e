import { HttpClient } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"
import { CarrierBilling, type CarrierBillingService } from "../../core/ports/carrier-billing.js"
import { callForAcknowledgement, callForJson, idempotencyKeyHeader, joinUrl } from "./http-call.js"
import { bearer, type HttpEndpoint, settingsOf } from "./http-endpoint.js"

/**
 * `CarrierBilling` over HTTP: one resource per charge, named by its correlator (README: wire contracts).
 *
 *   POST <ECOUPON_CARRIER_URL>/charges                         {"correlator","phone","amount","description"} -> {"authorisation"}
 *   POST <ECOUPON_CARRIER_URL>/charges/<correlator>/confirm    {}
 *   POST <ECOUPON_CARRIER_URL>/charges/<correlator>/cancel     {}
 *   POST <ECOUPON_CARRIER_URL>/charges/<correlator>/refund     {"amount"}
 *
 * Every call carries `Authorization: Bearer <ECOUPON_CARRIER_TOKEN>` and `Idempotency-Key`: the
 * correlator for prepare, `<correlator>:confirm|cancel|refund` for the others, so each step of one
 * charge is its own idempotent request. The carrier must answer a replay as it answered the first
 * call, and must bar a correlator whose cancel arrived before its prepare (a late, retried prepare
 * must not charge anyone): the semantics of the port, which the sim carrier shows.
 */

const Prepared = Schema.Struct({ authorisation: Schema.String.pipe(Schema.minLength(1)) })

export const makeHttpCarrier = (endpoint: HttpEndpoint): Effect.Effect<CarrierBillingService, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (client): CarrierBillingService => {
    const settings = settingsOf("carrier billing", endpoint)
    const step = (correlator: string, action: "confirm" | "cancel" | "refund", body: object) =>
      callForAcknowledgement(client, settings, {
        method: "POST",
        url: joinUrl(endpoint.url, `charges/${encodeURIComponent(correlator)}/${action}`),
        headers: { ...bearer(endpoint), [idempotencyKeyHeader]: `${correlator}:${action}` },
        body: JSON.stringify(body)
      })
    return {
      prepare: (charge) =>
        callForJson(client, settings, {
          method: "POST",
          url: joinUrl(endpoint.url, "charges"),
          headers: { ...bearer(endpoint), [idempotencyKeyHeader]: charge.correlator },
          body: JSON.stringify({ correlator: charge.correlator, phone: charge.phone, amount: charge.amount, description: charge.description })
        }, Prepared).pipe(Effect.withSpan("HttpCarrier.prepare")),
      confirm: (correlator) => step(correlator, "confirm", {}).pipe(Effect.withSpan("HttpCarrier.confirm")),
      cancel: (correlator) => step(correlator, "cancel", {}).pipe(Effect.withSpan("HttpCarrier.cancel")),
      refund: (correlator, amount) => step(correlator, "refund", { amount }).pipe(Effect.withSpan("HttpCarrier.refund"))
    }
  })

export const HttpCarrierLive = (endpoint: HttpEndpoint): Layer.Layer<CarrierBilling, never, HttpClient.HttpClient> =>
  Layer.effect(CarrierBilling, makeHttpCarrier(endpoint))
