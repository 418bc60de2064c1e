import { SqlClient } from "@effect/sql"
import { Clock, Context, Data, Effect, Option, Schema } from "effect"
import { KioskId, RegionId } from "./domain/ids.js"
import { checkName, InvalidRequest } from "./domain/invalid-request.js"
import {
  CaptureBinFull,
  CardCounts,
  Kiosk,
  KioskConflict,
  kioskFromRow,
  KioskNotFound,
  KioskRow,
  NoCardsInStacker,
  StackerOverfilled,
  StockMovement,
  StockMovementConflict,
  stockMovementFromRow,
  StockMovementId,
  type StockMovementKind,
  StockMovementRow
} from "./domain/kiosk.js"
import { RegionNotFound } from "./domain/region.js"
import { defaultDesiredState, RETURN_DEADLINE_DAYS_MAX } from "./domain/twin.js"
import { newId } from "./id-generator.js"
import { inTransactionOr } from "./in-transaction.js"
import { traced } from "./traced.js"

export interface KiosksSettings {
  /** Blank cards a stacker holds; a load beyond it is refused. */
  readonly stackerCardsMax: number
  /** Largest capture bin a kiosk may be registered with. */
  readonly binCapacityMax: number
  /** The return deadline a new kiosk's twin starts with. */
  readonly returnDeadlineDaysDefault: number
}

export const defaultKiosksSettings: KiosksSettings = {
  stackerCardsMax: 1_000,
  binCapacityMax: 10_000,
  returnDeadlineDaysDefault: 14
}

export class KiosksConfig extends Context.Reference<KiosksConfig>()("ecoupon/KiosksConfig", {
  defaultValue: (): KiosksSettings => defaultKiosksSettings
}) {}

export interface StockMovementRequest {
  /** The caller's id: recording it again returns the first movement (e.g. `dispense:<orderId>`). */
  readonly id: StockMovementId
  readonly kioskId: KioskId
  readonly kind: StockMovementKind
  readonly deltaStacker: number
  readonly deltaBin: number
  /** What caused it: an order, a card, an operator's note. */
  readonly ref?: string | null | undefined
}

export type StockMovementError = KioskNotFound | NoCardsInStacker | StackerOverfilled | CaptureBinFull | StockMovementConflict

/** The id was recorded before, found inside the write transaction: roll back, then compare. */
class Replay extends Data.TaggedError("Replay")<{}> {}

const expectedSigns: Record<StockMovementKind, (deltaStacker: number, deltaBin: number) => boolean> = {
  load: (s, b) => s > 0 && b === 0,
  dispense: (s, b) => s < 0 && b === 0,
  capture: (s, b) => s === 0 && b > 0,
  empty_bin: (s, b) => s === 0 && b <= 0
}

const decodeKiosks = Schema.decodeUnknown(Schema.Array(KioskRow))
const decodeMovements = Schema.decodeUnknown(Schema.Array(StockMovementRow))

const findKiosk = (sql: SqlClient.SqlClient, id: KioskId) =>
  sql`SELECT * FROM kiosks WHERE id = ${id}`.pipe(
    Effect.flatMap(decodeKiosks),
    Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), kioskFromRow)),
    Effect.orDie
  )

const findMovement = (sql: SqlClient.SqlClient, id: StockMovementId) =>
  sql`SELECT * FROM card_stock_movements WHERE id = ${id}`.pipe(
    Effect.flatMap(decodeMovements),
    Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), stockMovementFromRow)),
    Effect.orDie
  )

/**
 * Records one card stock movement and moves the kiosk's counts by the same deltas in one transaction
 * (joining the caller's), so `kiosks.stacker_cards` and `bin_cards` always equal the sums of
 * `card_stock_movements` (invariant 5). The counts are checked by the UPDATE itself, so concurrent
 * dispenses cannot take the stacker below zero nor captures overfill the bin. Idempotent by id: the
 * same id and body returns the first movement; the same id with another body is a conflict.
 *
 * For the orders and cards services: a dispense is `{ kind: "dispense", deltaStacker: -1, deltaBin: 0 }`,
 * a capture `{ kind: "capture", deltaStacker: 0, deltaBin: 1 }`.
 */
