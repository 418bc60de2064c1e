/**
 * What a fleet run counts while it runs, and the figures it ends with (`kpis.json`, the summary, the
 * report's charts). Plain counters on one object: the simulator is one thread, and a counter bump on
 * the hot path must cost nothing.
 */

export type Tally = Record<string, number>

export const bump = (tally: Tally, key: string, by = 1): void => {
  tally[key] = (tally[key] ?? 0) + by
}

export interface DayFigures {
  readonly day: number
  journeys: number
  coupons: number
  couponPoints: number
  redemptions: number
  redeemedPoints: number
  cardReturns: number
  deviceFailures: number
  /** The database's size at the day's end (pages held, freed ones included: sql.js keeps them in memory). */
  storeBytes: number
}

export class FleetCounters {
  journeys = 0
  readonly journeyOutcomes: Tally = {}
  walkedAway = 0
  registrations = 0
  codeMistypes = 0
  codeResends = 0
  readonly orderOutcomes: Tally = {}
  readonly ordersByMedium: Tally = {}
  readonly refusals: Tally = {}
  coupons = 0
  couponPoints = 0
  redemptions = 0
  redeemedPoints = 0
  readonly redemptionRefusals: Tally = {}
  rollbacks = 0
  cardsDispensed = 0
  cardsNotTaken = 0
  readonly cardReturns: Tally = {}
  cardsSwallowed = 0
  readonly deviceFailures: Tally = {}
  readonly stockOuts: Tally = {}
  maintenanceVisits = 0
  readonly maintenanceActions: Tally = {}
  readonly office: Tally = {}
  readonly outbox: Tally = {}
  readonly catalog: Tally = {}
  readonly days: Array<DayFigures> = []

  today(day: number): DayFigures {
    let figures = this.days[day]
    if (figures === undefined) {
      for (let d = this.days.length; d <= day; d++) {
        this.days.push({ day: d, journeys: 0, coupons: 0, couponPoints: 0, redemptions: 0, redeemedPoints: 0, cardReturns: 0, deviceFailures: 0, storeBytes: 0 })
      }
      figures = this.days[day] as DayFigures
    }
    return figures
  }
}

/** One kiosk's card stock over time: [virtual ms, stacker, bin] samples (device counts). */
export type StockSeries = Array<readonly [number, number, number]>

export interface MoneyPoint {
  readonly day: number
  readonly byKind: Readonly<Record<string, number>>
}

export interface AuditSummary {
  readonly ok: boolean
  /** The run was asked not to audit (benchmarks only); `ok` then says nothing. */
  readonly skipped: boolean
  readonly violations: number
  readonly text: string
  readonly checks: ReadonlyArray<{ readonly invariant: number; readonly name: string; readonly checked: number; readonly violations: number }>
}

/** Where a stopped run was when it stopped (Ctrl-C): its figures cover the run up to then. */
export interface Interruption {
  /** Why it stopped: the signal's name, or "stopped". */
  readonly reason: string
  /** Virtual time it stopped at, and the simulated day that was under way (1-based). */
  readonly atMs: number
  readonly day: number
  readonly days: number
  readonly journeys: number
  /** Stopped while simulating, or during closing time (final drain and audit). */
  readonly phase: "simulation" | "closing"
}

/** Everything a run reports; `kpis.json` is this object. */
export interface FleetKpis {
  /** True when the run was stopped before its end: no closing time, no final drain, no audit. */
  readonly partial: boolean
  readonly interrupted?: Interruption
  readonly config: {
    readonly kiosks: number
    readonly merchants: number
    readonly regions: number
    readonly days: number
    readonly seed: number
    readonly faults: string
    readonly customersPerKioskPerDay: number
    readonly startMs: number
  }
  readonly journeys: { readonly total: number; readonly outcomes: Tally; readonly walkedAway: number; readonly registrations: number; readonly codeMistypes: number; readonly codeResends: number }
  readonly orders: { readonly outcomes: Tally; readonly byMedium: Tally; readonly refusals: Tally }
  readonly coupons: { readonly issued: number; readonly points: number }
  readonly redemptions: { readonly count: number; readonly points: number; readonly refusals: Tally; readonly rollbacks: number }
  readonly cards: {
    readonly dispensed: number
    readonly notTaken: number
    readonly returns: Tally
    readonly swallowed: number
    readonly overdue: number
    readonly outstandingAtEnd: number
  }
  /** Deposit charges of unreturned cards, as the cards' charge states say at the end. */
  readonly carrier: { readonly chargesQueued: number; readonly confirmed: number; readonly declined: number; readonly pending: number; readonly confirmedPoints: number }
  readonly settlements: { readonly statements: number; readonly points: number; readonly payoutsPaid: number; readonly payoutsFailed: number }
  readonly deviceFailures: Tally
  readonly faultsFired: Tally
  readonly stockOuts: Tally
  readonly maintenance: { readonly visits: number; readonly actions: Tally }
  readonly office: Tally
  readonly outbox: Tally
  readonly catalog: Tally
  readonly twinDrift: { readonly kiosksWithDelta: number; readonly fields: Tally }
  readonly invariants: { readonly providerDelivery: { readonly ok: boolean; readonly missing: number; readonly checked: number }; readonly phoneNumbersLogged: number }
  readonly audit: AuditSummary
  readonly days: ReadonlyArray<DayFigures>
  readonly money: ReadonlyArray<MoneyPoint>
  readonly cardStock: Readonly<Record<string, StockSeries>>
  readonly eventLog: { readonly lines: number; readonly sha256: string }
  /** Virtual time covered, timers the loop fired, and the size of the database at the end. */
  readonly run: { readonly simulatedMs: number; readonly timersFired: number; readonly storeBytes: number }
}
