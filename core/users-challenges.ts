import { SqlClient } from "@effect/sql"
import { Clock, Context, Effect, Option, Schema } from "effect"
import { type KioskId, maskPhone, PhoneNumber, UserId } from "./domain/ids.js"
import { KioskNotFound } from "./domain/kiosk.js"
import { OutboxKinds, type SmsPayload } from "./domain/outbox.js"
import { DbInt } from "./domain/points.js"
import {
  AlreadyRegistered,
  ChallengeExpired,
  ChallengeId,
  ChallengeLocked,
  ChallengeNotFound,
  ChallengePurpose,
  ChallengeRow,
  ChallengeStarted,
  ChallengeUsed,
  InvalidPhone,
  TooManyChallenges,
  UnknownPhone,
  WrongCode
} from "./domain/user.js"
import { newId, newOtpCode } from "./id-generator.js"
import { Outbox } from "./outbox.js"
import { allRows, firstRow, query } from "./rows.js"
import { codeMatches, hashCode } from "./users-codes.js"

export interface UsersSettings {
  /** Points granted from `issuer` when a registration is verified; 0 grants nothing. */
  readonly welcomeGrantPoints: number
  readonly codeDigits: number
  readonly codeTtlMs: number
  /** Wrong codes allowed per challenge; the last one locks it. */
  readonly codeTriesMax: number
  readonly sessionTtlMs: number
  /** Codes sent to one number within `challengeWindowMs`, whatever their purpose. */
  readonly challengesPerPhoneMax: number
  readonly challengeWindowMs: number
}

export const defaultUsersSettings: UsersSettings = {
  welcomeGrantPoints: 10_000,
  codeDigits: 6,
  codeTtlMs: 5 * 60_000,
  codeTriesMax: 5,
  sessionTtlMs: 10 * 60_000,
  challengesPerPhoneMax: 5,
  challengeWindowMs: 15 * 60_000
}

/** Provide a value to change the rules; the defaults apply otherwise. */
export class UsersConfig extends Context.Reference<UsersConfig>()("ecoupon/UsersConfig", {
  defaultValue: (): UsersSettings => defaultUsersSettings
}) {}

export type ChallengeRefusal = ChallengeNotFound | ChallengeExpired | ChallengeLocked | ChallengeUsed | WrongCode

/**
 * One-time code challenges for the users service: `start` makes one and queues its SMS through the
 * outbox in the same transaction; `verify` checks a code and, if right, claims the challenge and runs
 * the caller's step in that transaction. A wrong code is the one refusal that writes: its attempt must
 * count, or the lock after `codeTriesMax` tries would never come. Needs `SqlClient` and `Outbox`.
 */
/**
 * A challenge as a right code claims it, with the user its number belongs to (null if none yet), the
 * points that user has available (null without a user), and how many sessions are open at its kiosk.
 */
export const VerifiedChallenge = Schema.Struct({
  ...ChallengeRow.fields,
  user_id: Schema.NullOr(UserId),
  user_available_points: Schema.NullOr(DbInt),
  kiosk_open_sessions: DbInt
})
export type VerifiedChallenge = typeof VerifiedChallenge.Type

