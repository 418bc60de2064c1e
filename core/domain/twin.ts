import { Schema } from "effect"
import { KioskId } from "./ids.js"

/**
 * The kiosk twin (DESIGN §4): what operators want a kiosk to be (desired) and what the kiosk says it
 * is (reported), each a versioned JSON document, and the difference between them.
 */

export const RETURN_DEADLINE_DAYS_MAX = 365
export const CONFIG_KEYS_MAX = 64
export const CONFIG_KEY_LENGTH_MAX = 64
export const CONFIG_VALUE_LENGTH_MAX = 1024

export const TwinConfig = Schema.Record({ key: Schema.String, value: Schema.String })
export type TwinConfig = typeof TwinConfig.Type

export const DesiredState = Schema.Struct({
  enabled: Schema.Boolean,
  /** Days a customer has to bring a card back before its deposit is charged. */
  returnDeadlineDays: Schema.Int,
  /** A pinned catalog version; null follows the region's latest. */
  catalogVersion: Schema.NullOr(Schema.Int),
  config: TwinConfig
})
export type DesiredState = typeof DesiredState.Type

export const DeviceStatus = Schema.Literal("ok", "degraded", "fault", "maintenance")
export type DeviceStatus = typeof DeviceStatus.Type

/** What a stacker's sensors say, where the unit cannot count its cards. */
export const StackerSensed = Schema.Literal("empty", "low", "ok")
export type StackerSensed = typeof StackerSensed.Type

export const ReportedState = Schema.Struct({
  deviceStatus: DeviceStatus,
  /** Blank cards the kiosk counts in its stacker; null when its unit only senses a level (`stackerSensed`). */
  stackerLevel: Schema.NullOr(Schema.Int),
  /** The stacker's sensors (reports stored before this field existed read as "ok"). */
  stackerSensed: Schema.optionalWith(StackerSensed, { default: () => "ok" }),
  /** Cards the kiosk counts in its capture bin. */
  binCount: Schema.Int,
  /**
   * Cards the kiosk captured without the server recording them (no UID read, or a card the server does
   * not know): why the server's counts and the kiosk's differ. Older reports read as 0.
   */
  unidentifiedCaptures: Schema.optionalWith(Schema.Int, { default: () => 0 }),
  softwareVersion: Schema.String,
  /** The desired version the kiosk has applied, and what it applied. */
  appliedDesiredVersion: Schema.Int,
  enabled: Schema.Boolean,
  returnDeadlineDays: Schema.Int,
  catalogVersion: Schema.Int,
  config: TwinConfig
})
export type ReportedState = typeof ReportedState.Type

/** One field where the kiosk is not what it should be; values are JSON text (null when absent). */
export class TwinDifference extends Schema.Class<TwinDifference>("TwinDifference")({
  field: Schema.String,
  desired: Schema.String,
  reported: Schema.String
}) {}

export class Twin extends Schema.Class<Twin>("Twin")({
  kioskId: KioskId,
  desired: DesiredState,
  desiredVersion: Schema.Int,
  /** Null until the kiosk first reports. */
  reported: Schema.NullOr(ReportedState),
  reportedVersion: Schema.Int,
  lastSeenMs: Schema.NullOr(Schema.Int),
  /** The region's catalog version now: what `catalogVersion: null` means. */
  regionCatalogVersion: Schema.Int,
  /**
   * Desired against reported, plus the server's card counts against the kiosk's own (fields
   * `stackerCards` and `binCards`, where "desired" is what the server recorded).
   */
  delta: Schema.Array(TwinDifference)
}) {}

export const defaultDesiredState = (returnDeadlineDays: number): DesiredState => ({
  enabled: true,
  returnDeadlineDays,
  catalogVersion: null,
  config: {}
})

/** What an operator changes; absent fields stay as they are. */
export interface DesiredPatch {
  readonly enabled?: boolean | undefined
  readonly returnDeadlineDays?: number | undefined
  readonly catalogVersion?: number | null | undefined
  readonly config?: TwinConfig | undefined
}

export class TwinReportStale extends Schema.TaggedError<TwinReportStale>()("TwinReportStale", {
  kioskId: KioskId,
  version: Schema.Int,
  storedVersion: Schema.Int
}) {
  override get message() {
    return `kiosk ${this.kioskId} reported version ${this.version} but ${this.storedVersion} is already stored; report with a higher version`
  }
}

export class TwinReportConflict extends Schema.TaggedError<TwinReportConflict>()("TwinReportConflict", {
  kioskId: KioskId,
  version: Schema.Int
}) {
  override get message() {
    return `kiosk ${this.kioskId} reported version ${this.version} twice with different contents; every change needs a new version`
  }
}
