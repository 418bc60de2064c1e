import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { Clock, Context, Effect, Option, Random, Schema } from "effect"
import {
  OutboxId,
  OutboxKinds,
  OutboxMessage,
  outboxMessageFromRow,
  OutboxMessageNotDead,
  OutboxMessageNotFound,
  OutboxRow,
  type OutboxState
} from "./domain/outbox.js"
import { newId } from "./id-generator.js"
import { timeoutUnlessImmediate } from "./outbox-timeout.js"
import type { OutboxCompletion, OutboxDelivery, OutboxHandler, OutboxSendOutcome } from "./outbox-handlers.js"
import { traced } from "./traced.js"

/** Limits of the outbox worker. Every one of them bounds something that would otherwise grow. */
export interface OutboxSettings {
  /** Most rows one `dispatchDue` claims, whatever the caller asks for. */
  readonly batchMax: number
  /** Attempts before a message that keeps finding its service unavailable is declared dead. */
  readonly attemptsMax: number
  readonly backoffBaseMs: number
  readonly backoffCapMs: number
  /** How long a claimed row stays with its worker; if the worker dies, the row is due again after. */
  readonly leaseMs: number
  /** A send that takes longer counts as the service being unavailable. Must be shorter than the lease. */
  readonly sendTimeoutMs: number
  /** Most sends in flight at once within one batch. */
  readonly concurrencyMax: number
}

export const defaultOutboxSettings: OutboxSettings = {
  batchMax: 100,
  attemptsMax: 8,
  backoffBaseMs: 1_000,
  backoffCapMs: 5 * 60_000,
  leaseMs: 2 * 60_000,
  sendTimeoutMs: 30_000,
  concurrencyMax: 16
}

/** Provide a value to change the worker's limits; the defaults apply otherwise. */
export class OutboxConfig extends Context.Reference<OutboxConfig>()("ecoupon/OutboxConfig", {
  defaultValue: (): OutboxSettings => defaultOutboxSettings
}) {}

const KIND_LENGTH_MAX = 64
const KEY_LENGTH_MAX = 200
const ERROR_LENGTH_MAX = 1_000
const clip = (text: string): string => (text.length > ERROR_LENGTH_MAX ? `${text.slice(0, ERROR_LENGTH_MAX)}…` : text)

export interface EnqueueRequest {
  readonly kind: string
  /** Unique across the outbox and passed to the outside service: the same key twice is sent once. */
  readonly idempotencyKey: string
  /** Anything JSON can carry; the kind's handler decodes it. */
  readonly payload: unknown
}

export interface DispatchOptions<R> {
  /** One handler per kind this worker sends; rows of other kinds are left for other workers. */
  readonly handlers: Readonly<Record<string, OutboxHandler<R>>>
  /** Rows to claim, at most `batchMax`. */
  readonly limit?: number | undefined
  /** Sends in flight at once, at most `concurrencyMax`; 1 by default. */
  readonly concurrency?: number | undefined
}

export interface DispatchSummary {
  readonly claimed: number
  readonly sent: number
  readonly retried: number
  readonly dead: number
  /** The row's lease ran out and another worker took it over; this worker wrote nothing. */
  readonly leaseLost: number
  /** A handler or completion died; the row stays leased and comes due again when the lease ends. */
  readonly failed: number
}

type RowOutcome = keyof Omit<DispatchSummary, "claimed">

/** A row sent whose finish waits for the rest of its batch. */
interface SentRow {
  readonly message: OutboxMessage
  readonly payload: string
  readonly result: string
  readonly sentAtMs: number
}

/** The rows of one claim sent so far and not yet finished, and the effect that finishes them. */
interface SentBatch {
  readonly claimedAtMs: number
  readonly rows: Array<SentRow>
  readonly flush: Effect.Effect<void>
}

export const OUTBOX_LIST_MAX = 1000

