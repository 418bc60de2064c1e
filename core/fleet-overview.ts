import { SqlClient } from "@effect/sql"
import { Clock, Effect, Schema } from "effect"
import { FleetAlert, FleetKiosk, FleetOverview, FleetToday } from "./domain/fleet-overview.js"
import type { Kiosk } from "./domain/kiosk.js"
import { DbInt } from "./domain/points.js"
import type { Twin } from "./domain/twin.js"
import { Kiosks } from "./kiosks.js"
import { KioskTwins } from "./twin.js"

/**
 * The fleet at a glance (DESIGN §7, the operators' dashboard): read-only, built from the kiosks, their
 * twins, the outbox and the ledger as they are now. Alerts are derived here, once, so every screen that
 * shows them agrees on what needs an operator.
 */
export interface FleetOverviewSettings {
  /** A kiosk that has not reported for this long is called silent. Kiosks report hourly and on change. */
  readonly silentAfterMs: number
  /** At or under this many cards the stacker is low (the operators' own call-out level). */
  readonly stackerLowCards: number
  /** The bin is nearly full at this share of its capacity, in percent. */
  readonly binNearlyFullPercent: number
}

export const defaultFleetOverviewSettings: FleetOverviewSettings = { silentAfterMs: 2 * 60 * 60 * 1000, stackerLowCards: 20, binNearlyFullPercent: 80 }

const DAY_MS = 24 * 60 * 60 * 1000

const CountRow = Schema.Struct({ n: DbInt })
const SumRow = Schema.Struct({ n: DbInt, points: Schema.NullOr(DbInt) })
const MoneyRow = Schema.Struct({ kind: Schema.String, posted: DbInt })
const decodeCount = Schema.decodeUnknown(Schema.Array(CountRow))
const decodeSum = Schema.decodeUnknown(Schema.Array(SumRow))
const decodeMoney = Schema.decodeUnknown(Schema.Array(MoneyRow))

/** The alerts of one kiosk, most urgent first. */
export const kioskAlerts = (kiosk: Kiosk, twin: Twin, nowMs: number, settings: FleetOverviewSettings): ReadonlyArray<FleetAlert> => {
  const alerts: Array<FleetAlert> = []
  const add = (severity: FleetAlert["severity"], code: string, detail: string) => alerts.push(new FleetAlert({ severity, code, kioskId: kiosk.id, detail }))
  if (twin.lastSeenMs === null) add("warning", "kiosk-silent", `${kiosk.name} has never reported: is its agent running with its key?`)
  else if (nowMs - twin.lastSeenMs > settings.silentAfterMs) add("critical", "kiosk-silent", `${kiosk.name} last reported ${Math.round((nowMs - twin.lastSeenMs) / 60_000)} min ago: check its power and network`)
  if (twin.reported?.deviceStatus === "fault") add("critical", "kiosk-fault", `${kiosk.name} reports a device fault: send an operator`)
  else if (twin.reported?.deviceStatus === "degraded") add("warning", "kiosk-degraded", `${kiosk.name} is degraded (stacker, bin or printer): plan a visit`)
  if (kiosk.stackerCards === 0) add("critical", "stacker-empty", `${kiosk.name} has no cards left: load cards`)
  else if (kiosk.stackerCards <= settings.stackerLowCards) add("warning", "stacker-low", `${kiosk.name} has ${kiosk.stackerCards} cards left: load cards`)
  if (kiosk.binCards >= kiosk.binCapacity) add("critical", "bin-full", `${kiosk.name}'s capture bin is full: empty it`)
  else if (kiosk.binCards * 100 >= kiosk.binCapacity * settings.binNearlyFullPercent) add("warning", "bin-nearly-full", `${kiosk.name}'s capture bin holds ${kiosk.binCards} of ${kiosk.binCapacity}: empty it soon`)
  if (!twin.desired.enabled) add("warning", "kiosk-disabled", `${kiosk.name} is disabled by an operator`)
  if (twin.reported !== null && twin.delta.length > 0) add("warning", "twin-delta", `${kiosk.name} differs from what it should be in ${twin.delta.map((d) => d.field).join(", ")}`)
  return alerts
}

