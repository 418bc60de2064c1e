import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Schema, TestClock } from "effect"
import { testStores } from "../adapters/store/testing.js"
import { KioskId, PhoneNumber, RegionId, TransferId, UserId } from "./domain/ids.js"
import { Account } from "./domain/ledger.js"
import { SessionId } from "./domain/user.js"
import { Institutions } from "./institutions.js"
import { Kiosks } from "./kiosks.js"
import { Ledger } from "./ledger.js"
import { Outbox, smsHandler } from "./outbox.js"
import { SmsGateway } from "./ports/sms-gateway.js"
import { Regions } from "./regions.js"
import { onFreshStore } from "./testing/fresh-store.js"
import { registerRegions } from "./testing/parties.js"
import { refused, snapshotTables } from "./testing/refusals.js"
import { defaultUsersSettings, Users, welcomeTransferId } from "./users.js"

const WELCOME = defaultUsersSettings.welcomeGrantPoints
const kioskA = KioskId.make("ksk_a")
const kioskB = KioskId.make("ksk_b")
const phone = (n: number) => `+8210${String(10_000_000 + n)}`

const count = (table: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql`SELECT COUNT(*) AS n FROM ${sql(table)}`
    return Number(rows[0]?.["n"])
  })

/** The code as the SMS in the outbox carries it (the test plays the phone). */
const codeSentFor = (challengeId: string) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox
    const message = yield* outbox.findByKey(`sms:${challengeId}`)
    if (message._tag === "None") return yield* Effect.dieMessage(`no sms for ${challengeId}`)
    const payload = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({ to: Schema.String, text: Schema.String })))(message.value.payload)
    const code = /code (\d+)/.exec(payload.text)?.[1]
    if (code === undefined) return yield* Effect.dieMessage(`no code in "${payload.text}"`)
    return code
  })

const wrong = (code: string) => (code === "000000" ? "111111" : "000000")

const region = Effect.gen(function* () {
  yield* registerRegions([[RegionId.make("reg_seoul"), "Seoul"]])
  const kiosks = yield* Kiosks
  yield* kiosks.register({ id: kioskA, regionId: RegionId.make("reg_seoul"), name: "A", binCapacity: 50 })
  yield* kiosks.register({ id: kioskB, regionId: RegionId.make("reg_seoul"), name: "B", binCapacity: 50 })
})

const registered = (n: number) =>
  Effect.gen(function* () {
    const users = yield* Users
    const started = yield* users.startRegistration(phone(n), kioskA)
    return yield* users.verifyRegistration(started.challengeId, yield* codeSentFor(started.challengeId))
  })

const services = Layer.mergeAll(Users.Default, Kiosks.Default, Institutions.Default, Regions.Default, Outbox.Default, Ledger.Default)