/** The most a retry waits after attempt `attempt` (1-based): exponential from the base, capped. */
export const backoffCeilingMs = (settings: OutboxSettings, attempt: number): number =>
  Math.min(settings.backoffCapMs, settings.backoffBaseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30))

/**
 * The outbox (DESIGN §6): everything that leaves the system is written here in the transaction of the
 * change that causes it, then sent by `dispatchDue` with retries. A worker leases the rows it claims
 * (`next_attempt_ms` moves a lease ahead, `attempts` counts the claim) and talks to the outside world
 * outside any transaction; the row is finished only if it is still that worker's lease, so a worker
 * that stalls past its lease cannot overwrite the one that took over. Rows sent with nothing to run on
 * completion (a handler without `onSent`, such as the SMS one) are finished together when their batch
 * is done, in one statement, or each at once past half the lease. Delivery is at least
 * once; the idempotency key makes it once in effect at the service.
 */
export class Outbox extends Effect.Service<Outbox>()("ecoupon/Outbox", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const settings = yield* OutboxConfig
    const decodeRows = Schema.decodeUnknown(Schema.Array(OutboxRow))
    const decodeIds = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: OutboxId })))
    const rowsToMessages = (rows: ReadonlyArray<unknown>) =>
      decodeRows(rows).pipe(Effect.map((decoded) => decoded.map(outboxMessageFromRow)), Effect.orDie)

    /** Joins the caller's transaction when there is one: the message commits with its cause or not at all. */
    const enqueue = (request: EnqueueRequest): Effect.Effect<{ readonly id: OutboxId; readonly created: boolean }> =>
      Effect.gen(function* () {
        const { kind, idempotencyKey } = request
        // Bad kinds and keys come from code, not from users: they are bugs, so defects.
        if (kind.length === 0 || kind.length > KIND_LENGTH_MAX) return yield* Effect.dieMessage(`outbox kind "${kind}" must be 1 to ${KIND_LENGTH_MAX} characters`)
        if (idempotencyKey.length === 0 || idempotencyKey.length > KEY_LENGTH_MAX) {
          return yield* Effect.dieMessage(`outbox idempotency key must be 1 to ${KEY_LENGTH_MAX} characters, got ${idempotencyKey.length}`)
        }
        const payload = JSON.stringify(request.payload)
        if (payload === undefined) return yield* Effect.dieMessage(`outbox payload of kind ${kind} is not JSON`)
        const id = OutboxId.make(yield* newId("obx"))
        const now = yield* Clock.currentTimeMillis
        const inserted = yield* sql`
          INSERT INTO outbox (id, kind, idempotency_key, payload, state, attempts, next_attempt_ms, created_at_ms)
          VALUES (${id}, ${kind}, ${idempotencyKey}, ${payload}, 'pending', 0, ${now}, ${now})
          ON CONFLICT (idempotency_key) DO NOTHING
          RETURNING id`.pipe(Effect.orDie)
        if (inserted.length > 0) return { id, created: true }
        const existing = yield* sql`SELECT id FROM outbox WHERE idempotency_key = ${idempotencyKey}`.pipe(
          Effect.flatMap(decodeIds),
          Effect.orDie
        )
        const first = existing[0]
        if (first === undefined) return yield* Effect.dieMessage(`outbox key ${idempotencyKey} conflicted but is not there`)
        return { id: first.id, created: false }
      }).pipe(traced("Outbox.enqueue", { attributes: { kind: request.kind } }))

    const claim = (kinds: ReadonlyArray<string>, limit: number) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        // PostgreSQL: concurrent workers skip each other's rows instead of queueing on them. sql.js
        // has a single writer, so there is nothing to skip.
        const lock = sql.onDialectOrElse({ pg: () => sql`FOR UPDATE SKIP LOCKED`, orElse: () => sql`` })
        const rows = yield* sql`
          UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ${now + settings.leaseMs}
          WHERE id IN (
            SELECT id FROM outbox
            WHERE state = 'pending' AND next_attempt_ms <= ${now} AND kind IN ${sql.in(kinds)}
            ORDER BY next_attempt_ms, id
            LIMIT ${limit}
            ${lock})
          RETURNING *`.pipe(Effect.orDie)
        const messages = yield* rowsToMessages(rows)
        // RETURNING has no order; oldest first keeps sends roughly in the order they were caused.
        return [...messages].sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      })
    // One statement, atomic on its own: no transaction around it (a BEGIN and COMMIT per claim saved).

    /**
     * Finishes a row if this worker still holds its lease; runs the completion in the same transaction.
     * A completion without an effect (an SMS) is the UPDATE alone, which needs no transaction; when
     * sent, such rows are finished together at the end of their batch (`finishSent`).
     */
    const finish = <R>(
      message: OutboxMessage,
      state: OutboxState,
      fields: { readonly result: string | null; readonly error: string | null; readonly completion: OutboxCompletion<R> }
    ): Effect.Effect<boolean, never, R> => {
      const completion = fields.completion.effect
      const finishRow = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const sentAt = state === "sent" ? now : null
        const updated = yield* sql`
          UPDATE outbox SET state = ${state}, payload = ${fields.completion.payload}, result = ${fields.result},
            last_error = ${fields.error}, sent_at_ms = ${sentAt}
          WHERE id = ${message.id} AND state = 'pending' AND attempts = ${message.attempts}
          RETURNING id`.pipe(Effect.orDie)
        if (updated.length === 0) return false
        if (completion !== undefined) yield* completion
        return true
      })
      return completion === undefined ? finishRow : finishRow.pipe(sql.withTransaction, Effect.orDie)
    }

    /**
     * Finishes sent rows that have no completion effect, each if this worker still holds its lease, in
     * one statement however many there are (each row keeps its own payload, result and time sent).
     * Answers how many it finished; the rest had lost their lease.
     */
    const finishSent = (rows: ReadonlyArray<SentRow>): Effect.Effect<number> => {
      const only = rows[0]
      if (only === undefined) return Effect.succeed(0)
      if (rows.length === 1) {
        return Effect.map(finish(only.message, "sent", { result: only.result, error: null, completion: { payload: only.payload } }), (won) => (won ? 1 : 0))
      }
      const byId = (value: (row: SentRow) => Fragment) => sql`CASE id ${sql.join(" ", false)(rows.map((row) => sql`WHEN ${row.message.id} THEN ${value(row)}`))} END`
      return sql`
        UPDATE outbox SET state = 'sent', payload = ${byId((row) => sql`${row.payload}`)}, result = ${byId((row) => sql`${row.result}`)},
          last_error = NULL, sent_at_ms = ${byId((row) => sql`CAST(${row.sentAtMs} AS BIGINT)`)}
        WHERE state = 'pending' AND ${sql.or(rows.map((row) => sql`(id = ${row.message.id} AND attempts = ${row.message.attempts})`))}
        RETURNING id`.pipe(Effect.orDie, Effect.map((finished) => finished.length))
    }

    const scheduleRetry = (message: OutboxMessage, error: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        // Half the ceiling fixed, half drawn: workers that failed together do not retry together.
        const ceiling = backoffCeilingMs(settings, message.attempts)
        const delay = Math.floor(ceiling / 2) + (yield* Random.nextIntBetween(0, Math.ceil(ceiling / 2) + 1))
        const updated = yield* sql`
          UPDATE outbox SET next_attempt_ms = ${now + delay}, last_error = ${error}
          WHERE id = ${message.id} AND state = 'pending' AND attempts = ${message.attempts}
          RETURNING id`.pipe(Effect.orDie)
        return updated.length > 0
      })

    const deliver = <R>(message: OutboxMessage, handler: OutboxHandler<R>, batch: SentBatch): Effect.Effect<RowOutcome | "batched", never, R> =>
      Effect.gen(function* () {
        // Past half the lease, rows sent are finished at once, as they would be without a batch.
        const lateInLease = Effect.map(Clock.currentTimeMillis, (now) => now - batch.claimedAtMs >= settings.leaseMs / 2)
        if (batch.rows.length > 0 && (yield* lateInLease)) yield* batch.flush
        const delivery: OutboxDelivery = { id: message.id, kind: message.kind, idempotencyKey: message.idempotencyKey, attempt: message.attempts }
        // Most sends answer without waiting: no timer and no race for those (outbox-timeout.ts).
        const outcome = yield* timeoutUnlessImmediate(handler.send(message.payload, delivery), {
          duration: settings.sendTimeoutMs,
          onSuccess: (outcome): OutboxSendOutcome<R> => outcome,
          onTimeout: (): OutboxSendOutcome<R> => ({ _tag: "Unavailable", error: `no answer within ${settings.sendTimeoutMs} ms` })
        })
        const die = (error: string) =>
          Effect.map(finish(message, "dead", { result: null, error, completion: handler.giveUp(message.payload, error, delivery) }), (won): RowOutcome => (won ? "dead" : "leaseLost"))
        switch (outcome._tag) {
          case "Sent": {
            if (outcome.completion.effect === undefined) {
              // Finished with the batch's other such rows, in one statement.
              batch.rows.push({ message, payload: outcome.completion.payload, result: outcome.result, sentAtMs: yield* Clock.currentTimeMillis })
              if (yield* lateInLease) yield* batch.flush
              return "batched"
            }
            const won = yield* finish(message, "sent", { result: outcome.result, error: null, completion: outcome.completion })
            return won ? "sent" : "leaseLost"
          }
          case "Rejected":
            return yield* die(clip(outcome.error))
          case "Unavailable": {
            const error = clip(outcome.error)
            if (message.attempts >= settings.attemptsMax) return yield* die(`gave up after ${message.attempts} attempts: ${error}`)
            return (yield* scheduleRetry(message, error)) ? "retried" : "leaseLost"
          }
        }
      }).pipe(
        // A bug in a handler must not stop the batch; the row's lease runs out and it is tried again,
        // still bounded by attemptsMax.
        Effect.catchAllDefect((defect) =>
          Effect.as(Effect.logError(`outbox ${message.kind} ${message.id} attempt ${message.attempts} died`, defect), "failed" as const)
        )
      )

    const dispatchDue = <R = never>(options: DispatchOptions<R>): Effect.Effect<DispatchSummary, never, R> =>
      Effect.gen(function* () {
        const kinds = Object.keys(options.handlers)
        const limit = Math.min(Math.max(1, Math.floor(options.limit ?? settings.batchMax)), settings.batchMax)
        const concurrency = Math.min(Math.max(1, Math.floor(options.concurrency ?? 1)), settings.concurrencyMax)
        const summary = { claimed: 0, sent: 0, retried: 0, dead: 0, leaseLost: 0, failed: 0 }
        if (kinds.length === 0) return summary
        const claimedAtMs = yield* Clock.currentTimeMillis
        const messages = yield* claim(kinds, limit)
        summary.claimed = messages.length
        const batch: SentBatch = {
          claimedAtMs,
          rows: [],
          flush: Effect.suspend(() => {
            // Taken before the statement runs: sends still in flight add to a fresh list.
            const rows = batch.rows.splice(0)
            return finishSent(rows).pipe(
              Effect.map((won) => {
                summary.sent += won
                summary.leaseLost += rows.length - won
              }),
              // As for one row: the rows stay leased and come due again when the lease ends.
              Effect.catchAllDefect((defect) =>
                Effect.zipRight(Effect.logError(`outbox: finishing ${rows.length} sent rows died`, defect), Effect.sync(() => void (summary.failed += rows.length)))
              )
            )
          })
        }
        const outcomes = yield* Effect.forEach(
          messages,
          (message) => {
            const handler = options.handlers[message.kind]
            // The claim asked only for kinds in the map.
            return handler === undefined ? Effect.succeed<RowOutcome>("failed") : deliver(message, handler, batch)
          },
          { concurrency }
        ).pipe(
          // Interrupted (the worker stops), what was sent is still finished: it is not sent again.
          Effect.onInterrupt(() => batch.flush)
        )
        yield* batch.flush
        for (const outcome of outcomes) if (outcome !== "batched") summary[outcome] += 1
        return summary
      }).pipe(traced("Outbox.dispatchDue"))

    /** Dispatches for ever: straight on while batches come back full, resting `idleMs` otherwise. */
    const run = <R = never>(options: DispatchOptions<R> & { readonly idleMs: number }): Effect.Effect<never, never, R> => {
      const limit = Math.min(Math.max(1, Math.floor(options.limit ?? settings.batchMax)), settings.batchMax)
      return dispatchDue({ ...options, limit }).pipe(
        Effect.flatMap((summary) => (summary.claimed < limit ? Effect.sleep(Math.max(1, options.idleMs)) : Effect.void)),
        Effect.forever
      )
    }

    const get = (id: OutboxId): Effect.Effect<OutboxMessage, OutboxMessageNotFound> =>
      sql`SELECT * FROM outbox WHERE id = ${id}`.pipe(
        Effect.orDie,
        Effect.flatMap(rowsToMessages),
        Effect.flatMap((messages) => (messages[0] === undefined ? Effect.fail(new OutboxMessageNotFound({ id })) : Effect.succeed(messages[0]))),
        traced("Outbox.get")
      )

    const findByKey = (idempotencyKey: string): Effect.Effect<Option.Option<OutboxMessage>> =>
      sql`SELECT * FROM outbox WHERE idempotency_key = ${idempotencyKey}`.pipe(
        Effect.orDie,
        Effect.flatMap(rowsToMessages),
        Effect.map((messages) => Option.fromNullable(messages[0])),
        traced("Outbox.findByKey")
      )

    /** Oldest first. */
    const list = (filter: { readonly state?: OutboxState; readonly kind?: string; readonly limit?: number } = {}) => {
      const limit = Math.min(Math.max(1, filter.limit ?? 100), OUTBOX_LIST_MAX)
      const clauses = [
        ...(filter.state === undefined ? [] : [sql`state = ${filter.state}`]),
        ...(filter.kind === undefined ? [] : [sql`kind = ${filter.kind}`])
      ]
      const where = clauses.length === 0 ? sql`` : sql`WHERE ${sql.and(clauses)}`
      return sql`SELECT * FROM outbox ${where} ORDER BY created_at_ms, id LIMIT ${limit}`.pipe(
        Effect.orDie,
        Effect.flatMap(rowsToMessages),
        traced("Outbox.list")
      )
    }

    /** An operator sends a dead message again, from a fresh attempt count. */
    const retry = (id: OutboxId): Effect.Effect<OutboxMessage, OutboxMessageNotFound | OutboxMessageNotDead> =>
      Effect.gen(function* () {
        const message = yield* get(id)
        if (message.state !== "dead") return yield* new OutboxMessageNotDead({ id, state: message.state })
        const now = yield* Clock.currentTimeMillis
        yield* sql`UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ${now} WHERE id = ${id} AND state = 'dead'`.pipe(Effect.orDie)
        return yield* get(id)
      }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die), traced("Outbox.retry"))

    return { enqueue, dispatchDue, run, get, findByKey, list, retry } as const
  })
}) {}

export { OutboxKinds }
export { outboxHandler, smsHandler } from "./outbox-handlers.js"
export type { OutboxCompletion, OutboxDelivery, OutboxHandler, OutboxHandlerDefinition, OutboxSendOutcome } from "./outbox-handlers.js"
