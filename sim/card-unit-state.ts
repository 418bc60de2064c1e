import { Schema } from "effect"
import { CardUid } from "../core/domain/ids.js"
import { blocksPerSector, type CardFactory, fromHex, SimCard, toHex } from "./card-memory.js"
import type { CardUnitModel } from "./card-unit-model.js"

/**
 * What a simulated card unit holds that a real one would still hold after the kiosk PC lost power:
 * the cards in the stacker, the transport, at the gate, at the slot and in the bin (each card with its
 * memory), the customers' cards taken from the gate and not yet collected, whether it was initialised,
 * and every UID it has made (so a unit made again never makes one twice). Plain JSON, so a kiosk agent
 * on sim hardware can keep its unit in its state directory and a `kill -9` test can restart it.
 *
 * Not kept: faults in force, the mechanics in motion (a move the power cut stopped did not happen), and
 * the hand-over plan of a card at the gate (after a restart the customer takes it by hand or the
 * start-up's Init carries it in).
 */

const CardState = Schema.Struct({
  uid: Schema.String,
  atqa: Schema.Int,
  sak: Schema.Int,
  /** Written blocks: [absolute block number, 32 hex digits]. */
  blocks: Schema.Array(Schema.Tuple(Schema.Int, Schema.String))
})
type CardState = typeof CardState.Type

export const SimCardUnitState = Schema.Struct({
  format: Schema.Literal("ecoupon-sim-card-unit/1"),
  initialised: Schema.Boolean,
  jammed: Schema.Boolean,
  frontEntry: Schema.Boolean,
  stackerCards: Schema.Int,
  binCards: Schema.Int,
  bin: Schema.Array(CardState),
  transport: Schema.NullOr(CardState),
  atGate: Schema.Boolean,
  slot: Schema.NullOr(CardState),
  taken: Schema.Array(CardState),
  counters: Schema.Struct({ dispensed: Schema.Int, captured: Schema.Int, taken: Schema.Int, inserted: Schema.Int }),
  minted: Schema.Array(Schema.String)
})
export type SimCardUnitState = typeof SimCardUnitState.Type

export const cardState = (card: SimCard): CardState => ({
  uid: card.uid,
  atqa: card.atqa,
  sak: card.sak,
  blocks: card.writtenEntries().map(([block, bytes]) => [block, toHex(bytes)] as const)
})

export const cardFromState = (state: CardState): SimCard => {
  const card = new SimCard(CardUid.make(state.uid), fromHex(state.uid), state.atqa, state.sak)
  for (const [block, hex] of state.blocks) card.write(Math.floor(block / blocksPerSector), block % blocksPerSector, fromHex(hex))
  return card
}

/** The unit's state now; `minted` is every UID its factory made, carried over from earlier lives. */
export const captureState = (unit: CardUnitModel, minted: ReadonlyArray<string>): SimCardUnitState => ({
  format: "ecoupon-sim-card-unit/1",
  initialised: unit.initialised,
  jammed: unit.jammed,
  frontEntry: unit.frontEntry,
  stackerCards: unit.stackerCards,
  binCards: unit.binCards,
  bin: unit.bin.map(cardState),
  transport: unit.transport === undefined ? null : cardState(unit.transport),
  atGate: unit.transport !== undefined && unit.atGate,
  slot: unit.slot === undefined ? null : cardState(unit.slot),
  taken: unit.taken.toArray().map(cardState),
  counters: { dispensed: unit.dispensed, captured: unit.captured, taken: unit.takenCount, inserted: unit.inserted },
  minted: [...minted]
})

/** Puts a saved state into a freshly made unit, and keeps its factory from making a saved UID again. */
export const restoreState = (unit: CardUnitModel, factory: CardFactory, state: SimCardUnitState): void => {
  unit.initialised = state.initialised
  unit.jammed = state.jammed
  unit.frontEntry = state.frontEntry
  unit.stackerCards = state.stackerCards
  unit.binCards = state.binCards
  unit.bin = state.bin.map(cardFromState)
  unit.transport = state.transport === null ? undefined : cardFromState(state.transport)
  unit.atGate = unit.transport !== undefined && state.atGate
  unit.handOver = unit.atGate ? { plan: { _tag: "Manual" }, atMs: 0 } : undefined
  unit.slot = state.slot === null ? undefined : cardFromState(state.slot)
  for (const card of state.taken) unit.taken.push(cardFromState(card))
  unit.dispensed = state.counters.dispensed
  unit.captured = state.counters.captured
  unit.takenCount = state.counters.taken
  unit.inserted = state.counters.inserted
  unit.activated = false
  unit.authSector = -1
  for (const uid of state.minted) factory.reserve(new SimCard(CardUid.make(uid), fromHex(uid), 0, 0))
}
