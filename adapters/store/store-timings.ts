import { Context } from "effect"

/**
 * Where one unit of work (the server makes one per HTTP request) spent its time in the embedded
 * store, for the server's `Server-Timing` header: running statements, waiting for the database lock
 * (other transactions held it), and waiting for the journal's fsync after commit. The sql.js store adds
 * to the account it finds in the context; outside a unit of work there is none and nothing is timed.
 * (PostgreSQL keeps its own account: pg_stat_database.)
 */
export interface StoreTimings {
  statements: number
  statementsMs: number
  lockWaitMs: number
  durableWaitMs: number
}

export const newStoreTimings = (): StoreTimings => ({ statements: 0, statementsMs: 0, lockWaitMs: 0, durableWaitMs: 0 })

export class CurrentStoreTimings extends Context.Reference<CurrentStoreTimings>()("ecoupon/store/CurrentStoreTimings", {
  defaultValue: (): StoreTimings | undefined => undefined
}) {}
