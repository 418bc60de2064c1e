import { Clock, Duration, Effect, Layer, Schedule } from "effect"
import { backOfficeRound } from "../../core/back-office.js"
import { OrderFlowHandlers, type OrderFlowPorts } from "../../core/orders-outbox.js"
import { defaultOutboxSettings, Outbox, smsHandler } from "../../core/outbox.js"
import type { SmsGateway } from "../../core/ports/sms-gateway.js"
import type { CoreServices } from "../../core/services.js"

/**
 * The work `serve` does by itself (DESIGN §6): the outbox worker sends what is due (one-time codes,
 * provider orders, deposit charges, payouts) through the gateways; the back office settles, expires
 * coupons, charges overdue cards, voids stale orders and prunes what the retention lets go
 * (core/back-office.ts, core/housekeeping.ts: 7 days by default) on a timer. Both are
 * fibers of the server's scope: stopping the server interrupts them between two steps (a step is a
 * transaction, so nothing is left half done), before the store closes.
 */
export interface WorkerSettings {
  /** How long the outbox worker rests when nothing was due. */
  readonly outboxIdleMs: number
  readonly backOfficeEveryMs: number
  /** An order no kiosk resolved within this is voided and flagged. */
  readonly staleOrderAfterMs: number
  /** Settlement periods end at midnight UTC; a round settles every period that ended. */
  readonly settlementPeriodMs: number
}

export const defaultWorkerSettings: WorkerSettings = {
  outboxIdleMs: 250,
  backOfficeEveryMs: 15 * 60_000,
  staleOrderAfterMs: 24 * 3_600_000,
  settlementPeriodMs: 24 * 3_600_000
}

/** Batches the worker sends in a row before it rests (a bound; the next round takes the rest). */
const OUTBOX_BATCHES_MAX = 20

const outboxWorker = (settings: WorkerSettings) =>
  Effect.gen(function* () {
    const outbox = yield* Outbox
    const { handlers } = yield* OrderFlowHandlers
    const all = { ...handlers, sms: smsHandler }
    const round = Effect.gen(function* () {
      for (let batch = 0; batch < OUTBOX_BATCHES_MAX; batch++) {
        const summary = yield* outbox.dispatchDue({ handlers: all })
        if (summary.dead > 0) yield* Effect.logWarning("outbox messages gave up; see GET /v1/ops/outbox/dead").pipe(Effect.annotateLogs({ dead: summary.dead }))
        // A batch short of the limit took everything that was due.
        if (summary.claimed < defaultOutboxSettings.batchMax) return
      }
    })
    return yield* round.pipe(
      Effect.catchAllCause((cause) => Effect.logError("outbox round failed; retrying", cause)),
      Effect.repeat(Schedule.spaced(Duration.millis(settings.outboxIdleMs)))
    )
  })

const backOffice = (settings: WorkerSettings) =>
  Effect.gen(function* () {
    const nowMs = yield* Clock.currentTimeMillis
    const periodEndMs = nowMs - (nowMs % settings.settlementPeriodMs)
    const round = yield* backOfficeRound({ periodEndMs, staleOrderAfterMs: settings.staleOrderAfterMs })
    if (Object.values(round).some((count) => count > 0)) yield* Effect.logInfo("back office round").pipe(Effect.annotateLogs({ ...round }))
  }).pipe(
    Effect.catchAllCause((cause) => Effect.logError("back office round failed; next round retries", cause)),
    Effect.repeat(Schedule.spaced(Duration.millis(settings.backOfficeEveryMs)))
  )

/** Both workers, forked into the layer's scope. */
export const workersLive = (settings: WorkerSettings = defaultWorkerSettings): Layer.Layer<never, never, CoreServices | OrderFlowPorts | SmsGateway> =>
  Layer.scopedDiscard(Effect.all([Effect.forkScoped(outboxWorker(settings)), Effect.forkScoped(backOffice(settings))], { discard: true }))
