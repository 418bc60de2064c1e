import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema, TestClock } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { Cards } from "./cards.js"
import { CardUid, OrderId, RedemptionId } from "./domain/ids.js"
import { DeliverOrder, PlaceOrder } from "./domain/order.js"
import { RedeemCoupon } from "./domain/redemption.js"
import type { SessionId } from "./domain/user.js"
import { defaultHousekeepingSettings, Housekeeping, HousekeepingConfig } from "./housekeeping.js"
import { OrderFlowHandlers } from "./orders-outbox.js"
import { Orders } from "./orders.js"
import { Outbox, smsHandler } from "./outbox.js"
import { SmsGateway } from "./ports/sms-gateway.js"
import { Redemptions } from "./redemption.js"
import { Settlements } from "./settlement.js"
import { fakePorts } from "./testing/fake-ports.js"
import { auditClean, deliveredOnCard, inWorld } from "./testing/harness.js"
import { refusedWithoutWrites } from "./testing/refusals.js"
import { DAY_MS, world } from "./testing/world.js"
import { Users } from "./users.js"

/** The first test's retention: longer than the deposit deadline, so one story fits inside it. */
const RETENTION_MS = 20 * DAY_MS
const alicePhone = "+821000000001"

const count = (table: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql`SELECT COUNT(*) AS n FROM ${sql(table)}`
    return Number(rows[0]?.["n"])
  }).pipe(Effect.orDie)

/** The SMS gateway of these tests: takes every message; the tests read codes from the outbox instead. */
const smsLayer = Layer.succeed(SmsGateway, { send: (message) => Effect.succeed({ messageRef: `ref-${message.idempotencyKey}` }) })

/** Sends everything due, SMS included, until nothing is left. */
const sendAll = Effect.gen(function* () {
  const outbox = yield* Outbox
  const { handlers } = yield* OrderFlowHandlers
  for (;;) {
    const summary = yield* outbox.dispatchDue({ handlers: { ...handlers, sms: smsHandler } })
    if (summary.claimed === 0) return
  }
})

/** Alice signs in at kiosk 1 with the code the outbox carries; answers the challenge and the session. */
const signIn = Effect.gen(function* () {
  const users = yield* Users
  const outbox = yield* Outbox
  const started = yield* users.startIdentification(alicePhone, world.kiosk1)
  const message = yield* outbox.findByKey(`sms:${started.challengeId}`)
  if (message._tag === "None") return yield* Effect.dieMessage("no code was queued")
  const text = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({ text: Schema.String })))(message.value.payload).text
  const code = /code (\d+)/.exec(text)?.[1] ?? ""
  const session = yield* users.verifyIdentification(started.challengeId, code)
  return { challengeId: started.challengeId, session }
}).pipe(Effect.orDie)

const placeWithSession = (name: string, sessionId: SessionId) =>
  Effect.flatMap(Orders, (orders) =>
    orders.place(
      PlaceOrder.make({
        orderId: OrderId.make(`ord_${name}`),
        kioskId: world.kiosk1,
        customer: { _tag: "session", sessionId },
        offerId: world.offer,
        quantity: 1,
        catalogVersion: world.catalogVersion,
        medium: "paper"
      })
    )
  )

