import { SqlClient } from "@effect/sql"
import { Clock, Context, Effect, Option, Schema } from "effect"
import { KioskNotFound } from "./domain/kiosk.js"
import { InvalidRequest } from "./domain/invalid-request.js"
import { type KioskId, maskPhone, PhoneNumber, TransferId, UserId } from "./domain/ids.js"
import { Account, type Balance, type Transfer, type TransferConflict } from "./domain/ledger.js"
import { OutboxKinds, type SmsPayload } from "./domain/outbox.js"
import { DbInt } from "./domain/points.js"
import {
  AlreadyRegistered,
  ChallengeExpired,
  ChallengeId,
  ChallengeLocked,
  ChallengeNotFound,
  type ChallengePurpose,
  ChallengeRow,
  ChallengeStarted,
  ChallengeUsed,
  InvalidPhone,
  Registration,
  Session,
  SessionAtOtherKiosk,
  SessionEnded,
  SessionId,
  sessionFromRow,
  SessionNotFound,
  SessionRow,
  TooManyChallenges,
  UnknownPhone,
  User,
  userFromRow,
  UserNotFound,
  UserRow,
  WrongCode
} from "./domain/user.js"
import { newId, newOtpCode } from "./id-generator.js"
import { Ledger } from "./ledger.js"
import { Outbox } from "./outbox.js"
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

/** The welcome grant's transfer id: one per user, so a replayed verification cannot grant twice. */
export const welcomeTransferId = (userId: UserId): TransferId => TransferId.make(`welcome:${userId}`)

type VerifyRefusal = ChallengeNotFound | ChallengeExpired | ChallengeLocked | ChallengeUsed | WrongCode

/**
 * Users (DESIGN §4, claims 3 and 5): a phone number is registered by answering a one-time code sent to
 * it, and identified at a kiosk by a fresh code each time. Codes leave through the outbox in the same
 * transaction as their challenge; only a salted hash is kept. A wrong code is the one refusal that
 * writes: its attempt must count, or the lock after `codeTriesMax` tries would never come.
 */
