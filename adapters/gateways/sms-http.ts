import { HttpClient } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"
import { SmsGateway, type SmsGatewayService } from "../../core/ports/sms-gateway.js"
import { callForJson, idempotencyKeyHeader, joinUrl } from "./http-call.js"
import { bearer, type HttpEndpoint, settingsOf } from "./http-endpoint.js"

/**
 * `SmsGateway` over HTTP. The wire contract (adapters/gateways/README.md):
 *
 *   POST <ECOUPON_SMS_URL>/messages
 *   Authorization: Bearer <ECOUPON_SMS_TOKEN>
 *   Idempotency-Key: <the message's idempotency key>
 *   {"to": "+821012345678", "text": "..."}
 *   -> 2xx {"messageRef": "..."}
 */

const SmsAccepted = Schema.Struct({ messageRef: Schema.String.pipe(Schema.minLength(1)) })

export const makeHttpSms = (endpoint: HttpEndpoint): Effect.Effect<SmsGatewayService, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (client): SmsGatewayService => {
    const settings = settingsOf("sms gateway", endpoint)
    return {
      send: (message) =>
        callForJson(client, settings, {
          method: "POST",
          url: joinUrl(endpoint.url, "messages"),
          headers: { ...bearer(endpoint), [idempotencyKeyHeader]: message.idempotencyKey },
          body: JSON.stringify({ to: message.to, text: message.text })
        }, SmsAccepted).pipe(Effect.withSpan("HttpSms.send"))
    }
  })

export const HttpSmsLive = (endpoint: HttpEndpoint): Layer.Layer<SmsGateway, never, HttpClient.HttpClient> =>
  Layer.effect(SmsGateway, makeHttpSms(endpoint))
