import { SqlClient } from "@effect/sql"
import { Clock, Effect, PubSub, Schema, type Scope, Stream } from "effect"
import type { KioskId } from "./domain/ids.js"
import { InvalidRequest } from "./domain/invalid-request.js"
import { KioskNotFound } from "./domain/kiosk.js"
import { DbInt } from "./domain/points.js"
import {
  CONFIG_KEY_LENGTH_MAX,
  CONFIG_KEYS_MAX,
  CONFIG_VALUE_LENGTH_MAX,
  type DesiredPatch,
  DesiredState,
  ReportedState,
  RETURN_DEADLINE_DAYS_MAX,
  Twin,
  type TwinConfig,
  TwinDifference,
  TwinReportConflict,
  TwinReportStale
} from "./domain/twin.js"
import { traced } from "./traced.js"

/** JSON with object keys sorted, so equal documents compare equal as text. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v
  ) ?? "null"

/**
 * Where the kiosk is not what it should be. The catalog version a kiosk should show is the pinned one
 * or else its region's latest; the server's card counts are compared with the kiosk's own, which is
 * how a miscount (a card taken by hand, a load not recorded) shows up.
 */
export const twinDelta = (
  desired: DesiredState,
  desiredVersion: number,
  reported: ReportedState | null,
  regionCatalogVersion: number,
  counts: { readonly stackerCards: number; readonly binCards: number }
): ReadonlyArray<TwinDifference> => {
  const differences: Array<TwinDifference> = []
  const compare = (field: string, want: unknown, have: unknown) => {
    const wantJson = canonicalJson(want ?? null)
    const haveJson = canonicalJson(have ?? null)
    if (wantJson !== haveJson) differences.push(new TwinDifference({ field, desired: wantJson, reported: haveJson }))
  }
  compare("desiredVersion", desiredVersion, reported?.appliedDesiredVersion)
  compare("enabled", desired.enabled, reported?.enabled)
  compare("returnDeadlineDays", desired.returnDeadlineDays, reported?.returnDeadlineDays)
  compare("catalogVersion", desired.catalogVersion ?? regionCatalogVersion, reported?.catalogVersion)
  const keys = [...new Set([...Object.keys(desired.config), ...Object.keys(reported?.config ?? {})])].sort()
  for (const key of keys) compare(`config.${key}`, desired.config[key], reported?.config[key])
  if (reported === null || reported.stackerLevel !== null) compare("stackerCards", counts.stackerCards, reported?.stackerLevel)
  // A unit that cannot count can still contradict the server: empty while the server counts cards, or not.
  else if ((reported.stackerSensed === "empty") !== (counts.stackerCards === 0)) compare("stackerCards", counts.stackerCards, reported.stackerSensed)
  compare("binCards", counts.binCards, reported?.binCount)
  if (reported !== null && reported.unidentifiedCaptures > 0) compare("unidentifiedCaptures", 0, reported.unidentifiedCaptures)
  return differences
}

const checkConfig = (config: TwinConfig): InvalidRequest | undefined => {
  const entries = Object.entries(config)
  if (entries.length > CONFIG_KEYS_MAX) return new InvalidRequest({ reason: `config has ${entries.length} keys; keep it to ${CONFIG_KEYS_MAX}` })
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > CONFIG_KEY_LENGTH_MAX) return new InvalidRequest({ reason: `config key "${key.slice(0, 80)}" must be 1 to ${CONFIG_KEY_LENGTH_MAX} characters` })
    if (value.length > CONFIG_VALUE_LENGTH_MAX) return new InvalidRequest({ reason: `config value of "${key}" is longer than ${CONFIG_VALUE_LENGTH_MAX} characters` })
  }
  return undefined
}

const checkDeadline = (days: number): InvalidRequest | undefined =>
  Number.isSafeInteger(days) && days >= 1 && days <= RETURN_DEADLINE_DAYS_MAX
    ? undefined
    : new InvalidRequest({ reason: `return deadline must be a whole number of days from 1 to ${RETURN_DEADLINE_DAYS_MAX}, got ${days}` })

const SOFTWARE_VERSION_LENGTH_MAX = 64
const COUNT_MAX = 1_000_000