for (const store of testStores) {
  const run = onFreshStore(store.layer, services, { setup: region, seed: 7 })

  describe(`Users on ${store.name}`, () => {
    it.effect("registration sends a code through the outbox, keeps only its hash, and grants the welcome points", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const started = yield* users.startRegistration(phone(1), kioskA)
          expect(started.codeDigits).toBe(6)
          expect(started.expiresAtMs).toBe(defaultUsersSettings.codeTtlMs)
          const code = yield* codeSentFor(started.challengeId)
          expect(code).toMatch(/^\d{6}$/)
          const sql = yield* SqlClient.SqlClient
          const stored = yield* sql`SELECT code_hash FROM otp_challenges`
          expect(String(stored[0]?.["code_hash"])).not.toContain(code)
          expect(String(stored[0]?.["code_hash"])).toMatch(/^sha256\$\w+\$[0-9a-f]{64}$/)
          const registration = yield* users.verifyRegistration(started.challengeId, code)
          expect(registration.user.phone).toBe(phone(1))
          expect(registration.session.kioskId).toBe(kioskA)
          expect(registration.welcomeGrantPoints).toBe(WELCOME)
          expect((yield* users.balance(registration.user.id)).posted).toBe(WELCOME)
          const grant = yield* (yield* Ledger).getTransfer(welcomeTransferId(registration.user.id))
          expect(grant._tag === "Some" && [grant.value.debitAccount, grant.value.code]).toEqual([Account.issuer, "grant"])
          expect((yield* users.findByPhone(PhoneNumber.make(phone(1))))._tag).toBe("Some")
        })
      ))

    it.effect("the sms worker sends the code and then forgets it", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const outbox = yield* Outbox
          const sent: Array<{ to: string; text: string; key: string }> = []
          const gateway = SmsGateway.of({ send: (m) => Effect.sync(() => (sent.push({ to: m.to, text: m.text, key: m.idempotencyKey }), { messageRef: `m${sent.length}` })) })
          const started = yield* users.startRegistration(phone(2))
          const summary = yield* outbox.dispatchDue({ handlers: { sms: smsHandler } }).pipe(Effect.provideService(SmsGateway, gateway))
          expect(summary).toMatchObject({ claimed: 1, sent: 1 })
          expect(sent).toHaveLength(1)
          expect(sent[0]?.to).toBe(phone(2))
          expect(sent[0]?.key).toBe(`sms:${started.challengeId}`)
          const row = yield* outbox.findByKey(`sms:${started.challengeId}`)
          expect(row._tag === "Some" && row.value.state).toBe("sent")
          expect(row._tag === "Some" && row.value.payload).not.toContain(phone(2))
          expect(row._tag === "Some" && row.value.payload).not.toMatch(/\d{6}/)
        })
      ))

    it.effect("refuses an invalid phone number without echoing it, and writes nothing", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const error = yield* refused(users.startRegistration("010-1234-5678"))
          expect(error._tag).toBe("InvalidPhone")
          expect(error.message).not.toContain("1234-5678")
          expect((yield* refused(users.startIdentification("+0123", kioskA)))._tag).toBe("InvalidPhone")
        })
      ))

    it.effect("refuses to register a number twice and to identify an unknown one", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          yield* registered(1)
          const again = yield* refused(users.startRegistration(phone(1)))
          expect(again._tag).toBe("AlreadyRegistered")
          expect(again.message).not.toContain(phone(1))
          const unknown = yield* refused(users.startIdentification(phone(9), kioskA))
          expect(unknown._tag).toBe("UnknownPhone")
          expect((yield* refused(users.startIdentification(phone(1), KioskId.make("ksk_nowhere"))))._tag).toBe("KioskNotFound")
          expect((yield* refused(users.startRegistration(phone(2), KioskId.make("ksk_nowhere"))))._tag).toBe("KioskNotFound")
        })
      ))

    it.effect("a code expires after its time to live", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const started = yield* users.startRegistration(phone(1))
          const code = yield* codeSentFor(started.challengeId)
          yield* TestClock.adjust(defaultUsersSettings.codeTtlMs)
          expect((yield* refused(users.verifyRegistration(started.challengeId, code)))._tag).toBe("ChallengeExpired")
          expect(yield* count("users")).toBe(0)
        })
      ))

    it.effect("a wrong code counts a try, says how many are left, and the fifth locks the challenge", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const sql = yield* SqlClient.SqlClient
          const started = yield* users.startRegistration(phone(1))
          const code = yield* codeSentFor(started.challengeId)
          for (const triesLeft of [4, 3, 2, 1]) {
            const before = yield* snapshotTables
            const error = yield* Effect.flip(users.verifyRegistration(started.challengeId, wrong(code)))
            expect(error._tag === "WrongCode" && error.triesLeft).toBe(triesLeft)
            // The attempt is the one thing a refusal writes; nothing else moves.
            const rows = yield* sql`SELECT attempts, state FROM otp_challenges`
            expect([Number(rows[0]?.["attempts"]), rows[0]?.["state"]]).toEqual([5 - triesLeft, "open"])
            yield* sql`UPDATE otp_challenges SET attempts = attempts - 1`
            expect(yield* snapshotTables).toBe(before)
            yield* sql`UPDATE otp_challenges SET attempts = attempts + 1`
          }
          expect((yield* Effect.flip(users.verifyRegistration(started.challengeId, "12")))._tag).toBe("ChallengeLocked")
          expect((yield* refused(users.verifyRegistration(started.challengeId, code)))._tag).toBe("ChallengeLocked")
          expect(yield* count("users")).toBe(0)
        })
      ))

    it.effect("a code works once; a newer code replaces the older; a code is for its own step", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const first = yield* users.startRegistration(phone(1))
          const second = yield* users.startRegistration(phone(1))
          expect((yield* refused(users.verifyRegistration(first.challengeId, yield* codeSentFor(first.challengeId))))._tag).toBe("ChallengeExpired")
          expect((yield* refused(users.verifyIdentification(second.challengeId, yield* codeSentFor(second.challengeId))))._tag).toBe("ChallengeNotFound")
          expect((yield* refused(users.verifyRegistration("not-an-id", "123456")))._tag).toBe("ChallengeNotFound")
          expect((yield* refused(users.verifyRegistration("otp_missing", "123456")))._tag).toBe("ChallengeNotFound")
          const code = yield* codeSentFor(second.challengeId)
          yield* users.verifyRegistration(second.challengeId, code)
          expect((yield* refused(users.verifyRegistration(second.challengeId, code)))._tag).toBe("ChallengeUsed")
        })
      ))

    it.effect("limits the codes sent to one number within the window", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          for (let i = 0; i < defaultUsersSettings.challengesPerPhoneMax; i++) yield* users.startRegistration(phone(1))
          const error = yield* refused(users.startRegistration(phone(1)))
          expect(error._tag === "TooManyChallenges" && error.retryAfterMs).toBe(defaultUsersSettings.challengeWindowMs)
          yield* TestClock.adjust(defaultUsersSettings.challengeWindowMs)
          yield* users.startRegistration(phone(1))
        })
      ))

    it.effect("identification opens a session at the kiosk and ends the one before it there", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const registration = yield* registered(1)
          yield* registered(2)
          const signIn = (n: number, kiosk: KioskId) =>
            Effect.gen(function* () {
              const started = yield* users.startIdentification(phone(n), kiosk)
              return yield* users.verifyIdentification(started.challengeId, yield* codeSentFor(started.challengeId))
            })
          // Registering at kiosk A opened a session there; signing user 2 in at A ends it.
          const atA = yield* signIn(2, kioskA)
          expect(atA.kioskId).toBe(kioskA)
          expect((yield* Effect.flip(users.requireSession(registration.session.id)))._tag).toBe("SessionEnded")
          const atB = yield* signIn(1, kioskB)
          expect(atB.userId).toBe(registration.user.id)
          expect((yield* users.requireSession(atA.id, kioskA)).userId).toBe(atA.userId)
          expect((yield* Effect.flip(users.requireSession(atA.id, kioskB)))._tag).toBe("SessionAtOtherKiosk")
          yield* TestClock.adjust(defaultUsersSettings.sessionTtlMs)
          const expired = yield* Effect.flip(users.requireSession(atB.id))
          expect(expired._tag === "SessionEnded" && expired.reason).toBe("expired")
        })
      ))

    it.effect("ending a session is final and can be repeated", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const { session } = yield* registered(1)
          const ended = yield* users.endSession(session.id)
          expect(ended.endedAtMs).toBe(0)
          yield* TestClock.adjust(1000)
          expect((yield* users.endSession(session.id)).endedAtMs).toBe(0)
          expect((yield* Effect.flip(users.requireSession(session.id)))._tag).toBe("SessionEnded")
          expect((yield* refused(users.endSession(SessionId.make("ses_missing"))))._tag).toBe("SessionNotFound")
          expect((yield* Effect.flip(users.requireSession("garbage")))._tag).toBe("SessionNotFound")
        })
      ))

    it.effect("a campaign grant is idempotent by transfer id and refused for a conflicting body, an unknown user or a bad amount", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const { user } = yield* registered(1)
          const id = TransferId.make("campaign:spring:1")
          const first = yield* users.grant(user.id, 500, id)
          const replay = yield* users.grant(user.id, 500, id)
          expect(replay).toEqual(first)
          expect((yield* users.balance(user.id)).posted).toBe(WELCOME + 500)
          expect((yield* refused(users.grant(user.id, 501, id)))._tag).toBe("TransferConflict")
          expect((yield* refused(users.grant(UserId.make("usr_nobody"), 5, TransferId.make("c2"))))._tag).toBe("UserNotFound")
          for (const amount of [0, -5, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
            expect((yield* refused(users.grant(user.id, amount, TransferId.make("c3"))))._tag).toBe("InvalidRequest")
          }
          expect((yield* Effect.flip(users.balance(UserId.make("usr_nobody"))))._tag).toBe("UserNotFound")
        })
      ))

    it.effect("100 concurrent registrations each create one user with one welcome grant", () =>
      run(
        Effect.gen(function* () {
          const ids = Array.from({ length: 100 }, (_, i) => i)
          const registrations = yield* Effect.forEach(ids, (n) => registered(n), { concurrency: "unbounded" })
          expect(new Set(registrations.map((r) => r.user.id)).size).toBe(100)
          expect(yield* count("users")).toBe(100)
          expect((yield* (yield* Ledger).balance(Account.issuer)).posted).toBe(-100 * WELCOME)
          // All registered at kiosk A: one customer at a time, so at most one session there is open.
          const sql = yield* SqlClient.SqlClient
          const open = yield* sql`SELECT COUNT(*) AS n FROM sessions WHERE kiosk_id = ${kioskA} AND ended_at_ms IS NULL`
          expect(Number(open[0]?.["n"])).toBe(1)
        })
      ))

    if (store.name === "sqljs") {
      // The simulator's promise: one seed, one run. Nothing in registration may wait on the wall clock.
      it.effect("the same seed gives the same rows, concurrent flows included", () =>
        Effect.gen(function* () {
          // A function, not a value: each run needs its own generator seeded afresh.
          const once = () =>
            run(Effect.forEach(Array.from({ length: 10 }, (_, i) => i), (n) => registered(n), { concurrency: "unbounded" }).pipe(Effect.zipRight(snapshotTables)))
          expect(yield* once()).toBe(yield* once())
        }))
    }

    it.effect("100 concurrent answers to one challenge verify it once", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const started = yield* users.startRegistration(phone(1))
          const code = yield* codeSentFor(started.challengeId)
          const results = yield* Effect.forEach(Array.from({ length: 100 }), () => Effect.either(users.verifyRegistration(started.challengeId, code)), {
            concurrency: "unbounded"
          })
          expect(results.filter(Either.isRight)).toHaveLength(1)
          expect(new Set(results.filter(Either.isLeft).map((r) => r.left._tag))).toEqual(new Set(["ChallengeUsed"]))
          expect(yield* count("users")).toBe(1)
          expect(yield* count("ledger_transfers")).toBe(1)
        })
      ))

    it.effect("100 concurrent identifications across two kiosks leave one open session per kiosk", () =>
      run(
        Effect.gen(function* () {
          const users = yield* Users
          const ids = Array.from({ length: 100 }, (_, i) => i)
          yield* Effect.forEach(ids, (n) => registered(n), { concurrency: 10 })
          const sessions = yield* Effect.forEach(
            ids,
            (n) =>
              Effect.gen(function* () {
                const started = yield* users.startIdentification(phone(n), n % 2 === 0 ? kioskA : kioskB)
                return yield* users.verifyIdentification(started.challengeId, yield* codeSentFor(started.challengeId))
              }),
            { concurrency: "unbounded" }
          )
          expect(sessions).toHaveLength(100)
          const sql = yield* SqlClient.SqlClient
          const open = yield* sql`SELECT kiosk_id, COUNT(*) AS n FROM sessions WHERE ended_at_ms IS NULL GROUP BY kiosk_id ORDER BY kiosk_id`
          expect(open.map((row) => [row["kiosk_id"], Number(row["n"])])).toEqual([[kioskA, 1], [kioskB, 1]])
        })
      ))
  })
}
