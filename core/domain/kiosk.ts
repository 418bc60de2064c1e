import { Schema } from "effect"
import { KioskId, RegionId } from "./ids.js"
import { DbInt } from "./points.js"

/**
 * A kiosk in a region. Its stacker (blank cards) and capture bin counts are kept on the row and always
 * equal the sums of its card stock movements (invariant 5).
 */
export class Kiosk extends Schema.Class<Kiosk>("Kiosk")({
  id: KioskId,
  regionId: RegionId,
  name: Schema.String,
  stackerCards: Schema.Int,
  binCards: Schema.Int,
  binCapacity: Schema.Int,
  createdAtMs: Schema.Int
}) {}

export const KioskRow = Schema.Struct({
  id: KioskId,
  region_id: RegionId,
  name: Schema.String,
  stacker_cards: DbInt,
  bin_cards: DbInt,
  bin_capacity: DbInt,
  created_at_ms: DbInt
})

export const kioskFromRow = (row: typeof KioskRow.Type): Kiosk =>
  new Kiosk({
    id: row.id,
    regionId: row.region_id,
    name: row.name,
    stackerCards: row.stacker_cards,
    binCards: row.bin_cards,
    binCapacity: row.bin_capacity,
    createdAtMs: row.created_at_ms
  }, true)

/**
 * load: an operator adds blank cards (+stacker). dispense: a card leaves the stacker for a customer
 * (-stacker). capture: a card goes into the bin, returned or retained (+bin). empty_bin: an operator
 * takes the captured cards out (-bin).
 */
export const StockMovementKind = Schema.Literal("load", "dispense", "capture", "empty_bin")
export type StockMovementKind = typeof StockMovementKind.Type

/** The movement id is the caller's, so recording it again is safe (e.g. `dispense:<orderId>`). */
export const StockMovementId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128), Schema.brand("StockMovementId"))
export type StockMovementId = typeof StockMovementId.Type

export class StockMovement extends Schema.Class<StockMovement>("StockMovement")({
  id: StockMovementId,
  kioskId: KioskId,
  kind: StockMovementKind,
  deltaStacker: Schema.Int,
  deltaBin: Schema.Int,
  ref: Schema.NullOr(Schema.String),
  atMs: Schema.Int
}) {}

export const StockMovementRow = Schema.Struct({
  id: StockMovementId,
  kiosk_id: KioskId,
  kind: StockMovementKind,
  delta_stacker: DbInt,
  delta_bin: DbInt,
  ref: Schema.NullOr(Schema.String),
  at_ms: DbInt
})

export const stockMovementFromRow = (row: typeof StockMovementRow.Type): StockMovement =>
  new StockMovement({
    id: row.id,
    kioskId: row.kiosk_id,
    kind: row.kind,
    deltaStacker: row.delta_stacker,
    deltaBin: row.delta_bin,
    ref: row.ref,
    atMs: row.at_ms
  }, true)

/** What a kiosk holds now. */
export class CardCounts extends Schema.Class<CardCounts>("CardCounts")({
  kioskId: KioskId,
  stackerCards: Schema.Int,
  binCards: Schema.Int,
  binCapacity: Schema.Int
}) {}

// --- errors ------------------------------------------------------------------------------------------

export class KioskNotFound extends Schema.TaggedError<KioskNotFound>()("KioskNotFound", { kioskId: Schema.String }) {
  override get message() {
    return `no kiosk ${this.kioskId}; register it first (ecoupon admin kiosk add)`
  }
}

export class KioskConflict extends Schema.TaggedError<KioskConflict>()("KioskConflict", {
  kioskId: KioskId,
  existingRegionId: RegionId,
  existingName: Schema.String
}) {
  override get message() {
    return `kiosk ${this.kioskId} already exists as "${this.existingName}" in ${this.existingRegionId}; choose another id or omit it`
  }
}

/** Named apart from the card unit's own `StackerEmpty`: this is the server's count, not the device. */
export class NoCardsInStacker extends Schema.TaggedError<NoCardsInStacker>()("NoCardsInStacker", {
  kioskId: KioskId,
  stackerCards: Schema.Int,
  requested: Schema.Int
}) {
  override get message() {
    return `kiosk ${this.kioskId} has ${this.stackerCards} blank cards recorded and cannot give out ${this.requested}; load cards and record the load`
  }
}

export class StackerOverfilled extends Schema.TaggedError<StackerOverfilled>()("StackerOverfilled", {
  kioskId: KioskId,
  stackerCards: Schema.Int,
  stackerCardsMax: Schema.Int,
  requested: Schema.Int
}) {
  override get message() {
    return `kiosk ${this.kioskId} holds ${this.stackerCards} of at most ${this.stackerCardsMax} blank cards; loading ${this.requested} more would overfill it, load at most ${Math.max(0, this.stackerCardsMax - this.stackerCards)}`
  }
}

/** Named apart from the card unit's own `BinFull`: this is the server's count, not the device. */
export class CaptureBinFull extends Schema.TaggedError<CaptureBinFull>()("CaptureBinFull", {
  kioskId: KioskId,
  binCards: Schema.Int,
  binCapacity: Schema.Int
}) {
  override get message() {
    return `kiosk ${this.kioskId}'s capture bin holds ${this.binCards} of ${this.binCapacity} cards; empty the bin and record it before capturing more`
  }
}

export class StockMovementConflict extends Schema.TaggedError<StockMovementConflict>()("StockMovementConflict", {
  movementId: StockMovementId,
  difference: Schema.String
}) {
  override get message() {
    return `stock movement ${this.movementId} was already recorded with a different body (${this.difference}); a retry must repeat the same request, a new movement needs a new id`
  }
}
