import { SqlClient, type Statement } from "@effect/sql"
import { Clock, Context, Effect, Schema } from "effect"
import { OutboxKinds } from "./domain/outbox.js"

/**
 * Retention (DESIGN §6): what a deployment need not keep for ever is pruned once it is older than the
 * retention period, by this one job, which the back office runs daily.
 *
 * What goes, and why nothing the auditor or a replay needs goes with it:
 * - one-time-code challenges that expired before the cutoff (open, verified, expired or locked alike).
 *   Nothing refers to a challenge once it is answered; the per-number limit counts only challenges of
 *   the last `challengeWindowMs` (minutes), far inside any retention. A pruned challenge answers
 *   `ChallengeNotFound`, as one that never existed.
 * - sessions that expired before the cutoff (ended ones included). Orders keep their user, not their session, and an
 *   order's replay is answered from the order before any session is looked at. A pruned session
 *   answers `SessionNotFound`.
 * - outbox messages sent before the cutoff (SMS, provider orders, payouts). A message is enqueued only
 *   by the change that causes it, and replays of that change are answered before the enqueue, so a
 *   pruned key is never asked for again. Kept: pending and dead messages (still to send, or for an
 *   operator), and every `carrier_charge`: invariant 9's check finds a card's charge by its key.
 *
 * Not pruned, because the auditor's checks read them whole: the ledger, orders, coupons, cards, card
 * stock movements, redemptions and statements. Twin reports need nothing: a kiosk's twin is one row,
 * each report overwrites the one before. Catalog changes stay: an order's stale-catalog check and a
 * kiosk's catch-up read them, and they grow with merchants' changes, not with traffic.
 *
 * Every delete takes at most `batchRows` rows, oldest first, in a statement of its own, so one run
 * never holds the writer for long; `batchesMax` bounds a run, and `more` says the next run has work
 * left over.
 */
export interface HousekeepingSettings {
  /** How long what may go is kept after it ended. */
  readonly retentionMs: number
  /** Rows one delete statement takes. */
  readonly batchRows: number
  /** Delete statements per table per run. */
  readonly batchesMax: number
}

const DAY_MS = 86_400_000

export const defaultHousekeepingSettings: HousekeepingSettings = {
  retentionMs: 7 * DAY_MS,
  batchRows: 500,
  batchesMax: 200
}

/**
 * Shorter than this and a kiosk retrying a request after a night offline could meet a pruned
 * session; and the per-number code limit would count too few challenges.
 */
export const RETENTION_MIN_MS = 60 * 60_000

/** Provide a value to change the retention or the batches; the defaults apply otherwise. */
export class HousekeepingConfig extends Context.Reference<HousekeepingConfig>()("ecoupon/HousekeepingConfig", {
  defaultValue: (): HousekeepingSettings => defaultHousekeepingSettings
}) {}

/** What one run pruned. */
export class HousekeepingRun extends Schema.Class<HousekeepingRun>("HousekeepingRun")({
  /** Everything that ended before this was eligible. */
  cutoffMs: Schema.Int,
  challenges: Schema.Int,
  sessions: Schema.Int,
  outboxMessages: Schema.Int,
  /** A table still had eligible rows when its batches ran out: run again. */
  more: Schema.Boolean
}) {}

const checkSettings = (settings: HousekeepingSettings): string | undefined => {
  if (!Number.isSafeInteger(settings.retentionMs) || settings.retentionMs < RETENTION_MIN_MS) {
    return `housekeeping retention must be a whole number of milliseconds of at least ${RETENTION_MIN_MS}, got ${settings.retentionMs}`
  }
  if (!Number.isSafeInteger(settings.batchRows) || settings.batchRows < 1 || settings.batchRows > 10_000) {
    return `housekeeping batchRows must be 1 to 10000, got ${settings.batchRows}`
  }
  if (!Number.isSafeInteger(settings.batchesMax) || settings.batchesMax < 1) return `housekeeping batchesMax must be at least 1, got ${settings.batchesMax}`
  return undefined
}

export class Housekeeping extends Effect.Service<Housekeeping>()("ecoupon/Housekeeping", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const settings = yield* HousekeepingConfig
    const invalid = checkSettings(settings)
    // Settings come from code (the server's or the simulator's configuration), not from users.
    if (invalid !== undefined) return yield* Effect.dieMessage(invalid)

    /**
     * Deletes the rows `victims` selects (ids, oldest first, at most `batchRows`) until none is left or
     * the batches run out. Answers the rows deleted and whether some were left.
     */
    const prune = (
      table: string,
      victims: Statement.Statement<Record<string, unknown>>
    ): Effect.Effect<{ readonly deleted: number; readonly more: boolean }> =>
      Effect.gen(function* () {
        let deleted = 0
        for (let batch = 0; batch < settings.batchesMax; batch++) {
          const rows = yield* sql`DELETE FROM ${sql(table)} WHERE id IN (${victims}) RETURNING id`
          deleted += rows.length
          if (rows.length < settings.batchRows) return { deleted, more: false }
        }
        const left = yield* victims
        return { deleted, more: left.length > 0 }
      }).pipe(Effect.orDie)

    const run: Effect.Effect<HousekeepingRun> = Effect.gen(function* () {
      const cutoffMs = (yield* Clock.currentTimeMillis) - settings.retentionMs
      const limit = settings.batchRows
      const challenges = yield* prune(
        "otp_challenges",
        sql`SELECT id FROM otp_challenges WHERE expires_at_ms < ${cutoffMs} ORDER BY expires_at_ms LIMIT ${limit}`
      )
      // Ended or not, a session is of no use once it has expired; an early end only makes it go
      // `sessionTtlMs` sooner than this, and one condition keeps the delete on its index.
      const sessions = yield* prune(
        "sessions",
        sql`SELECT id FROM sessions WHERE expires_at_ms < ${cutoffMs} ORDER BY expires_at_ms LIMIT ${limit}`
      )
      const outbox = yield* prune(
        "outbox",
        sql`SELECT id FROM outbox WHERE state = 'sent' AND sent_at_ms < ${cutoffMs} AND kind <> ${OutboxKinds.carrierCharge} ORDER BY sent_at_ms LIMIT ${limit}`
      )
      return new HousekeepingRun({
        cutoffMs,
        challenges: challenges.deleted,
        sessions: sessions.deleted,
        outboxMessages: outbox.deleted,
        more: challenges.more || sessions.more || outbox.more
      })
    }).pipe(Effect.withSpan("Housekeeping.run"))

    return { run, settings } as const
  })
}) {}
