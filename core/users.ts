import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option, Schema } from "effect"
import { InvalidRequest } from "./domain/invalid-request.js"
import { type KioskId, maskPhone, type PhoneNumber, TransferId, UserId } from "./domain/ids.js"
import { Account, type Balance, type Transfer, type TransferConflict } from "./domain/ledger.js"
import {
  AlreadyRegistered,
  Identified,
  Registration,
  Session,
  SessionAtOtherKiosk,
  SessionEnded,
  SessionId,
  sessionFromRow,
  SessionNotFound,
  SessionRow,
  UnknownPhone,
  User,
  userFromRow,
  UserNotFound,
  UserRow
} from "./domain/user.js"
import { newId } from "./id-generator.js"
import { Ledger } from "./ledger.js"
import { Outbox } from "./outbox.js"
import { makeChallenges, UsersConfig, type VerifiedChallenge } from "./users-challenges.js"
import { allRows, firstRowAs, query } from "./rows.js"
import { traced } from "./traced.js"

export { type ChallengeRefusal, defaultUsersSettings, UsersConfig, type UsersSettings } from "./users-challenges.js"

/** The welcome grant's transfer id: one per user, so a replayed verification cannot grant twice. */
export const welcomeTransferId = (userId: UserId): TransferId => TransferId.make(`welcome:${userId}`)

/**
 * Users (DESIGN §4, claims 3 and 5): a phone number is registered by answering a one-time code sent to
 * it, and identified at a kiosk by a fresh code each time (see `users-challenges.ts`: codes leave
 * through the outbox in the transaction of their challenge, only a salted hash is kept, five wrong
 * tries lock a challenge). Registration opens `user:<id>`, posts the welcome grant and opens a first
 * session; identification opens a session at a kiosk, ending the one before it there.
 */
