import { Schema } from "effect"
import { KioskId, PhoneNumber, UserId } from "./ids.js"
import { DbInt } from "./points.js"

/** A one-time code challenge: made when a code is sent, verified at most once. */
export const ChallengeId = Schema.String.pipe(
  Schema.pattern(/^otp_[A-Za-z0-9_-]{1,64}$/, { message: () => `expected a ChallengeId like "otp_abc123"` }),
  Schema.brand("ChallengeId")
)
export type ChallengeId = typeof ChallengeId.Type

/** An identified user at one kiosk, from a verified code until it ends or expires. */
export const SessionId = Schema.String.pipe(
  Schema.pattern(/^ses_[A-Za-z0-9_-]{1,64}$/, { message: () => `expected a SessionId like "ses_abc123"` }),
  Schema.brand("SessionId")
)
export type SessionId = typeof SessionId.Type

/** register: proves a new number; identify: proves a registered number at a kiosk. */
export const ChallengePurpose = Schema.Literal("register", "identify")
export type ChallengePurpose = typeof ChallengePurpose.Type

/** expired also covers a challenge replaced by a newer one for the same number and purpose. */
export const ChallengeState = Schema.Literal("open", "verified", "expired", "locked")
export type ChallengeState = typeof ChallengeState.Type

export class User extends Schema.Class<User>("User")({
  id: UserId,
  phone: PhoneNumber,
  registeredAtMs: Schema.Int
}) {}

export const UserRow = Schema.Struct({ id: UserId, phone: PhoneNumber, registered_at_ms: DbInt })

export const userFromRow = (row: typeof UserRow.Type): User =>
  new User({ id: row.id, phone: row.phone, registeredAtMs: row.registered_at_ms }, true)

/** What the caller gets when a code has been queued: which challenge to answer, and until when. */
export class ChallengeStarted extends Schema.Class<ChallengeStarted>("ChallengeStarted")({
  challengeId: ChallengeId,
  purpose: ChallengePurpose,
  expiresAtMs: Schema.Int,
  codeDigits: Schema.Int
}) {}

export const ChallengeRow = Schema.Struct({
  id: ChallengeId,
  phone: PhoneNumber,
  purpose: ChallengePurpose,
  kiosk_id: Schema.NullOr(KioskId),
  code_hash: Schema.String,
  attempts: DbInt,
  state: ChallengeState,
  created_at_ms: DbInt,
  expires_at_ms: DbInt
})
export type ChallengeRow = typeof ChallengeRow.Type

export class Session extends Schema.Class<Session>("Session")({
  id: SessionId,
  userId: UserId,
  kioskId: Schema.NullOr(KioskId),
  createdAtMs: Schema.Int,
  expiresAtMs: Schema.Int,
  endedAtMs: Schema.NullOr(Schema.Int)
}) {}

export const SessionRow = Schema.Struct({
  id: SessionId,
  user_id: UserId,
  kiosk_id: Schema.NullOr(KioskId),
  created_at_ms: DbInt,
  expires_at_ms: DbInt,
  ended_at_ms: Schema.NullOr(DbInt)
})

export const sessionFromRow = (row: typeof SessionRow.Type): Session =>
  new Session({
    id: row.id,
    userId: row.user_id,
    kioskId: row.kiosk_id,
    createdAtMs: row.created_at_ms,
    expiresAtMs: row.expires_at_ms,
    endedAtMs: row.ended_at_ms
  }, true)

/** A session opened by identification, with the points its user had available as it opened. */
export class Identified extends Session.extend<Identified>("Identified")({
  balancePoints: Schema.Int
}) {}

/** A verified registration: the new user, their first session, and the welcome grant they got. */
export class Registration extends Schema.Class<Registration>("Registration")({
  user: User,
  session: Session,
  welcomeGrantPoints: Schema.Int
}) {}

// --- errors: none carries a phone number in the clear (invariant 10) ---------------------------------

export class InvalidPhone extends Schema.TaggedError<InvalidPhone>()("InvalidPhone", { masked: Schema.String }) {
  override get message() {
    return `${this.masked} is not a mobile number in E.164 form; enter it as +, country code and number, e.g. +821012345678`
  }
}

export class AlreadyRegistered extends Schema.TaggedError<AlreadyRegistered>()("AlreadyRegistered", { masked: Schema.String }) {
  override get message() {
    return `${this.masked} is already registered; identify with it instead of registering again`
  }
}

export class UnknownPhone extends Schema.TaggedError<UnknownPhone>()("UnknownPhone", { masked: Schema.String }) {
  override get message() {
    return `no user is registered with ${this.masked}; register the number first`
  }
}

export class TooManyChallenges extends Schema.TaggedError<TooManyChallenges>()("TooManyChallenges", {
  masked: Schema.String,
  retryAfterMs: Schema.Int
}) {
  override get message() {
    return `too many codes were sent to ${this.masked} recently; wait ${Math.ceil(this.retryAfterMs / 1000)} s before asking for another`
  }
}

export class ChallengeNotFound extends Schema.TaggedError<ChallengeNotFound>()("ChallengeNotFound", { challengeId: Schema.String }) {
  override get message() {
    return `no code challenge ${this.challengeId} for this step; ask for a new code`
  }
}

export class ChallengeExpired extends Schema.TaggedError<ChallengeExpired>()("ChallengeExpired", { challengeId: ChallengeId }) {
  override get message() {
    return `the code for ${this.challengeId} has expired or was replaced by a newer one; ask for a new code`
  }
}

export class ChallengeLocked extends Schema.TaggedError<ChallengeLocked>()("ChallengeLocked", { challengeId: ChallengeId }) {
  override get message() {
    return `too many wrong codes for ${this.challengeId}; it is locked, ask for a new code`
  }
}

export class ChallengeUsed extends Schema.TaggedError<ChallengeUsed>()("ChallengeUsed", { challengeId: ChallengeId }) {
  override get message() {
    return `the code for ${this.challengeId} was already used; ask for a new code to start again`
  }
}

export class WrongCode extends Schema.TaggedError<WrongCode>()("WrongCode", { challengeId: ChallengeId, triesLeft: Schema.Int }) {
  override get message() {
    return `wrong code; ${this.triesLeft} ${this.triesLeft === 1 ? "try" : "tries"} left before the code is locked`
  }
}

export class UserNotFound extends Schema.TaggedError<UserNotFound>()("UserNotFound", { userId: Schema.String }) {
  override get message() {
    return `no user ${this.userId}; check the id (users are created by registering a phone number)`
  }
}

export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()("SessionNotFound", { sessionId: Schema.String }) {
  override get message() {
    return `no session ${this.sessionId}; identify the user again`
  }
}

export class SessionEnded extends Schema.TaggedError<SessionEnded>()("SessionEnded", { sessionId: SessionId, reason: Schema.Literal("ended", "expired") }) {
  override get message() {
    return `session ${this.sessionId} has ${this.reason}; identify the user again`
  }
}

export class SessionAtOtherKiosk extends Schema.TaggedError<SessionAtOtherKiosk>()("SessionAtOtherKiosk", {
  sessionId: SessionId,
  kioskId: Schema.NullOr(KioskId)
}) {
  override get message() {
    return `session ${this.sessionId} belongs to ${this.kioskId ?? "no kiosk"}; identify the user at this kiosk`
  }
}