export const makeChallenges = (settings: UsersSettings) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const outbox = yield* Outbox
    const decodePhone = Schema.decodeUnknownOption(PhoneNumber)
    const decodeChallengeId = Schema.decodeUnknownOption(ChallengeId)
    const firstChallenge = firstRow(ChallengeRow)
    const claimedRows = allRows(VerifiedChallenge)
    const lookupRows = allRows(Schema.Struct({ users: DbInt, kiosks: DbInt, n: DbInt, oldest: Schema.NullOr(DbInt) }))
    const madeRows = allRows(Schema.Struct({ purpose: ChallengePurpose, open_before: DbInt }))
    const attemptsRows = allRows(Schema.Struct({ attempts: DbInt }))

  const findChallenge = (id: ChallengeId) => query(sql`SELECT * FROM otp_challenges WHERE id = ${id}`, firstChallenge)

  const smsText = (code: string, purpose: ChallengePurpose) =>
    `ecoupon ${purpose === "register" ? "registration" : "sign-in"} code ${code}. ` +
    `Valid ${Math.round(settings.codeTtlMs / 60_000)} min. Nobody from ecoupon will ask you for it.`

  /**
   * Queues a code for the number in the same transaction as its challenge. `either` picks the step
   * from the number: sign-in if it is registered, registration otherwise (what a kiosk asks for), in
   * the statement that makes the challenge, so no look-up of the number is spent before it.
   */
  const start = (phoneInput: string, purposeAsked: ChallengePurpose | "either", kioskId: KioskId | null) =>
    Effect.gen(function* () {
      const decoded = decodePhone(phoneInput)
      if (Option.isNone(decoded)) return yield* new InvalidPhone({ masked: maskPhone(phoneInput) })
      const phone = decoded.value
      const masked = maskPhone(phone)
      const now = yield* Clock.currentTimeMillis
      const challengeId = ChallengeId.make(yield* newId("otp"))
      const code = yield* newOtpCode(settings.codeDigits)
      const codeHash = yield* hashCode(challengeId, code)
      const expiresAtMs = now + settings.codeTtlMs
      const windowStartMs = now - settings.challengeWindowMs
      /** Why no challenge was made: the number's user, the kiosk and the codes sent lately, in one statement. */
      const refusal = Effect.gen(function* () {
        const kiosk = kioskId === null ? sql`1` : sql`(SELECT COUNT(*) FROM kiosks WHERE id = ${kioskId})`
        const looked = yield* query(sql`
          SELECT (SELECT COUNT(*) FROM users WHERE phone = ${phone}) AS users, ${kiosk} AS kiosks,
            COUNT(*) AS n, MIN(created_at_ms) AS oldest
          FROM otp_challenges
          WHERE phone = ${phone} AND created_at_ms > ${windowStartMs}`, lookupRows)
        const found = looked[0] ?? { users: 0, kiosks: 0, n: 0, oldest: null }
        const purpose: ChallengePurpose = purposeAsked !== "either" ? purposeAsked : found.users > 0 ? "identify" : "register"
        if (purpose === "register" && found.users > 0) return yield* new AlreadyRegistered({ masked })
        if (purpose === "identify" && found.users === 0) return yield* new UnknownPhone({ masked })
        if (kioskId !== null && found.kiosks === 0) return yield* new KioskNotFound({ kioskId })
        if (found.n >= settings.challengesPerPhoneMax) {
          const oldest = found.oldest ?? now
          return yield* new TooManyChallenges({ masked, retryAfterMs: Math.max(1, oldest + settings.challengeWindowMs - now) })
        }
        return yield* Effect.dieMessage(`challenge ${challengeId} was not made, yet nothing refuses it`)
      })
      const registered = sql`EXISTS (SELECT 1 FROM users WHERE phone = ${phone})`
      // `either` picks the step from the number: sign-in if it is registered, registration otherwise.
      const purposeOf = purposeAsked === "either" ? sql`CASE WHEN ${registered} THEN 'identify' ELSE 'register' END` : sql`${purposeAsked}`
      const userCheck = purposeAsked === "register" ? sql`NOT ${registered}` : purposeAsked === "identify" ? registered : sql`1 = 1`
      const kioskCheck = kioskId === null ? sql`1 = 1` : sql`EXISTS (SELECT 1 FROM kiosks WHERE id = ${kioskId})`
      return yield* sql.withTransaction(
        Effect.gen(function* () {
          // Made in one statement if nothing refuses it (the number fits the step, the kiosk exists,
          // not too many codes lately); `refusal` reads why not. It answers the step it picked and
          // how many older codes for that step are still open. (PostgreSQL types the selected values
          // from the SELECT, not from the columns: hence the casts.)
          const made = yield* query(sql`
            INSERT INTO otp_challenges (id, phone, purpose, kiosk_id, code_hash, attempts, state, created_at_ms, expires_at_ms)
            SELECT ${challengeId}, ${phone}, ${purposeOf}, ${kioskId}, ${codeHash}, 0, 'open', CAST(${now} AS BIGINT), CAST(${expiresAtMs} AS BIGINT)
            WHERE ${userCheck} AND ${kioskCheck}
              AND (SELECT COUNT(*) FROM otp_challenges WHERE phone = ${phone} AND created_at_ms > ${windowStartMs}) < ${settings.challengesPerPhoneMax}
            RETURNING purpose, (
              SELECT COUNT(*) FROM otp_challenges older
              WHERE older.phone = otp_challenges.phone AND older.purpose = otp_challenges.purpose AND older.state = 'open' AND older.id <> otp_challenges.id
            ) AS open_before`, madeRows)
          const started = made[0]
          if (started === undefined) return yield* refusal
          const { purpose } = started
          // A newer code replaces the older ones for the same step: only the latest SMS works. (Most
          // requests find none open, and spend no statement on it.)
          if (started.open_before > 0) yield* sql`
            UPDATE otp_challenges SET state = 'expired'
            WHERE phone = ${phone} AND purpose = ${purpose} AND state = 'open' AND id <> ${challengeId}`.pipe(Effect.orDie)
          const payload: SmsPayload = { to: phone, text: smsText(code, purpose) }
          yield* outbox.enqueue({ kind: OutboxKinds.sms, idempotencyKey: `sms:${challengeId}`, payload })
          return new ChallengeStarted({ challengeId, purpose, expiresAtMs, codeDigits: settings.codeDigits }, true)
        })
      ).pipe(Effect.catchTag("SqlError", Effect.die))
    })

  const refusalFor = (challenge: ChallengeRow, now: number): ChallengeRefusal | undefined => {
    const challengeId = challenge.id
    switch (challenge.state) {
      case "verified":
        return new ChallengeUsed({ challengeId })
      case "locked":
        return new ChallengeLocked({ challengeId })
      case "expired":
        return new ChallengeExpired({ challengeId })
      case "open":
        return now >= challenge.expires_at_ms ? new ChallengeExpired({ challengeId }) : undefined
    }
  }

  /**
   * Checks a code and, if right, runs `onVerified` in the same transaction as the claim of the
   * challenge. A wrong code commits its attempt and then fails.
   */
  const verify = <A, E>(
    challengeInput: string,
    code: string,
    purpose: ChallengePurpose,
    onVerified: (challenge: VerifiedChallenge, now: number) => Effect.Effect<A, E>
  ): Effect.Effect<A, ChallengeRefusal | E> =>
    Effect.gen(function* () {
      const decoded = decodeChallengeId(challengeInput)
      if (Option.isNone(decoded)) return yield* new ChallengeNotFound({ challengeId: challengeInput })
      const challengeId = decoded.value
      const now = yield* Clock.currentTimeMillis
      const outcome = yield* sql.withTransaction(
        Effect.gen(function* () {
          // Claimed first, in one statement: a right code (the usual case) needs nothing more. A
          // wrong code, or another step's challenge, puts it back in this same transaction, so
          // nobody ever sees it claimed.
          // With it, what the step after needs to know: the number's user and what they have to
          // spend (the ledger's user:<id> account, `Account.user`), and whether a session is open at
          // the kiosk (ended when a new one opens there).
          const claimed = yield* query(sql`
            UPDATE otp_challenges SET state = 'verified'
            WHERE id = ${challengeId} AND state = 'open' AND expires_at_ms > ${now}
            RETURNING *, (SELECT id FROM users WHERE users.phone = otp_challenges.phone) AS user_id,
              (SELECT a.credits_posted - a.debits_posted - a.debits_pending FROM users u JOIN ledger_accounts a ON a.id = 'user:' || u.id
                WHERE u.phone = otp_challenges.phone) AS user_available_points,
              (SELECT COUNT(*) FROM sessions WHERE kiosk_id = otp_challenges.kiosk_id AND ended_at_ms IS NULL AND expires_at_ms > ${now}) AS kiosk_open_sessions`, claimedRows)
          const challenge = claimed[0]
          if (challenge === undefined) {
            const found = yield* findChallenge(challengeId)
            if (Option.isNone(found) || found.value.purpose !== purpose) return yield* new ChallengeNotFound({ challengeId })
            return yield* Effect.fail(refusalFor(found.value, now) ?? new ChallengeUsed({ challengeId }))
          }
          if (challenge.purpose !== purpose) {
            yield* sql`UPDATE otp_challenges SET state = 'open' WHERE id = ${challengeId}`.pipe(Effect.orDie)
            return yield* new ChallengeNotFound({ challengeId })
          }
          if (!codeMatches(challenge.code_hash, challengeId, code)) {
            const counted = yield* query(sql`
              UPDATE otp_challenges
              SET attempts = attempts + 1,
                  state = CASE WHEN attempts + 1 >= ${settings.codeTriesMax} THEN 'locked' ELSE 'open' END
              WHERE id = ${challengeId}
              RETURNING attempts`, attemptsRows)
            const attempts = counted[0]?.attempts ?? settings.codeTriesMax
            const triesLeft = settings.codeTriesMax - attempts
            // The id was decoded above and the count is a decoded integer: the errors need no validation.
            return { _tag: "Wrong", error: triesLeft <= 0 ? new ChallengeLocked({ challengeId }, true) : new WrongCode({ challengeId, triesLeft }, true) } as const
          }
          return { _tag: "Verified", value: yield* onVerified(challenge, now) } as const
        })
      ).pipe(Effect.catchTag("SqlError", Effect.die))
      if (outcome._tag === "Wrong") return yield* Effect.fail(outcome.error)
      return outcome.value
    })

    return { start, verify } as const
  })