export const recordStockMovement = (request: StockMovementRequest): Effect.Effect<StockMovement, StockMovementError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const settings = yield* KiosksConfig
    const { id, kioskId, kind, deltaStacker, deltaBin } = request
    const ref = request.ref ?? null
    if (!Number.isSafeInteger(deltaStacker) || !Number.isSafeInteger(deltaBin) || !expectedSigns[kind](deltaStacker, deltaBin)) {
      return yield* Effect.dieMessage(`a ${kind} movement cannot move the stacker by ${deltaStacker} and the bin by ${deltaBin}`)
    }
    const same = (stored: StockMovement) =>
      [
        stored.kioskId !== kioskId ? `kiosk ${stored.kioskId} vs ${kioskId}` : "",
        stored.kind !== kind ? `kind ${stored.kind} vs ${kind}` : "",
        stored.deltaStacker !== deltaStacker ? `stacker ${stored.deltaStacker} vs ${deltaStacker}` : "",
        stored.deltaBin !== deltaBin ? `bin ${stored.deltaBin} vs ${deltaBin}` : "",
        stored.ref !== ref ? `ref ${stored.ref} vs ${ref}` : ""
      ].filter((d) => d !== "").join(", ")
    const replayed = <E>(original: E): Effect.Effect<StockMovement, E | StockMovementConflict> =>
      Effect.gen(function* () {
        const stored = yield* findMovement(sql, id)
        if (Option.isNone(stored)) return yield* Effect.fail(original)
        const difference = same(stored.value)
        if (difference !== "") return yield* new StockMovementConflict({ movementId: id, difference })
        return stored.value
      })
    const write = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const updated = yield* sql`
        UPDATE kiosks SET stacker_cards = stacker_cards + ${deltaStacker}, bin_cards = bin_cards + ${deltaBin}
        WHERE id = ${kioskId}
          AND stacker_cards + ${deltaStacker} >= 0 AND stacker_cards + ${deltaStacker} <= ${Math.max(settings.stackerCardsMax, 0)}
          AND bin_cards + ${deltaBin} >= 0 AND bin_cards + ${deltaBin} <= bin_capacity
        RETURNING id`.pipe(Effect.orDie)
      if (updated.length === 0) {
        const kiosk = yield* findKiosk(sql, kioskId)
        if (Option.isNone(kiosk)) return yield* new KioskNotFound({ kioskId })
        const { binCapacity, binCards, stackerCards } = kiosk.value
        if (stackerCards + deltaStacker < 0) return yield* new NoCardsInStacker({ kioskId, stackerCards, requested: -deltaStacker })
        if (deltaStacker > 0) {
          return yield* new StackerOverfilled({ kioskId, stackerCards, stackerCardsMax: settings.stackerCardsMax, requested: deltaStacker })
        }
        if (binCards + deltaBin > binCapacity) return yield* new CaptureBinFull({ kioskId, binCards, binCapacity })
        return yield* Effect.dieMessage(`kiosk ${kioskId} refused a ${kind} movement for no known reason (bin ${binCards} by ${deltaBin})`)
      }
      const inserted = yield* sql`
        INSERT INTO card_stock_movements (id, kiosk_id, kind, delta_stacker, delta_bin, ref, at_ms)
        VALUES (${id}, ${kioskId}, ${kind}, ${deltaStacker}, ${deltaBin}, ${ref}, ${now})
        ON CONFLICT (id) DO NOTHING
        RETURNING id`.pipe(Effect.orDie)
      if (inserted.length === 0) {
        // Joined to the caller's transaction there is no savepoint to roll back: undo the counts.
        yield* sql`
          UPDATE kiosks SET stacker_cards = stacker_cards - ${deltaStacker}, bin_cards = bin_cards - ${deltaBin}
          WHERE id = ${kioskId}`.pipe(Effect.orDie)
        return yield* new Replay()
      }
      return new StockMovement({ id, kioskId, kind, deltaStacker, deltaBin, ref, atMs: now }, true)
    })
    // A refusal writes nothing and a replay undoes its counts: no savepoint needed inside a caller's.
    return yield* inTransactionOr(sql, write, write).pipe(
      Effect.catchTag("SqlError", Effect.die),
      // A refusal may be the replay of a movement that succeeded before: the first result wins.
      Effect.catchTags({
        Replay: (replay: Replay) => replayed(replay).pipe(Effect.catchTag("Replay", Effect.die)),
        NoCardsInStacker: (error: NoCardsInStacker) => replayed(error),
        StackerOverfilled: (error: StackerOverfilled) => replayed(error),
        CaptureBinFull: (error: CaptureBinFull) => replayed(error),
        KioskNotFound: (error: KioskNotFound) => replayed(error)
      })
    )
  }).pipe(traced("Kiosks.recordStockMovement", { attributes: { kind: request.kind } }))