for (const store of testStores) {
  const run = inWorld(store.layer, "housekeeping")

  describe(`Housekeeping on ${store.name}`, () => {
    it.effect("prunes old challenges, sessions and sent messages only; the audit stays clean and replays answer as the first time", () => {
      const ports = fakePorts()
      return run(
        Effect.gen(function* () {
          const housekeeping = yield* Housekeeping
          const orders = yield* Orders
          const redemptions = yield* Redemptions
          const cards = yield* Cards
          // Day 0: a sign-in and a paper order in that session, a redemption, a card nobody brings back;
          // day 1, yesterday settled; day 15, the card overdue. Every kind of outbox message, each sent
          // when it was made.
          const old = yield* signIn
          yield* sendAll
          const place = PlaceOrder.make({
            orderId: OrderId.make("ord_old"),
            kioskId: world.kiosk1,
            customer: { _tag: "session", sessionId: old.session.id },
            offerId: world.offer,
            quantity: 1,
            catalogVersion: world.catalogVersion,
            medium: "paper"
          })
          const placed = yield* orders.place(place)
          const deliver = DeliverOrder.make({ orderId: place.orderId, medium: { _tag: "paper" } })
          const delivered = yield* orders.deliver(deliver)
          const redeem = RedeemCoupon.make({ redemptionId: RedemptionId.make("rdm_old"), merchantId: world.merchant, couponCode: placed.couponCode, amount: 400 })
          const redeemed = yield* redemptions.redeem(redeem)
          yield* deliveredOnCard("lost", CardUid.make("04A1B2C3"))
          yield* sendAll
          yield* TestClock.adjust(DAY_MS)
          yield* (yield* Settlements).closeAll({ periodEndMs: DAY_MS })
          yield* sendAll
          yield* TestClock.adjust(14 * DAY_MS)
          expect((yield* cards.sweepOverdue()).chargesQueued).toBe(1)
          yield* sendAll
          const kinds = yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT kind, state FROM outbox ORDER BY kind`).pipe(Effect.orDie)
          expect(kinds.map((row) => `${String(row["kind"])} ${String(row["state"])}`)).toEqual([
            "carrier_charge sent",
            "payout sent",
            "provider_order sent",
            "provider_order sent",
            "sms sent"
          ])

          // Inside the retention period nothing goes.
          const early = yield* housekeeping.run
          expect([early.challenges, early.sessions, early.outboxMessages]).toEqual([0, 0, 0])

          // Day 22: a recent sign-in; everything of days 0 and 1 is now past the retention.
          yield* TestClock.adjust(7 * DAY_MS)
          const recent = yield* signIn
          yield* sendAll
          const pruned = yield* housekeeping.run
          // The old challenge, Alice's seeded session and the old one; the old SMS, provider orders and payout.
          expect([pruned.challenges, pruned.sessions, pruned.outboxMessages, pruned.more]).toEqual([1, 2, 4, false])
          expect(yield* count("otp_challenges")).toBe(1)
          expect(yield* count("sessions")).toBe(1)
          // What is kept: the recent code's SMS, and the deposit charge invariant 9 looks for.
          const kept = yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT kind FROM outbox ORDER BY kind`).pipe(Effect.orDie)
          expect(kept.map((row) => row["kind"])).toEqual(["carrier_charge", "sms"])
          yield* auditClean

          // Replays of the old requests answer as the first time, and write nothing.
          expect(yield* orders.place(place)).toEqual(placed)
          expect(yield* orders.deliver(deliver)).toEqual(delivered)
          expect(yield* redemptions.redeem(redeem)).toEqual(redeemed)
          expect(yield* count("outbox")).toBe(2)
          // The recent session still works.
          yield* placeWithSession("recent", recent.session.id).pipe(Effect.orDie)
          yield* auditClean
          // A second run finds nothing more.
          const again = yield* housekeeping.run
          expect([again.challenges, again.sessions, again.outboxMessages]).toEqual([0, 0, 0])
          // Long after: everything sent has gone but the deposit charge, and the audit still holds.
          yield* TestClock.adjust(2 * RETENTION_MS)
          yield* sendAll
          const later = yield* housekeeping.run
          expect([later.challenges, later.sessions, later.outboxMessages]).toEqual([1, 1, 1])
          const left = yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT kind FROM outbox`).pipe(Effect.orDie)
          expect(left.map((row) => row["kind"])).toEqual(["carrier_charge"])
          yield* auditClean
        }).pipe(Effect.provide(Layer.mergeAll(ports.layer, smsLayer)))
      ).pipe(Effect.provideService(HousekeepingConfig, { ...defaultHousekeepingSettings, retentionMs: RETENTION_MS }))
    })

    it.effect("a pruned challenge or session cannot be used: the refusal says so and writes nothing", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const signedIn = yield* signIn
          const pending = yield* users.startIdentification(alicePhone, world.kiosk1).pipe(Effect.orDie)
          yield* TestClock.adjust(defaultHousekeepingSettings.retentionMs + 2 * DAY_MS)
          const pruned = yield* (yield* Housekeeping).run
          expect([pruned.challenges, pruned.sessions]).toEqual([2, 2])
          const challenge = yield* refusedWithoutWrites(users.verifyIdentification(pending.challengeId, "123456"), "ChallengeNotFound")
          expect(challenge.message).toContain("ask for a new code")
          yield* refusedWithoutWrites(users.verifyIdentification(signedIn.challengeId, "123456"), "ChallengeNotFound")
          const session = yield* refusedWithoutWrites(users.requireSession(signedIn.session.id, world.kiosk1), "SessionNotFound")
          expect(session.message).toContain("identify the user again")
          yield* refusedWithoutWrites(placeWithSession("late", signedIn.session.id), "SessionNotFound")
          yield* auditClean
        })
      ))

    it.effect("deletes in bounded batches and says when it left work for the next run", () =>
      run(
        Effect.gen(function* () {
          for (let i = 0; i < 3; i++) yield* signIn
          yield* TestClock.adjust(defaultHousekeepingSettings.retentionMs + 2 * DAY_MS)
          const housekeeping = yield* Housekeeping
          const first = yield* housekeeping.run
          // Two rows per statement, one statement per table: 2 of 3 challenges, 2 of 4 sessions.
          expect([first.challenges, first.sessions, first.more]).toEqual([2, 2, true])
          const second = yield* housekeeping.run
          expect([second.challenges, second.sessions, second.more]).toEqual([1, 2, false])
          expect(yield* count("otp_challenges")).toBe(0)
          expect(yield* count("sessions")).toBe(0)
        })
      ).pipe(Effect.provideService(HousekeepingConfig, { ...defaultHousekeepingSettings, batchRows: 2, batchesMax: 1 })))

    it.effect("refuses a retention too short for the replays it must answer", () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(Housekeeping.pipe(Effect.provide(Housekeeping.Default)))
        expect(exit._tag).toBe("Failure")
        expect(String(exit)).toContain("retention must be")
      }).pipe(Effect.provide(store.layer), Effect.provideService(HousekeepingConfig, { ...defaultHousekeepingSettings, retentionMs: 1_000 })))
  })
}