const checkReport = (version: number, state: ReportedState): InvalidRequest | undefined => {
  if (!Number.isSafeInteger(version) || version < 1) return new InvalidRequest({ reason: `report version must be a whole number from 1 up, got ${version}` })
  const counted = [["binCount", state.binCount], ["unidentifiedCaptures", state.unidentifiedCaptures], ["catalogVersion", state.catalogVersion], ["appliedDesiredVersion", state.appliedDesiredVersion]] as const
  for (const [field, n] of state.stackerLevel === null ? counted : ([["stackerLevel", state.stackerLevel], ...counted] as const)) {
    if (!Number.isSafeInteger(n) || n < 0 || n > (field === "catalogVersion" || field === "appliedDesiredVersion" ? Number.MAX_SAFE_INTEGER : COUNT_MAX)) {
      return new InvalidRequest({ reason: `reported ${field} must be a whole number, 0 or more, got ${n}` })
    }
  }
  if (state.softwareVersion.length === 0 || state.softwareVersion.length > SOFTWARE_VERSION_LENGTH_MAX) {
    return new InvalidRequest({ reason: `reported software version must be 1 to ${SOFTWARE_VERSION_LENGTH_MAX} characters` })
  }
  return checkDeadline(state.returnDeadlineDays) ?? checkConfig(state.config)
}

const TwinRow = Schema.Struct({
  kiosk_id: Schema.String,
  desired_json: Schema.parseJson(DesiredState),
  desired_version: DbInt,
  reported_json: Schema.parseJson(Schema.NullOr(ReportedState)),
  reported_version: DbInt,
  last_seen_ms: Schema.NullOr(DbInt),
  stacker_cards: DbInt,
  bin_cards: DbInt,
  region_catalog_version: DbInt
})

/** How far behind a slow subscriber may fall before its oldest desired-state changes are dropped. */
export const DESIRED_CHANGES_BUFFER = 1024

/**
 * Kiosk twins (DESIGN §4): operators set the desired state, each change a new desired version,
 * published to `desiredChanges` after it commits; the kiosk reports its state with versions of its
 * own. A report with the stored version and the same contents is a heartbeat (last seen moves on); an
 * older version, or the same version with other contents, is refused and writes nothing.
 */