export class FleetOverviews extends Effect.Service<FleetOverviews>()("ecoupon/FleetOverviews", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const kiosks = yield* Kiosks
    const twins = yield* KioskTwins

    const count = (query: Effect.Effect<ReadonlyArray<unknown>, unknown>) =>
      query.pipe(Effect.flatMap(decodeCount), Effect.map((rows) => rows[0]?.n ?? 0))
    const sum = (query: Effect.Effect<ReadonlyArray<unknown>, unknown>) =>
      query.pipe(Effect.flatMap(decodeSum), Effect.map((rows) => ({ n: rows[0]?.n ?? 0, points: rows[0]?.points ?? 0 })))

    const today = (sinceMs: number) =>
      Effect.gen(function* () {
        const placed = yield* count(sql`SELECT COUNT(*) AS n FROM orders WHERE placed_at_ms >= ${sinceMs}`)
        const delivered = yield* count(sql`SELECT COUNT(*) AS n FROM orders WHERE state = 'delivered' AND resolved_at_ms >= ${sinceMs}`)
        const aborted = yield* count(sql`SELECT COUNT(*) AS n FROM orders WHERE state = 'aborted' AND resolved_at_ms >= ${sinceMs}`)
        const coupons = yield* sum(sql`SELECT COUNT(*) AS n, SUM(value_points) AS points FROM coupons WHERE issued_at_ms >= ${sinceMs} AND state <> 'void' AND state <> 'reserved'`)
        const redeemed = yield* sum(sql`SELECT COUNT(*) AS n, SUM(amount) AS points FROM redemptions WHERE redeemed_at_ms >= ${sinceMs} AND state = 'redeemed'`)
        return new FleetToday({
          sinceMs,
          ordersPlaced: placed,
          ordersDelivered: delivered,
          ordersAborted: aborted,
          couponsIssued: coupons.n,
          couponPoints: coupons.points,
          redemptions: redeemed.n,
          redeemedPoints: redeemed.points
        })
      })

    const moneyByKind = sql`SELECT kind, SUM(credits_posted - debits_posted) AS posted FROM ledger_accounts GROUP BY kind ORDER BY kind`.pipe(
      Effect.flatMap(decodeMoney),
      Effect.map((rows) => Object.fromEntries(rows.map((row) => [row.kind, row.posted])))
    )

    const snapshot = (settings: FleetOverviewSettings = defaultFleetOverviewSettings): Effect.Effect<FleetOverview> =>
      Effect.gen(function* () {
        const nowMs = yield* Clock.currentTimeMillis
        const fleet: Array<FleetKiosk> = []
        const alerts: Array<FleetAlert> = []
        for (const kiosk of yield* kiosks.list()) {
          const twin = yield* Effect.orDie(twins.get(kiosk.id))
          fleet.push(new FleetKiosk({ kioskId: kiosk.id, name: kiosk.name, regionId: kiosk.regionId, binCapacity: kiosk.binCapacity, stackerCards: kiosk.stackerCards, binCards: kiosk.binCards, twin }))
          alerts.push(...kioskAlerts(kiosk, twin, nowMs, settings))
        }
        const pending = yield* count(sql`SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'`)
        const dead = yield* count(sql`SELECT COUNT(*) AS n FROM outbox WHERE state = 'dead'`)
        if (dead > 0) alerts.push(new FleetAlert({ severity: "critical", code: "dead-letters", kioskId: null, detail: `${dead} outbox message(s) gave up: look at them and retry` }))
        const flagged = yield* count(sql`SELECT COUNT(*) AS n FROM orders WHERE flagged = 1`)
        if (flagged > 0) alerts.push(new FleetAlert({ severity: "warning", code: "flagged-orders", kioskId: null, detail: `${flagged} order(s) were voided by the server after their kiosk never resolved them` }))
        alerts.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "critical" ? -1 : 1))
        return new FleetOverview({
          atMs: nowMs,
          kiosks: fleet,
          alerts,
          outbox: { pending, dead },
          today: yield* today(nowMs - (nowMs % DAY_MS)),
          moneyByKind: yield* moneyByKind
        })
      }).pipe(Effect.orDie, Effect.withSpan("FleetOverviews.snapshot"))

    return { snapshot, moneyByKind: Effect.orDie(moneyByKind) } as const
  }),
  dependencies: [Kiosks.Default, KioskTwins.Default]
}) {}