export class Users extends Effect.Service<Users>()("ecoupon/Users", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* Ledger
    const settings = yield* UsersConfig
    if (!Number.isSafeInteger(settings.welcomeGrantPoints) || settings.welcomeGrantPoints < 0) {
      return yield* Effect.dieMessage(`welcome grant must be a whole number of points, 0 or more; got ${settings.welcomeGrantPoints}`)
    }
    const challenges = yield* makeChallenges(settings)
    const decodeSessionId = Schema.decodeUnknownOption(SessionId)
    const firstUser = firstRowAs(UserRow, userFromRow)
    const firstSession = firstRowAs(SessionRow, sessionFromRow)
    const sessionRows = allRows(SessionRow)

    const findUserByPhone = (phone: PhoneNumber) => query(sql`SELECT id, phone, registered_at_ms FROM users WHERE phone = ${phone}`, firstUser)

    const findUser = (id: UserId) => query(sql`SELECT id, phone, registered_at_ms FROM users WHERE id = ${id}`, firstUser)

    const findSession = (id: SessionId) => query(sql`SELECT * FROM sessions WHERE id = ${id}`, firstSession)

    const lockKiosk = sql.onDialectOrElse({
      pg: () => (kioskId: KioskId) => Effect.matchEffect(sql`SELECT id FROM kiosks WHERE id = ${kioskId} FOR UPDATE`, { onFailure: Effect.die, onSuccess: () => Effect.void }),
      orElse: () => undefined
    })

    /**
     * A kiosk serves one customer at a time: a new session there ends the ones before it.
     * `openAtKiosk` is how many are open there, counted earlier in this transaction (the claim of the
     * challenge).
     */
    const openSession = (userId: UserId, kioskId: KioskId | null, now: number, openAtKiosk: number) =>
      Effect.gen(function* () {
        const id = SessionId.make(yield* newId("ses"))
        const endOpen = (kiosk: KioskId) =>
          sql`
            UPDATE sessions SET ended_at_ms = ${now}
            WHERE kiosk_id = ${kiosk} AND ended_at_ms IS NULL AND expires_at_ms > ${now}`.pipe(Effect.orDie)
        if (kioskId !== null) {
          // Concurrent sign-ins at one kiosk queue on its row (PostgreSQL), so only the last stays open;
          // a count made before the lock may be out of date, so the UPDATE always runs. SQLite has a
          // single writer: the count is still true, nothing to queue on, and when no session is open
          // (the customer before ended theirs) no statement is spent.
          if (lockKiosk !== undefined) {
            yield* lockKiosk(kioskId)
            yield* endOpen(kioskId)
          } else if (openAtKiosk > 0) yield* endOpen(kioskId)
        }
        const expiresAtMs = now + settings.sessionTtlMs
        yield* sql`
          INSERT INTO sessions (id, user_id, kiosk_id, created_at_ms, expires_at_ms)
          VALUES (${id}, ${userId}, ${kioskId}, ${now}, ${expiresAtMs})`.pipe(Effect.orDie)
        return new Session({ id, userId, kioskId, createdAtMs: now, expiresAtMs, endedAtMs: null }, true)
      })

    const grantPoints = (userId: UserId, amount: number, transferId: TransferId): Effect.Effect<Transfer, TransferConflict> =>
      ledger.transfer({ id: transferId, debit: Account.issuer, credit: Account.user(userId), amount, code: "grant", ref: userId }).pipe(
        // The issuer has no floor, the amount was checked and the account exists: only a replay with
        // another body can be refused.
        Effect.catchTags({ InsufficientFunds: Effect.die, AccountNotFound: Effect.die, InvalidTransfer: Effect.die })
      )

    const register = (challenge: VerifiedChallenge, now: number) =>
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
        const session = yield* openSession(userId, challenge.kiosk_id, now, challenge.kiosk_open_sessions)
        const user = new User({ id: userId, phone: challenge.phone, registeredAtMs: now }, true)
        return new Registration({ user, session, welcomeGrantPoints: settings.welcomeGrantPoints }, true)
      })

    // The number's user and their balance came with the claim of the challenge: no look-up of their own.
    const identify = (challenge: VerifiedChallenge, now: number) =>
      Effect.gen(function* () {
        if (challenge.user_id === null) return yield* new UnknownPhone({ masked: maskPhone(challenge.phone) })
        if (challenge.user_available_points === null) return yield* Effect.dieMessage(`user ${challenge.user_id} has no ledger account`)
        const session = yield* openSession(challenge.user_id, challenge.kiosk_id, now, challenge.kiosk_open_sessions)
        return new Identified({ ...session, balancePoints: challenge.user_available_points }, true)
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
      }).pipe(traced("Users.requireSession"))

    return {
      /** Sends a registration code to a number not yet registered. `kioskId` names where it happens. */
      startRegistration: (phone: string, kioskId?: KioskId) =>
        challenges.start(phone, "register", kioskId ?? null).pipe(traced("Users.startRegistration")),
      /** Creates the user, opens `user:<id>`, posts the welcome grant and opens a first session. */
      verifyRegistration: (challengeId: string, code: string) =>
        challenges.verify(challengeId, code, "register", register).pipe(traced("Users.verifyRegistration")),
      /**
       * Sends a code for a session at `kioskId`: a sign-in code if the number is registered, a
       * registration code otherwise (`purpose` in the answer says which).
       */
      startSignIn: (phone: string, kioskId: KioskId) =>
        challenges.start(phone, "either", kioskId).pipe(traced("Users.startSignIn")),
      /** Sends a sign-in code to a registered number, for a session at `kioskId`. */
      startIdentification: (phone: string, kioskId: KioskId) =>
        challenges.start(phone, "identify", kioskId).pipe(traced("Users.startIdentification")),
      verifyIdentification: (challengeId: string, code: string) =>
        challenges.verify(challengeId, code, "identify", identify).pipe(traced("Users.verifyIdentification")),
      /** Ends a session; ending it again returns it unchanged. */
      endSession: (sessionId: SessionId): Effect.Effect<Session, SessionNotFound> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          // One statement, atomic on its own: the session it ended, or nothing if it was not open.
          query(
            sql`
            UPDATE sessions SET ended_at_ms = ${now} WHERE id = ${sessionId} AND ended_at_ms IS NULL
            RETURNING *`,
            sessionRows
          )).pipe(
          Effect.flatMap((ended) =>
            ended[0] !== undefined
              ? Effect.succeed(sessionFromRow(ended[0]))
              : Effect.flatMap(findSession(sessionId), Option.match({ onNone: () => Effect.fail(new SessionNotFound({ sessionId })), onSome: Effect.succeed }))
          ),
          traced("Users.endSession")
        ),
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
        }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die), traced("Users.grant")),
      balance: (userId: UserId): Effect.Effect<Balance, UserNotFound> =>
        ledger.balance(Account.user(userId)).pipe(
          Effect.catchTag("AccountNotFound", () => Effect.fail(new UserNotFound({ userId }))),
          traced("Users.balance")
        ),
      get: (userId: UserId): Effect.Effect<User, UserNotFound> => requireUser(userId).pipe(traced("Users.get")),
      findByPhone: (phone: PhoneNumber): Effect.Effect<Option.Option<User>> => findUserByPhone(phone).pipe(traced("Users.findByPhone"))
    } as const
  }),
  dependencies: [Ledger.Default, Outbox.Default]
}) {}