export class KioskTwins extends Effect.Service<KioskTwins>()("ecoupon/KioskTwins", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const decodeRows = Schema.decodeUnknown(Schema.Array(TwinRow))
    // Sliding: a writer never waits on a slow reader; a reader that missed a change reads the twin.
    const desiredPubSub = yield* PubSub.sliding<Twin>(DESIRED_CHANGES_BUFFER)

    const load = (kioskId: KioskId) =>
      Effect.gen(function* () {
        const rows = yield* sql`
          SELECT t.kiosk_id, t.desired_json, t.desired_version, t.reported_json, t.reported_version, t.last_seen_ms,
                 k.stacker_cards, k.bin_cards, r.catalog_version AS region_catalog_version
          FROM kiosk_twins t JOIN kiosks k ON k.id = t.kiosk_id JOIN regions r ON r.id = k.region_id
          WHERE t.kiosk_id = ${kioskId}`.pipe(Effect.flatMap(decodeRows), Effect.orDie)
        const row = rows[0]
        if (row === undefined) return yield* new KioskNotFound({ kioskId })
        return new Twin({
          kioskId,
          desired: row.desired_json,
          desiredVersion: row.desired_version,
          reported: row.reported_json,
          reportedVersion: row.reported_version,
          lastSeenMs: row.last_seen_ms,
          regionCatalogVersion: row.region_catalog_version,
          delta: twinDelta(row.desired_json, row.desired_version, row.reported_json, row.region_catalog_version, {
            stackerCards: row.stacker_cards,
            binCards: row.bin_cards
          })
        }, true)
      })

    const setDesired = (kioskId: KioskId, patch: DesiredPatch): Effect.Effect<Twin, InvalidRequest | KioskNotFound> =>
      Effect.gen(function* () {
        const invalid =
          (patch.returnDeadlineDays === undefined ? undefined : checkDeadline(patch.returnDeadlineDays)) ??
          (patch.config === undefined ? undefined : checkConfig(patch.config))
        if (invalid !== undefined) return yield* invalid
        const result = yield* sql.withTransaction(
          Effect.gen(function* () {
            const twin = yield* load(kioskId)
            const pinned = patch.catalogVersion
            if (pinned !== undefined && pinned !== null && (!Number.isSafeInteger(pinned) || pinned < 0 || pinned > twin.regionCatalogVersion)) {
              return yield* new InvalidRequest({ reason: `catalog version to pin must be from 0 to the region's current ${twin.regionCatalogVersion}, got ${pinned}; or null to follow the latest` })
            }
            const desired: DesiredState = {
              enabled: patch.enabled ?? twin.desired.enabled,
              returnDeadlineDays: patch.returnDeadlineDays ?? twin.desired.returnDeadlineDays,
              catalogVersion: pinned === undefined ? twin.desired.catalogVersion : pinned,
              config: patch.config ?? twin.desired.config
            }
            // Setting what is already desired is not a change: no new version for kiosks to chase.
            if (canonicalJson(desired) === canonicalJson(twin.desired)) return { twin, changed: false }
            yield* sql`
              UPDATE kiosk_twins SET desired_json = ${canonicalJson(desired)}, desired_version = desired_version + 1
              WHERE kiosk_id = ${kioskId}`.pipe(Effect.orDie)
            return { twin: yield* load(kioskId), changed: true }
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
        if (result.changed) yield* PubSub.publish(desiredPubSub, result.twin)
        return result.twin
      }).pipe(traced("KioskTwins.setDesired"))

    const report = (kioskId: KioskId, version: number, state: ReportedState): Effect.Effect<Twin, InvalidRequest | KioskNotFound | TwinReportStale | TwinReportConflict> =>
      Effect.gen(function* () {
        const invalid = checkReport(version, state)
        if (invalid !== undefined) return yield* invalid
        const now = yield* Clock.currentTimeMillis
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            const twin = yield* load(kioskId)
            const body = canonicalJson(state)
            if (version < twin.reportedVersion) return yield* new TwinReportStale({ kioskId, version, storedVersion: twin.reportedVersion })
            if (version === twin.reportedVersion) {
              if (canonicalJson(twin.reported) !== body) return yield* new TwinReportConflict({ kioskId, version })
              yield* sql`UPDATE kiosk_twins SET last_seen_ms = ${now} WHERE kiosk_id = ${kioskId}`.pipe(Effect.orDie)
            } else {
              // Conditional on the version read, so two racing reports cannot both land.
              const updated = yield* sql`
                UPDATE kiosk_twins SET reported_json = ${body}, reported_version = ${version}, last_seen_ms = ${now}
                WHERE kiosk_id = ${kioskId} AND reported_version = ${twin.reportedVersion}
                RETURNING kiosk_id`.pipe(Effect.orDie)
              if (updated.length === 0) return yield* new TwinReportStale({ kioskId, version, storedVersion: twin.reportedVersion + 1 })
            }
            return yield* load(kioskId)
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
      }).pipe(traced("KioskTwins.report"))

    /** Desired-state changes of one kiosk, from the moment the stream is run. */
    const desiredChanges = (kioskId: KioskId): Stream.Stream<Twin> => Stream.unwrapScoped(subscribeDesired(kioskId))

    /** Subscribes now and returns the stream of what follows: "subscribe, then read" has no gap. */
    const subscribeDesired = (kioskId: KioskId): Effect.Effect<Stream.Stream<Twin>, never, Scope.Scope> =>
      Effect.map(PubSub.subscribe(desiredPubSub), (queue) => Stream.fromQueue(queue).pipe(Stream.filter((twin) => twin.kioskId === kioskId)))

    /** Every kiosk's desired-state changes, subscribed now: the server's fan-out to kiosks and other servers. */
    const subscribeAllDesired: Effect.Effect<Stream.Stream<Twin>, never, Scope.Scope> = Effect.map(PubSub.subscribe(desiredPubSub), (queue) => Stream.fromQueue(queue))

    return {
      get: (kioskId: KioskId): Effect.Effect<Twin, KioskNotFound> => load(kioskId).pipe(traced("KioskTwins.get")),
      setDesired,
      report,
      desiredChanges,
      subscribeDesired,
      subscribeAllDesired
    } as const
  })
}) {}
