import { Schema } from "effect"
import { KioskId, RegionId } from "./ids.js"
import { Twin } from "./twin.js"

/**
 * What an operator sees of the whole deployment at a glance (the fleet dashboard): every kiosk's twin
 * with its card counts, what needs attention, the outbox, today's business and where the points are.
 */

/** Something an operator should look at; `severity` orders the list. */
export class FleetAlert extends Schema.Class<FleetAlert>("FleetAlert")({
  severity: Schema.Literal("critical", "warning"),
  /** A stable code the dashboard translates: kiosk-fault, kiosk-silent, stacker-low, ... */
  code: Schema.String,
  kioskId: Schema.NullOr(KioskId),
  detail: Schema.String
}) {}

export class FleetKiosk extends Schema.Class<FleetKiosk>("FleetKiosk")({
  kioskId: KioskId,
  name: Schema.String,
  regionId: RegionId,
  binCapacity: Schema.Int,
  /** The server's own card counts (loaded minus dispensed; captured minus emptied). */
  stackerCards: Schema.Int,
  binCards: Schema.Int,
  twin: Twin
}) {}

export class FleetToday extends Schema.Class<FleetToday>("FleetToday")({
  /** Start of the day (UTC) the figures count from. */
  sinceMs: Schema.Int,
  ordersPlaced: Schema.Int,
  ordersDelivered: Schema.Int,
  ordersAborted: Schema.Int,
  couponsIssued: Schema.Int,
  couponPoints: Schema.Int,
  redemptions: Schema.Int,
  redeemedPoints: Schema.Int
}) {}

export class FleetOverview extends Schema.Class<FleetOverview>("FleetOverview")({
  atMs: Schema.Int,
  kiosks: Schema.Array(FleetKiosk),
  alerts: Schema.Array(FleetAlert),
  outbox: Schema.Struct({ pending: Schema.Int, dead: Schema.Int }),
  today: FleetToday,
  /** Posted balance (credits minus debits) summed per ledger account kind: issuer, user, coupon, ... */
  moneyByKind: Schema.Record({ key: Schema.String, value: Schema.Int })
}) {}
