import { DAY_MS, HOUR_MS } from "./behaviour-customer.js"
import type { SimCardUnitSnapshot } from "./card-unit-control.js"
import type { SimPrinterSnapshot } from "./printer.js"
import type { DeviceRandom } from "./rng.js"

/**
 * How simulated operators keep the fleet running. Field operators come to a kiosk when its state asks
 * for it (the alert a twin dashboard would raise): a low stacker, a filling bin, a jammed card unit,
 * a printer that needs paper or clearing. The back office runs the daily jobs: settlement of the day
 * before, the expiry and overdue-card sweeps, voiding orders kiosks never resolved, campaign grants.
 * The outbox worker sends what the core queued, nudged when something is queued and every minute.
 */

export interface OperatorParams {
  /** From alert to the operator at the kiosk. */
  readonly responseMs: readonly [number, number]
  /** Restock when the stacker holds this many cards or fewer (the unit's pre-empty level). */
  readonly restockAtCards: number
  /** Empty the bin when it is this full. */
  readonly emptyBinAtShare: number
  /** Change the paper roll when this little is left. */
  readonly paperChangeAtShare: number
  /** The back office's daily run, this long after midnight. */
  readonly dailyJobsAtMs: number
  /** Orders still placed after this long are voided and flagged (the kiosk never said how they ended). */
  readonly staleOrderAfterMs: number
  /** Campaign grants: this share of a region's registered customers get `campaignGrantPoints` each day. */
  readonly campaignShare: number
  readonly campaignGrantPoints: number
  /** The outbox worker rests this long when nothing nudges it. */
  readonly outboxIdleMs: number
  /** Batches one outbox round may send before it rests (each up to the outbox's batch limit). */
  readonly outboxBatchesMax: number
  /**
   * The daily run's housekeeping prunes what ended longer ago than this (`core/housekeeping.ts`). A
   * day: nothing in the simulated world replays a request or reuses a code or session after minutes,
   * and a month of a large fleet must fit in memory.
   */
  readonly retentionMs: number
}

export const defaultOperatorParams: OperatorParams = {
  responseMs: [30 * 60_000, 90 * 60_000],
  restockAtCards: 20,
  emptyBinAtShare: 0.8,
  paperChangeAtShare: 0.1,
  dailyJobsAtMs: 30 * 60_000,
  staleOrderAfterMs: HOUR_MS,
  campaignShare: 0.02,
  campaignGrantPoints: 5_000,
  outboxIdleMs: 60_000,
  outboxBatchesMax: 50,
  retentionMs: DAY_MS
}

export type MaintenanceAction = "empty-bin" | "reinitialise" | "restock" | "printer-service" | "printer-paper"

/**
 * What an operator at the kiosk does, in the order they do it: empty the bin first (a re-initialise
 * captures the card left in the transport), then clear the card unit, then restock and see to the
 * printer. Empty when nothing is needed.
 */
export const maintenanceNeeds = (card: SimCardUnitSnapshot, printer: SimPrinterSnapshot, params: OperatorParams): ReadonlyArray<MaintenanceAction> => {
  const actions: Array<MaintenanceAction> = []
  if (card.binCards >= Math.floor(card.binCapacity * params.emptyBinAtShare) || (card.binCards > 0 && card.cardInTransport !== undefined)) {
    actions.push("empty-bin")
  }
  if (card.jammed || !card.initialised || card.cardInTransport !== undefined) actions.push("reinitialise")
  if (card.stackerCards <= params.restockAtCards) actions.push("restock")
  if (printer.cutterError || printer.coverOpen || !printer.online) actions.push("printer-service")
  if (printer.paperRemainingMm <= printer.rollLengthMm * params.paperChangeAtShare) actions.push("printer-paper")
  return actions
}

export const responseDelayMs = (random: DeviceRandom, params: OperatorParams): number =>
  params.responseMs[0] + random.int(Math.max(1, params.responseMs[1] - params.responseMs[0] + 1))

/** The next time of the back office's daily run after `nowMs`. */
export const nextDailyRunMs = (nowMs: number, params: OperatorParams): number => {
  const midnight = nowMs - (((nowMs % DAY_MS) + DAY_MS) % DAY_MS)
  const today = midnight + params.dailyJobsAtMs
  return today > nowMs ? today : today + DAY_MS
}