export interface RegisterKiosk {
  /** The operator's own id, to make the call replayable; a fresh one is made when absent. */
  readonly id?: KioskId | undefined
  readonly regionId: RegionId
  readonly name: string
  readonly binCapacity: number
}

export const KIOSK_LIST_MAX = 1000
export const MOVEMENT_HISTORY_MAX = 1000

/**
 * Kiosks (DESIGN §4): registered in a region with a capture bin of fixed capacity, and their card
 * stock. Registering a kiosk also creates its twin with the default desired state.
 */
export class Kiosks extends Effect.Service<Kiosks>()("ecoupon/Kiosks", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const settings = yield* KiosksConfig
    const provideSql = Effect.provideService(SqlClient.SqlClient, sql)

    const requireKiosk = (id: KioskId) =>
      Effect.flatMap(findKiosk(sql, id), Option.match({ onNone: () => Effect.fail(new KioskNotFound({ kioskId: id })), onSome: Effect.succeed }))

    const register = (request: RegisterKiosk): Effect.Effect<Kiosk, InvalidRequest | RegionNotFound | KioskConflict> =>
      Effect.gen(function* () {
        const name = checkName("kiosk", request.name)
        if (name instanceof InvalidRequest) return yield* name
        const { binCapacity, regionId } = request
        if (!Number.isSafeInteger(binCapacity) || binCapacity < 1 || binCapacity > settings.binCapacityMax) {
          return yield* new InvalidRequest({ reason: `bin capacity must be a whole number of cards from 1 to ${settings.binCapacityMax}, got ${binCapacity}` })
        }
        const id = request.id ?? KioskId.make(yield* newId("ksk"))
        const now = yield* Clock.currentTimeMillis
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            const region = yield* sql`SELECT id FROM regions WHERE id = ${regionId}`.pipe(Effect.orDie)
            if (region.length === 0) return yield* new RegionNotFound({ regionId })
            const inserted = yield* sql`
              INSERT INTO kiosks (id, region_id, name, stacker_cards, bin_cards, bin_capacity, created_at_ms)
              VALUES (${id}, ${regionId}, ${name}, 0, 0, ${binCapacity}, ${now})
              ON CONFLICT (id) DO NOTHING
              RETURNING id`.pipe(Effect.orDie)
            if (inserted.length === 0) {
              const existing = yield* requireKiosk(id).pipe(Effect.orDie)
              if (existing.regionId !== regionId || existing.name !== name || existing.binCapacity !== binCapacity) {
                return yield* new KioskConflict({ kioskId: id, existingRegionId: existing.regionId, existingName: existing.name })
              }
              return existing
            }
            const deadlineDays = Math.min(Math.max(1, settings.returnDeadlineDaysDefault), RETURN_DEADLINE_DAYS_MAX)
            const desired = JSON.stringify(defaultDesiredState(deadlineDays))
            yield* sql`
              INSERT INTO kiosk_twins (kiosk_id, desired_json, desired_version, reported_json, reported_version, last_seen_ms)
              VALUES (${id}, ${desired}, 1, 'null', 0, NULL)`.pipe(Effect.orDie)
            return new Kiosk({ id, regionId, name, stackerCards: 0, binCards: 0, binCapacity, createdAtMs: now })
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
      }).pipe(traced("Kiosks.register"))

    /** An operator puts `count` blank cards into the stacker. */
    const loadCards = (kioskId: KioskId, count: number, movementId?: StockMovementId): Effect.Effect<StockMovement, InvalidRequest | StockMovementError> =>
      Effect.gen(function* () {
        if (!Number.isSafeInteger(count) || count < 1 || count > settings.stackerCardsMax) {
          return yield* new InvalidRequest({ reason: `load a whole number of cards from 1 to ${settings.stackerCardsMax}, got ${count}` })
        }
        const id = movementId ?? StockMovementId.make(yield* newId("mov"))
        return yield* recordStockMovement({ id, kioskId, kind: "load", deltaStacker: count, deltaBin: 0, ref: "operator" }).pipe(provideSql)
      }).pipe(traced("Kiosks.loadCards"))

    /**
     * An operator takes every captured card out of the bin. An empty bin records a movement of zero:
     * the visit is on the record all the same. Replaying the id returns the first movement.
     */
    const emptyBin = (kioskId: KioskId, movementId?: StockMovementId): Effect.Effect<StockMovement, StockMovementError> =>
      Effect.gen(function* () {
        const id = movementId ?? StockMovementId.make(yield* newId("mov"))
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            const existing = yield* findMovement(sql, id)
            if (Option.isSome(existing)) {
              if (existing.value.kioskId === kioskId && existing.value.kind === "empty_bin") return existing.value
              return yield* new StockMovementConflict({ movementId: id, difference: `recorded as ${existing.value.kind} at ${existing.value.kioskId}` })
            }
            const kiosk = yield* requireKiosk(kioskId)
            return yield* recordStockMovement({ id, kioskId, kind: "empty_bin", deltaStacker: 0, deltaBin: -kiosk.binCards, ref: "operator" }).pipe(provideSql)
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
      }).pipe(traced("Kiosks.emptyBin"))

    const counts = (kioskId: KioskId): Effect.Effect<CardCounts, KioskNotFound> =>
      requireKiosk(kioskId).pipe(
        Effect.map((kiosk) => new CardCounts({ kioskId, stackerCards: kiosk.stackerCards, binCards: kiosk.binCards, binCapacity: kiosk.binCapacity })),
        traced("Kiosks.counts")
      )

    const list = (regionId?: RegionId): Effect.Effect<ReadonlyArray<Kiosk>> => {
      const where = regionId === undefined ? sql`` : sql`WHERE region_id = ${regionId}`
      return sql`SELECT * FROM kiosks ${where} ORDER BY id LIMIT ${KIOSK_LIST_MAX}`.pipe(
        Effect.flatMap(decodeKiosks),
        Effect.map((rows) => rows.map(kioskFromRow)),
        Effect.orDie,
        traced("Kiosks.list")
      )
    }

    /** Newest first. */
    const movements = (kioskId: KioskId, limit = 100): Effect.Effect<ReadonlyArray<StockMovement>> =>
      sql`
        SELECT * FROM card_stock_movements WHERE kiosk_id = ${kioskId}
        ORDER BY at_ms DESC, id DESC LIMIT ${Math.min(Math.max(1, limit), MOVEMENT_HISTORY_MAX)}`.pipe(
        Effect.flatMap(decodeMovements),
        Effect.map((rows) => rows.map(stockMovementFromRow)),
        Effect.orDie,
        traced("Kiosks.movements")
      )

    return {
      register,
      get: (kioskId: KioskId): Effect.Effect<Kiosk, KioskNotFound> => requireKiosk(kioskId).pipe(traced("Kiosks.get")),
      list,
      loadCards,
      emptyBin,
      counts,
      movements,
      /** See `recordStockMovement`: for dispenses and captures, called by the orders and cards services. */
      recordStockMovement: (request: StockMovementRequest) => recordStockMovement(request).pipe(provideSql)
    } as const
  })
}) {}
