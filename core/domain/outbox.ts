import { Schema } from "effect"
import { PhoneNumber } from "./ids.js"
import { DbInt } from "./points.js"

/** An outbox row's own id (the outside service sees the idempotency key instead). */
export const OutboxId = Schema.String.pipe(
  Schema.pattern(/^obx_[A-Za-z0-9_-]{1,64}$/, { message: () => `expected an OutboxId like "obx_abc123"` }),
  Schema.brand("OutboxId")
)
export type OutboxId = typeof OutboxId.Type

/**
 * What leaves the system. The four kinds the schema was made for; the column is free text, so a new
 * kind needs only a handler registered with the worker.
 */
export const OutboxKinds = {
  sms: "sms",
  providerOrder: "provider_order",
  carrierCharge: "carrier_charge",
  payout: "payout"
} as const

/** pending: waiting or leased to a worker; sent: the service accepted it; dead: gave up. */
export const OutboxState = Schema.Literal("pending", "sent", "dead")
export type OutboxState = typeof OutboxState.Type

export class OutboxMessage extends Schema.Class<OutboxMessage>("OutboxMessage")({
  id: OutboxId,
  kind: Schema.String,
  idempotencyKey: Schema.String,
  /** JSON text. Handlers may redact it once the message is sent or dead (an SMS loses its code). */
  payload: Schema.String,
  state: OutboxState,
  attempts: Schema.Int,
  nextAttemptMs: Schema.Int,
  lastError: Schema.NullOr(Schema.String),
  /** JSON text of what the service answered, once sent. */
  result: Schema.NullOr(Schema.String),
  createdAtMs: Schema.Int,
  sentAtMs: Schema.NullOr(Schema.Int)
}) {}

export const OutboxRow = Schema.Struct({
  id: OutboxId,
  kind: Schema.String,
  idempotency_key: Schema.String,
  payload: Schema.String,
  state: OutboxState,
  attempts: DbInt,
  next_attempt_ms: DbInt,
  last_error: Schema.NullOr(Schema.String),
  result: Schema.NullOr(Schema.String),
  created_at_ms: DbInt,
  sent_at_ms: Schema.NullOr(DbInt)
})

export const outboxMessageFromRow = (row: typeof OutboxRow.Type): OutboxMessage =>
  new OutboxMessage({
    id: row.id,
    kind: row.kind,
    idempotencyKey: row.idempotency_key,
    payload: row.payload,
    state: row.state,
    attempts: row.attempts,
    nextAttemptMs: row.next_attempt_ms,
    lastError: row.last_error,
    result: row.result,
    createdAtMs: row.created_at_ms,
    sentAtMs: row.sent_at_ms
  }, true)

/** The payload of an `sms` row: where to and what to say. */
export const SmsPayload = Schema.Struct({ to: PhoneNumber, text: Schema.String })
export type SmsPayload = typeof SmsPayload.Type

export class OutboxMessageNotFound extends Schema.TaggedError<OutboxMessageNotFound>()("OutboxMessageNotFound", {
  id: Schema.String
}) {
  override get message() {
    return `no outbox message ${this.id}; list the dead messages to find the one to retry`
  }
}

export class OutboxMessageNotDead extends Schema.TaggedError<OutboxMessageNotDead>()("OutboxMessageNotDead", {
  id: OutboxId,
  state: OutboxState
}) {
  override get message() {
    return `outbox message ${this.id} is ${this.state}, not dead; only a message the worker gave up on can be retried`
  }
}