export class Users extends Effect.Service<Users>()("ecoupon/Users", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* Ledger
    const outbox = yield* Outbox
    const settings = yield* UsersConfig
    if (!Number.isSafeInteger(settings.welcomeGrantPoints) || settings.welcomeGrantPoints < 0) {
      return yield* Effect.dieMessage(`welcome grant must be a whole number of points, 0 or more; got ${settings.welcomeGrantPoints}`)
    }
    const decodePhone = Schema.decodeUnknownOption(PhoneNumber)
    const decodeChallengeId = Schema.decodeUnknownOption(ChallengeId)
    const decodeSessionId = Schema.decodeUnknownOption(SessionId)
    const decodeUsers = Schema.decodeUnknown(Schema.Array(UserRow))
    const decodeChallenges = Schema.decodeUnknown(Schema.Array(ChallengeRow))
    const decodeSessions = Schema.decodeUnknown(Schema.Array(SessionRow))

    const first = <A, B>(rows: ReadonlyArray<A>, map: (row: A) => B): Option.Option<B> => Option.map(Option.fromNullable(rows[0]), map)

    const findUserByPhone = (phone: PhoneNumber) =>
      sql`SELECT id, phone, registered_at_ms FROM users WHERE phone = ${phone}`.pipe(
        Effect.flatMap(decodeUsers),
        Effect.map((rows) => first(rows, userFromRow)),
        Effect.orDie
      )

    const findUser = (id: UserId) =>
      sql`SELECT id, phone, registered_at_ms FROM users WHERE id = ${id}`.pipe(
        Effect.flatMap(decodeUsers),
        Effect.map((rows) => first(rows, userFromRow)),
        Effect.orDie
      )

    const findChallenge = (id: ChallengeId) =>
      sql`SELECT * FROM otp_challenges WHERE id = ${id}`.pipe(
        Effect.flatMap(decodeChallenges),
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      )

    const findSession = (id: SessionId) =>
      sql`SELECT * FROM sessions WHERE id = ${id}`.pipe(
        Effect.flatMap(decodeSessions),
        Effect.map((rows) => first(rows, sessionFromRow)),
        Effect.orDie
      )

    const smsText = (code: string, purpose: ChallengePurpose) =>
      `ecoupon ${purpose === "register" ? "registration" : "sign-in"} code ${code}. ` +
      `Valid ${Math.round(settings.codeTtlMs / 60_000)} min. Nobody from ecoupon will ask you for it.`

    const startChallenge = (phoneInput: string, purpose: ChallengePurpose, kioskId: KioskId | null) =>
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
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            const user = yield* findUserByPhone(phone)
            if (purpose === "register" && Option.isSome(user)) return yield* new AlreadyRegistered({ masked })
            if (purpose === "identify" && Option.isNone(user)) return yield* new UnknownPhone({ masked })
            if (kioskId !== null) {
              const kiosk = yield* sql`SELECT id FROM kiosks WHERE id = ${kioskId}`.pipe(Effect.orDie)
              if (kiosk.length === 0) return yield* new KioskNotFound({ kioskId })
            }
            const windowStartMs = now - settings.challengeWindowMs
            const recent = yield* sql`
              SELECT COUNT(*) AS n, MIN(created_at_ms) AS oldest FROM otp_challenges
              WHERE phone = ${phone} AND created_at_ms > ${windowStartMs}`.pipe(
              Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ n: DbInt, oldest: Schema.NullOr(DbInt) })))),
              Effect.orDie
            )
            const count = recent[0]?.n ?? 0
            if (count >= settings.challengesPerPhoneMax) {
              const oldest = recent[0]?.oldest ?? now
              return yield* new TooManyChallenges({ masked, retryAfterMs: Math.max(1, oldest + settings.challengeWindowMs - now) })
            }
            // A newer code replaces the older ones for the same step: only the latest SMS works.
            yield* sql`
              UPDATE otp_challenges SET state = 'expired'
              WHERE phone = ${phone} AND purpose = ${purpose} AND state = 'open'`.pipe(Effect.orDie)
            yield* sql`
              INSERT INTO otp_challenges (id, phone, purpose, kiosk_id, code_hash, attempts, state, created_at_ms, expires_at_ms)
              VALUES (${challengeId}, ${phone}, ${purpose}, ${kioskId}, ${codeHash}, 0, 'open', ${now}, ${expiresAtMs})`.pipe(Effect.orDie)
            const payload: SmsPayload = { to: phone, text: smsText(code, purpose) }
            yield* outbox.enqueue({ kind: OutboxKinds.sms, idempotencyKey: `sms:${challengeId}`, payload })
            return new ChallengeStarted({ challengeId, purpose, expiresAtMs, codeDigits: settings.codeDigits })
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
      })

    const refusalFor = (challenge: ChallengeRow, now: number): VerifyRefusal | undefined => {
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

    /** The state a challenge moved to under us, as the refusal it means. */
    const refusalAfterRace = (challengeId: ChallengeId, now: number) =>
      Effect.flatMap(findChallenge(challengeId), (challenge) =>
        Effect.fail(Option.match(challenge, { onNone: () => new ChallengeNotFound({ challengeId }), onSome: (row) => refusalFor(row, now) ?? new ChallengeUsed({ challengeId }) }))
      )

    /**
     * Checks a code and, if right, runs `onVerified` in the same transaction as the claim of the
     * challenge. A wrong code commits its attempt and then fails.
     */
    const verify = <A, E>(
      challengeInput: string,
      code: string,
      purpose: ChallengePurpose,
      onVerified: (challenge: ChallengeRow, now: number) => Effect.Effect<A, E>
    ): Effect.Effect<A, VerifyRefusal | E> =>
      Effect.gen(function* () {
        const decoded = decodeChallengeId(challengeInput)
        if (Option.isNone(decoded)) return yield* new ChallengeNotFound({ challengeId: challengeInput })
        const challengeId = decoded.value
        const now = yield* Clock.currentTimeMillis
        const outcome = yield* sql.withTransaction(
          Effect.gen(function* () {
            const found = yield* findChallenge(challengeId)
            if (Option.isNone(found) || found.value.purpose !== purpose) return yield* new ChallengeNotFound({ challengeId })
            const challenge = found.value
            const refusal = refusalFor(challenge, now)
            if (refusal !== undefined) return yield* Effect.fail(refusal)
            if (!(yield* codeMatches(challenge.code_hash, challengeId, code))) {
              const counted = yield* sql`
                UPDATE otp_challenges
                SET attempts = attempts + 1,
                    state = CASE WHEN attempts + 1 >= ${settings.codeTriesMax} THEN 'locked' ELSE state END
                WHERE id = ${challengeId} AND state = 'open'
                RETURNING attempts`.pipe(Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ attempts: DbInt })))), Effect.orDie)
              const attempts = counted[0]?.attempts
              if (attempts === undefined) return yield* refusalAfterRace(challengeId, now)
              const triesLeft = settings.codeTriesMax - attempts
              return { _tag: "Wrong", error: triesLeft <= 0 ? new ChallengeLocked({ challengeId }) : new WrongCode({ challengeId, triesLeft }) } as const
            }
            const claimed = yield* sql`
              UPDATE otp_challenges SET state = 'verified' WHERE id = ${challengeId} AND state = 'open' RETURNING id`.pipe(Effect.orDie)
            if (claimed.length === 0) return yield* refusalAfterRace(challengeId, now)
            return { _tag: "Verified", value: yield* onVerified(challenge, now) } as const
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
        if (outcome._tag === "Wrong") return yield* Effect.fail(outcome.error)
        return outcome.value
      })

    /** A kiosk serves one customer at a time: a new session there ends the ones before it. */
    const openSession = (userId: UserId, kioskId: KioskId | null, now: number) =>
      Effect.gen(function* () {
        const id = SessionId.make(yield* newId("ses"))
        if (kioskId !== null) {
          // Concurrent sign-ins at one kiosk queue on its row (PostgreSQL), so only the last stays open.
          yield* sql`SELECT id FROM kiosks WHERE id = ${kioskId} ${sql.onDialectOrElse({ pg: () => sql`FOR UPDATE`, orElse: () => sql`` })}`.pipe(Effect.orDie)
          yield* sql`
            UPDATE sessions SET ended_at_ms = ${now}
            WHERE kiosk_id = ${kioskId} AND ended_at_ms IS NULL AND expires_at_ms > ${now}`.pipe(Effect.orDie)
        }
        const expiresAtMs = now + settings.sessionTtlMs
        yield* sql`
          INSERT INTO sessions (id, user_id, kiosk_id, created_at_ms, expires_at_ms)
          VALUES (${id}, ${userId}, ${kioskId}, ${now}, ${expiresAtMs})`.pipe(Effect.orDie)
        return new Session({ id, userId, kioskId, createdAtMs: now, expiresAtMs, endedAtMs: null })
      })

    const grantPoints = (userId: UserId, amount: number, transferId: TransferId): Effect.Effect<Transfer, TransferConflict> =>
      ledger.transfer({ id: transferId, debit: Account.issuer, credit: Account.user(userId), amount, code: "grant", ref: userId }).pipe(
        // The issuer has no floor, the amount was checked and the account exists: only a replay with
        // another body can be refused.
        Effect.catchTags({ InsufficientFunds: Effect.die, AccountNotFound: Effect.die, InvalidTransfer: Effect.die })
      )

    const register = (challenge: ChallengeRow, now: number) =>
      Effect.gen(function* () {
        const userId = UserId.make(yield* newId("usr"))
        const inserted = yield* sql`
          INSERT INTO users (id, phone, registered_at_ms) VALUES (${userId}, ${challenge.phone}, ${now})
          ON CONFLICT (phone) DO NOTHING
          RETURNING id`.pipe(Effect.orDie)
        // Two challenges for one number, both answered: the first registers, the second is refused.
        if (inserted.length === 0) return yield* new AlreadyRegistered({ masked: maskPhone(challenge.phone) })
        yield* ledger.openAccount(Account.user(userId), "user").pipe(Effect.orDie)
        if (settings.welcomeGrantPoints > 0) {
          yield* grantPoints(userId, settings.welcomeGrantPoints, welcomeTransferId(userId)).pipe(Effect.orDie)
        }
        const session = yield* openSession(userId, challenge.kiosk_id, now)
        const user = new User({ id: userId, phone: challenge.phone, registeredAtMs: now })
        return new Registration({ user, session, welcomeGrantPoints: settings.welcomeGrantPoints })
      })

    const identify = (challenge: ChallengeRow, now: number) =>
      Effect.gen(function* () {
        const user = yield* findUserByPhone(challenge.phone)
        if (Option.isNone(user)) return yield* new UnknownPhone({ masked: maskPhone(challenge.phone) })
        return yield* openSession(user.value.id, challenge.kiosk_id, now)
      })

    const requireUser = (userId: UserId) =>
      Effect.flatMap(findUser(userId), Option.match({ onNone: () => Effect.fail(new UserNotFound({ userId })), onSome: Effect.succeed }))

    const requireSession = (sessionInput: string, kioskId?: KioskId): Effect.Effect<Session, SessionNotFound | SessionEnded | SessionAtOtherKiosk> =>
      Effect.gen(function* () {
        const id = decodeSessionId(sessionInput)
        if (Option.isNone(id)) return yield* new SessionNotFound({ sessionId: sessionInput })
        const session = yield* findSession(id.value)
        if (Option.isNone(session)) return yield* new SessionNotFound({ sessionId: sessionInput })
        const now = yield* Clock.currentTimeMillis
        if (session.value.endedAtMs !== null) return yield* new SessionEnded({ sessionId: id.value, reason: "ended" })
        if (now >= session.value.expiresAtMs) return yield* new SessionEnded({ sessionId: id.value, reason: "expired" })
        if (kioskId !== undefined && session.value.kioskId !== kioskId) {
          return yield* new SessionAtOtherKiosk({ sessionId: id.value, kioskId: session.value.kioskId })
        }
        return session.value
      }).pipe(Effect.withSpan("Users.requireSession"))

    return {
      /** Sends a registration code to a number not yet registered. `kioskId` names where it happens. */
      startRegistration: (phone: string, kioskId?: KioskId) =>
        startChallenge(phone, "register", kioskId ?? null).pipe(Effect.withSpan("Users.startRegistration")),
      /** Creates the user, opens `user:<id>`, posts the welcome grant and opens a first session. */
      verifyRegistration: (challengeId: string, code: string) =>
        verify(challengeId, code, "register", register).pipe(Effect.withSpan("Users.verifyRegistration")),
      /** Sends a sign-in code to a registered number, for a session at `kioskId`. */
      startIdentification: (phone: string, kioskId: KioskId) =>
        startChallenge(phone, "identify", kioskId).pipe(Effect.withSpan("Users.startIdentification")),
      verifyIdentification: (challengeId: string, code: string) =>
        verify(challengeId, code, "identify", identify).pipe(Effect.withSpan("Users.verifyIdentification")),
      /** Ends a session; ending it again returns it unchanged. */
      endSession: (sessionId: SessionId): Effect.Effect<Session, SessionNotFound> =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          yield* sql`UPDATE sessions SET ended_at_ms = ${now} WHERE id = ${sessionId} AND ended_at_ms IS NULL`.pipe(Effect.orDie)
          const session = yield* findSession(sessionId)
          if (Option.isNone(session)) return yield* new SessionNotFound({ sessionId })
          return session.value
        }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die), Effect.withSpan("Users.endSession")),
      /** The session if it is live (not ended, not expired, and at `kioskId` when given). */
      requireSession,
      /** A campaign grant from `issuer`. Idempotent by transfer id: a replay returns the first transfer. */
      grant: (userId: UserId, amount: number, transferId: TransferId): Effect.Effect<Transfer, InvalidRequest | UserNotFound | TransferConflict> =>
        Effect.gen(function* () {
          if (!Number.isSafeInteger(amount) || amount <= 0) {
            return yield* new InvalidRequest({ reason: `a grant must be a whole number of points greater than zero, got ${amount}` })
          }
          yield* requireUser(userId)
          return yield* grantPoints(userId, amount, transferId)
        }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die), Effect.withSpan("Users.grant")),
      balance: (userId: UserId): Effect.Effect<Balance, UserNotFound> =>
        ledger.balance(Account.user(userId)).pipe(
          Effect.catchTag("AccountNotFound", () => Effect.fail(new UserNotFound({ userId }))),
          Effect.withSpan("Users.balance")
        ),
      get: (userId: UserId): Effect.Effect<User, UserNotFound> => requireUser(userId).pipe(Effect.withSpan("Users.get")),
      findByPhone: (phone: PhoneNumber): Effect.Effect<Option.Option<User>> => findUserByPhone(phone).pipe(Effect.withSpan("Users.findByPhone"))
    } as const
  }),
  dependencies: [Ledger.Default, Outbox.Default]
}) {}
