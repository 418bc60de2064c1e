import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Option, Ref, Schema, TestClock, TestServices } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { OutboxId } from "./domain/outbox.js"
import { backoffCeilingMs, defaultOutboxSettings, Outbox, OutboxConfig, outboxHandler, type OutboxSettings } from "./outbox.js"
import { ServiceRejected, ServiceUnavailable } from "./ports/service-errors.js"
import { onFreshStore } from "./testing/fresh-store.js"

const settings: OutboxSettings = { ...defaultOutboxSettings, attemptsMax: 3, batchMax: 10 }
const Ping = Schema.Struct({ n: Schema.Number })

const rows = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const found = yield* sql`SELECT idempotency_key, state, attempts, next_attempt_ms, last_error, result, payload FROM outbox ORDER BY idempotency_key`
  return found.map((row) => ({
    key: String(row["idempotency_key"]),
    state: String(row["state"]),
    attempts: Number(row["attempts"]),
    nextAttemptMs: Number(row["next_attempt_ms"]),
    lastError: row["last_error"] === null ? null : String(row["last_error"]),
    result: row["result"] === null ? null : String(row["result"]),
    payload: String(row["payload"])
  }))
})

/** One a millisecond, so that they are claimed (oldest first) in the order of `n`. */
const enqueueInOrder = (count: number) =>
  Effect.flatMap(Outbox, (outbox) =>
    Effect.forEach(Array.from({ length: count }, (_, i) => i), (n) =>
      Effect.zipLeft(outbox.enqueue({ kind: "ping", idempotencyKey: `ping:${String(n).padStart(3, "0")}`, payload: { n } }), TestClock.adjust(1))
    )
  )

const enqueuePings = (count: number, kind = "ping") =>
  Effect.flatMap(Outbox, (outbox) =>
    Effect.forEach(Array.from({ length: count }, (_, i) => i), (n) => outbox.enqueue({ kind, idempotencyKey: `${kind}:${String(n).padStart(3, "0")}`, payload: { n } }))
  )

/** A ping handler whose answers the test scripts: sent, unavailable or rejected. */
const pingHandler = (answer: (n: number) => "ok" | "down" | "no", log: Ref.Ref<ReadonlyArray<string>>) =>
  outboxHandler({
    payload: Ping,
    send: ({ n }, delivery): Effect.Effect<{ readonly echoed: number }, ServiceUnavailable | ServiceRejected> => {
      const reply = answer(n)
      const outcome: Effect.Effect<{ readonly echoed: number }, ServiceUnavailable | ServiceRejected> =
        reply === "ok"
          ? Effect.succeed({ echoed: n })
          : reply === "down"
            ? Effect.fail(new ServiceUnavailable({ service: "ping", detail: "timeout" }))
            : Effect.fail(new ServiceRejected({ service: "ping", reason: "no such thing" }))
      return Ref.update(log, (entries) => [...entries, `send ${delivery.idempotencyKey} #${delivery.attempt}`]).pipe(Effect.zipRight(outcome))
    },
    onSent: ({ n }, result) => Ref.update(log, (entries) => [...entries, `sent ${n} -> ${result.echoed}`]),
    onDead: ({ n }, reason) => Ref.update(log, (entries) => [...entries, `dead ${n}: ${reason.slice(0, 20)}`])
  })

const services = Outbox.Default.pipe(Layer.provide(Layer.succeed(OutboxConfig, settings)))

