import { Effect, Option, Schema } from "effect"
import { maskPhone } from "./domain/ids.js"
import type { OutboxId } from "./domain/outbox.js"
import { SmsPayload } from "./domain/outbox.js"
import { SmsGateway } from "./ports/sms-gateway.js"
import type { ServiceRejected, ServiceUnavailable } from "./ports/service-errors.js"

/**
 * Handlers for the outbox worker: one per kind, each decoding its payload, calling its outside
 * service, and saying what to keep and run when the message is finished. The orders, cards and
 * settlement services build theirs with `outboxHandler`; the `sms` one is here.
 */

/** Which message a handler is sending, and which attempt this is (1 for the first). */
export interface OutboxDelivery {
  readonly id: OutboxId
  readonly kind: string
  readonly idempotencyKey: string
  readonly attempt: number
}

/**
 * What the worker writes when a message is finished, and the handler's effect run in that transaction.
 * Without an effect the row is finished by one statement and needs no transaction of its own.
 */
export interface OutboxCompletion<R> {
  readonly payload: string
  readonly effect?: Effect.Effect<void, never, R> | undefined
}

export type OutboxSendOutcome<R> =
  | { readonly _tag: "Sent"; readonly result: string; readonly completion: OutboxCompletion<R> }
  | { readonly _tag: "Unavailable"; readonly error: string }
  | { readonly _tag: "Rejected"; readonly error: string }

/**
 * A handler for one kind, with its payload type erased so handlers of different kinds fit in one map.
 * Build one with `outboxHandler`.
 */
export interface OutboxHandler<R> {
  readonly send: (payload: string, delivery: OutboxDelivery) => Effect.Effect<OutboxSendOutcome<R>, never, R>
  readonly giveUp: (payload: string, reason: string, delivery: OutboxDelivery) => OutboxCompletion<R>
}

export interface OutboxHandlerDefinition<A, I, B, R> {
  readonly payload: Schema.Schema<A, I, never>
  /** Calls the outside service. `delivery.idempotencyKey` must go with the call. */
  readonly send: (payload: A, delivery: OutboxDelivery) => Effect.Effect<B, ServiceUnavailable | ServiceRejected, R>
  /** Runs in the transaction that marks the message sent (e.g. record the provider's acknowledgement). */
  readonly onSent?: ((payload: A, result: B, delivery: OutboxDelivery) => Effect.Effect<void, never, R>) | undefined
  /** Runs in the transaction that marks the message dead (e.g. flag the order for an operator). */
  readonly onDead?: ((payload: A, reason: string, delivery: OutboxDelivery) => Effect.Effect<void, never, R>) | undefined
  /** What to keep of the payload once the message is finished: an SMS need not keep its code. */
  readonly redact?: ((payload: A) => unknown) | undefined
}

const toJson = (value: unknown): string => JSON.stringify(value) ?? "null"

/** Types a handler for one kind: decodes the payload, sends it, and says what to store when done. */
export const outboxHandler = <A, I, B, R = never>(definition: OutboxHandlerDefinition<A, I, B, R>): OutboxHandler<R> => {
  const decode = Schema.decodeUnknownOption(Schema.parseJson(definition.payload))
  const finished = (payloadJson: string, payload: A): string =>
    definition.redact === undefined ? payloadJson : toJson(definition.redact(payload))
  return {
    send: (payloadJson, delivery) => {
      const payload = decode(payloadJson)
      if (Option.isNone(payload)) {
        return Effect.succeed({ _tag: "Rejected", error: `payload does not match the ${delivery.kind} handler's schema` })
      }
      return definition.send(payload.value, delivery).pipe(
        Effect.map((result): OutboxSendOutcome<R> => ({
          _tag: "Sent",
          result: toJson(result),
          completion: {
            payload: finished(payloadJson, payload.value),
            effect: definition.onSent === undefined ? undefined : definition.onSent(payload.value, result, delivery)
          }
        })),
        Effect.catchTags({
          ServiceUnavailable: (error) => Effect.succeed<OutboxSendOutcome<R>>({ _tag: "Unavailable", error: error.message }),
          ServiceRejected: (error) => Effect.succeed<OutboxSendOutcome<R>>({ _tag: "Rejected", error: error.message })
        })
      )
    },
    giveUp: (payloadJson, reason, delivery) => {
      const payload = decode(payloadJson)
      // An undecodable payload has nothing to redact from and nobody to tell: it is kept as it came.
      if (Option.isNone(payload)) return { payload: payloadJson }
      return {
        payload: finished(payloadJson, payload.value),
        effect: definition.onDead === undefined ? undefined : definition.onDead(payload.value, reason, delivery)
      }
    }
  }
}

/**
 * The `sms` handler over the `SmsGateway` port. Once sent or dead, the row keeps only the masked number
 * and no text, so the one-time code does not outlive its delivery in the database.
 */
export const smsHandler: OutboxHandler<SmsGateway> = outboxHandler({
  payload: SmsPayload,
  send: (payload, delivery) =>
    Effect.flatMap(SmsGateway, (gateway) => gateway.send({ idempotencyKey: delivery.idempotencyKey, to: payload.to, text: payload.text })),
  redact: (payload) => ({ to: maskPhone(payload.to), text: null })
})