for (const store of testStores) {
  const run = onFreshStore(store.layer, services, { seed: 19 })

  describe(`Outbox on ${store.name}`, () => {
    it.effect("the same idempotency key twice is one message", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const first = yield* outbox.enqueue({ kind: "ping", idempotencyKey: "k1", payload: { n: 1 } })
          const second = yield* outbox.enqueue({ kind: "ping", idempotencyKey: "k1", payload: { n: 2 } })
          expect([first.created, second.created, second.id]).toEqual([true, false, first.id])
          expect((yield* rows).map((row) => [row.key, row.payload])).toEqual([["k1", '{"n":1}']])
        })
      ))

    it.effect("a message joins the caller's transaction: rolled back with it, it was never there", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const sql = yield* SqlClient.SqlClient
          const failed = yield* Effect.either(sql.withTransaction(Effect.zipRight(outbox.enqueue({ kind: "ping", idempotencyKey: "k1", payload: {} }), Effect.fail("refused"))))
          expect(Either.isLeft(failed)).toBe(true)
          expect(yield* rows).toEqual([])
        })
      ))

    it.effect("sends due messages, stores the result and runs the completion in the same transaction", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const log = yield* Ref.make<ReadonlyArray<string>>([])
          yield* enqueuePings(2)
          const summary = yield* outbox.dispatchDue({ handlers: { ping: pingHandler(() => "ok", log) } })
          expect(summary).toEqual({ claimed: 2, sent: 2, retried: 0, dead: 0, leaseLost: 0, failed: 0 })
          expect((yield* rows).map((row) => [row.state, row.attempts, row.result])).toEqual([["sent", 1, '{"echoed":0}'], ["sent", 1, '{"echoed":1}']])
          expect(yield* Ref.get(log)).toEqual(["send ping:000 #1", "sent 0 -> 0", "send ping:001 #1", "sent 1 -> 1"])
          expect((yield* outbox.dispatchDue({ handlers: { ping: pingHandler(() => "ok", log) } })).claimed).toBe(0)
        })
      ))

    it.effect("an unavailable service is retried with capped exponential backoff, then the message is dead", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const log = yield* Ref.make<ReadonlyArray<string>>([])
          const handlers = { ping: pingHandler(() => "down", log) }
          yield* enqueuePings(1)
          for (const attempt of [1, 2]) {
            expect((yield* outbox.dispatchDue({ handlers })).retried).toBe(1)
            const [row] = yield* rows
            const now = attempt === 1 ? 0 : backoffCeilingMs(settings, 1)
            const ceiling = backoffCeilingMs(settings, attempt)
            expect(row?.attempts).toBe(attempt)
            expect(row?.nextAttemptMs).toBeGreaterThanOrEqual(now + Math.floor(ceiling / 2))
            expect(row?.nextAttemptMs).toBeLessThanOrEqual(now + ceiling)
            expect(row?.lastError).toContain("ping is unavailable")
            // Not due before its time.
            expect((yield* outbox.dispatchDue({ handlers })).claimed).toBe(0)
            yield* TestClock.setTime(row?.nextAttemptMs ?? 0)
          }
          expect((yield* outbox.dispatchDue({ handlers })).dead).toBe(1)
          const [dead] = yield* rows
          expect([dead?.state, dead?.attempts]).toEqual(["dead", 3])
          expect(dead?.lastError).toContain("gave up after 3 attempts")
          expect((yield* Ref.get(log)).filter((entry) => entry.startsWith("dead"))).toHaveLength(1)
          expect(backoffCeilingMs(settings, 50)).toBe(settings.backoffCapMs)
        })
      ))

    it.effect("a rejection or an unreadable payload is dead at once", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const log = yield* Ref.make<ReadonlyArray<string>>([])
          yield* enqueuePings(1)
          yield* outbox.enqueue({ kind: "ping", idempotencyKey: "ping:bad", payload: { n: "not a number" } })
          const summary = yield* outbox.dispatchDue({ handlers: { ping: pingHandler(() => "no", log) } })
          expect([summary.claimed, summary.dead]).toEqual([2, 2])
          const found = yield* rows
          expect(found.map((row) => [row.key, row.state, row.attempts])).toEqual([["ping:000", "dead", 1], ["ping:bad", "dead", 1]])
          expect(found[0]?.lastError).toContain("no such thing")
          expect(found[1]?.lastError).toContain("does not match")
          // onDead ran for the one it could read.
          expect((yield* Ref.get(log)).filter((entry) => entry.startsWith("dead"))).toEqual(["dead 0: ping rejected the re"])
        })
      ))

    it.effect("claims only kinds it has handlers for, at most the batch it was given", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const log = yield* Ref.make<ReadonlyArray<string>>([])
          yield* enqueuePings(15)
          yield* enqueuePings(2, "other")
          const handlers = { ping: pingHandler(() => "ok", log) }
          expect((yield* outbox.dispatchDue({ handlers, limit: 4 })).claimed).toBe(4)
          // Asking for more than batchMax gets batchMax.
          expect((yield* outbox.dispatchDue({ handlers, limit: 1000, concurrency: 4 })).claimed).toBe(settings.batchMax)
          expect((yield* outbox.dispatchDue({ handlers })).claimed).toBe(1)
          expect((yield* outbox.list({ kind: "other" })).map((m) => m.state)).toEqual(["pending", "pending"])
          expect((yield* outbox.dispatchDue({ handlers: {} })).claimed).toBe(0)
        })
      ))

    it.effect("a handler that dies leaves its row leased; it comes due again when the lease ends", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          yield* enqueuePings(1)
          const crashing = outboxHandler({ payload: Ping, send: () => Effect.dieMessage("bug") })
          expect((yield* outbox.dispatchDue({ handlers: { ping: crashing } })).failed).toBe(1)
          const [leased] = yield* rows
          expect([leased?.state, leased?.attempts, leased?.nextAttemptMs]).toEqual(["pending", 1, settings.leaseMs])
          expect((yield* outbox.dispatchDue({ handlers: { ping: crashing } })).claimed).toBe(0)
          yield* TestClock.setTime(settings.leaseMs)
          const log = yield* Ref.make<ReadonlyArray<string>>([])
          expect((yield* outbox.dispatchDue({ handlers: { ping: pingHandler(() => "ok", log) } })).sent).toBe(1)
          expect((yield* rows)[0]?.attempts).toBe(2)
        })
      ))

    it.effect("a worker whose lease was taken over writes nothing and runs no completion", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const sql = yield* SqlClient.SqlClient
          const completed = yield* Ref.make(0)
          yield* enqueuePings(1)
          // While this worker waits on the service, another claims the row (its attempt count moves on).
          const slow = outboxHandler({
            payload: Ping,
            send: () => Effect.as(sql`UPDATE outbox SET attempts = attempts + 1`.pipe(Effect.orDie), "late"),
            onSent: () => Ref.update(completed, (n) => n + 1)
          })
          expect((yield* outbox.dispatchDue({ handlers: { ping: slow } })).leaseLost).toBe(1)
          expect((yield* rows).map((row) => [row.state, row.result])).toEqual([["pending", null]])
          expect(yield* Ref.get(completed)).toBe(0)
        })
      ))

    it.effect("rows sent with no completion are finished together when the batch is done, each with its own payload, result and time", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const sql = yield* SqlClient.SqlClient
          const seen = yield* Ref.make<ReadonlyArray<string>>([])
          yield* enqueueInOrder(4)
          const stateOf = (n: number) =>
            Effect.map(sql`SELECT state FROM outbox WHERE idempotency_key = ${`ping:${String(n).padStart(3, "0")}`}`.pipe(Effect.orDie), (found) => String(found[0]?.["state"]))
          // Each send takes a second; the third finds its lease taken over by another worker.
          const plain = outboxHandler({
            payload: Ping,
            send: ({ n }) =>
              Effect.gen(function* () {
                yield* TestClock.adjust(1_000)
                if (n === 2) yield* sql`UPDATE outbox SET attempts = attempts + 1 WHERE idempotency_key = 'ping:002'`.pipe(Effect.orDie)
                if (n === 3) yield* Ref.set(seen, [yield* stateOf(0), yield* stateOf(1)])
                return { echoed: n * 10 }
              }),
            redact: ({ n }) => ({ n, redacted: true })
          })
          const summary = yield* outbox.dispatchDue({ handlers: { ping: plain } })
          expect([summary.claimed, summary.sent, summary.leaseLost]).toEqual([4, 3, 1])
          // While the last row was being sent, the first ones were not finished yet.
          expect(yield* Ref.get(seen)).toEqual(["pending", "pending"])
          const finished = yield* sql`SELECT idempotency_key, state, payload, result, sent_at_ms FROM outbox ORDER BY idempotency_key`.pipe(Effect.orDie)
          expect(finished.map((row) => [row["idempotency_key"], row["state"], row["payload"], row["result"], row["sent_at_ms"] === null ? null : Number(row["sent_at_ms"])])).toEqual([
            ["ping:000", "sent", '{"n":0,"redacted":true}', '{"echoed":0}', 1_004],
            ["ping:001", "sent", '{"n":1,"redacted":true}', '{"echoed":10}', 2_004],
            ["ping:002", "pending", '{"n":2}', null, null],
            ["ping:003", "sent", '{"n":3,"redacted":true}', '{"echoed":30}', 4_004]
          ])
        })
      ))

    it.effect("past half the lease a row sent is finished at once", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const sql = yield* SqlClient.SqlClient
          yield* enqueueInOrder(4)
          const seen = yield* Ref.make<ReadonlyArray<string>>([])
          // Three sends of 25 s each (under the send timeout): the third ends past half the lease.
          const slow = outboxHandler({
            payload: Ping,
            send: ({ n }) =>
              Effect.gen(function* () {
                if (n < 3) yield* TestClock.adjust(25_000)
                else yield* Ref.set(seen, (yield* Effect.orDie(rows)).map((row) => row.state))
                return { echoed: n }
              })
          })
          expect(settings.leaseMs / 2).toBeLessThan(3 * 25_000)
          expect((yield* outbox.dispatchDue({ handlers: { ping: slow } })).sent).toBe(4)
          expect(yield* Ref.get(seen)).toEqual(["sent", "sent", "sent", "pending"])
          expect((yield* sql`SELECT state FROM outbox WHERE state <> 'sent'`.pipe(Effect.orDie)).length).toBe(0)
        })
      ))

    it.effect("an interrupted batch still finishes what it sent", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          yield* enqueueInOrder(2)
          const hanging = yield* Effect.makeLatch(false)
          const second = outboxHandler({
            payload: Ping,
            send: ({ n }) => (n === 0 ? Effect.succeed({ echoed: n }) : Effect.zipRight(hanging.open, Effect.never))
          })
          const fiber = yield* Effect.fork(outbox.dispatchDue({ handlers: { ping: second } }))
          yield* hanging.await
          yield* Fiber.interrupt(fiber)
          expect((yield* rows).map((row) => [row.key, row.state])).toEqual([
            ["ping:000", "sent"],
            ["ping:001", "pending"]
          ])
        })
      ))

    it.effect("a send that outlasts the timeout counts as unavailable", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          yield* enqueuePings(1)
          const started = yield* Effect.makeLatch(false)
          const hanging = outboxHandler({ payload: Ping, send: () => Effect.zipRight(started.open, Effect.never) })
          const fiber = yield* Effect.fork(outbox.dispatchDue({ handlers: { ping: hanging } }))
          // On PostgreSQL the claim is real I/O: move the clock only once the send is under way, and
          // again until the dispatch returns, since its timer is armed alongside the send (bounded).
          yield* started.await
          for (let i = 0; i < 20 && Option.isNone(yield* fiber.poll); i++) {
            yield* TestClock.adjust(settings.sendTimeoutMs)
            yield* TestServices.provideLive(Effect.sleep("5 millis"))
          }
          expect((yield* Fiber.join(fiber)).retried).toBe(1)
          expect((yield* rows)[0]?.lastError).toContain(`no answer within ${settings.sendTimeoutMs} ms`)
        })
      ))

    it.effect("an operator retries a dead message from a fresh count; only dead ones", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const log = yield* Ref.make<ReadonlyArray<string>>([])
          const [queued] = yield* enqueuePings(1)
          if (queued === undefined) return yield* Effect.dieMessage("nothing queued")
          expect((yield* Effect.flip(outbox.retry(queued.id)))._tag).toBe("OutboxMessageNotDead")
          yield* outbox.dispatchDue({ handlers: { ping: pingHandler(() => "no", log) } })
          const again = yield* outbox.retry(queued.id)
          expect([again.state, again.attempts]).toEqual(["pending", 0])
          expect((yield* outbox.dispatchDue({ handlers: { ping: pingHandler(() => "ok", log) } })).sent).toBe(1)
          expect((yield* Effect.flip(outbox.retry(OutboxId.make("obx_missing"))))._tag).toBe("OutboxMessageNotFound")
          expect((yield* Effect.flip(outbox.get(OutboxId.make("obx_missing"))))._tag).toBe("OutboxMessageNotFound")
        })
      ))

    it.effect("concurrent workers send every message exactly once", () =>
      run(
        Effect.gen(function* () {
          const outbox = yield* Outbox
          const log = yield* Ref.make<ReadonlyArray<string>>([])
          yield* enqueuePings(40)
          const handlers = { ping: pingHandler(() => "ok", log) }
          const summaries = yield* Effect.forEach(Array.from({ length: 8 }), () => outbox.dispatchDue({ handlers, limit: 10 }), { concurrency: "unbounded" })
          expect(summaries.reduce((sum, s) => sum + s.sent, 0)).toBe(40)
          const sends = (yield* Ref.get(log)).filter((entry) => entry.startsWith("send"))
          expect(new Set(sends).size).toBe(40)
          expect((yield* rows).every((row) => row.state === "sent" && row.attempts === 1)).toBe(true)
        })
      ))
  })
}
