import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Context, Effect, Layer, Schema } from "effect"
import { CardUnit, type CardUnitService } from "../../core/ports/card-unit.js"
import type { CardFactory } from "../../sim/card-memory.js"
import { SimCardUnitControl, type SimCardUnitControlService } from "../../sim/card-unit-control.js"
import { cardFromState, cardState, SimCardUnitState } from "../../sim/card-unit-state.js"
import { type CardUnitTiming, makeSimCardUnit } from "../../sim/card-unit.js"
import type { CustomerHands } from "../kiosk-agent/ui-server.js"

/**
 * `ecoupon kiosk --card-unit sim`: the simulated card unit (sim/card-unit.ts) whose cards outlive the
 * agent, as a real unit's do. Its state (stacker, transport, gate, slot, bin, every card's memory) and
 * the pocket of the customer's hands (the cards taken at the gate, which the touchscreen's "insert"
 * button offers back) are in `DIR/sim-card-unit.json`, rewritten after every command and every move of
 * the customer's hands: written to a temporary file and renamed over, so a `kill -9` at any moment
 * leaves the previous state or the new one, whole. A command the kill stopped half-way did not happen
 * (its change is in memory until the write, with no other I/O in between). Not fsynced: this is a
 * simulator for tests and demos, where the process dies but the machine does not.
 */

export const SIM_CARD_UNIT_FILE = "sim-card-unit.json"
const POCKET_MAX = 100

const SavedHardware = Schema.parseJson(
  Schema.Struct({
    unit: SimCardUnitState,
    pocket: Schema.Array(Schema.Struct({ uid: Schema.String, atqa: Schema.Int, sak: Schema.Int, blocks: Schema.Array(Schema.Tuple(Schema.Int, Schema.String)) }))
  })
)
const decodeSaved = Schema.decodeUnknownEither(SavedHardware)
const encodeSaved = Schema.encodeSync(SavedHardware)

export interface SimCardUnitFileSettings {
  /** Blank cards in the stacker of a new unit (no saved state yet). */
  readonly stackerCards: number
  readonly binCapacity: number
  /** Mechanical times; default: a real unit's. */
  readonly timing?: Partial<CardUnitTiming>
  /** The customer takes a presented card this long after it arrives, or only by hand ("manual", the default). */
  readonly takeAfterMs?: number | "manual"
  /** Seeds the UIDs of new cards; without one, a random seed (a restarted unit never repeats a UID it made). */
  readonly seed?: number
  /** One factory across a fleet in one process, so no two units make the same UID. */
  readonly cards?: CardFactory
}

export class SimCardUnitFileError extends Schema.TaggedError<SimCardUnitFileError>()("SimCardUnitFileError", { message: Schema.String }) {}

const readSaved = (path: string) =>
  Effect.try({
    try: () => {
      try {
        return readFileSync(path, "utf8")
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined
        throw error
      }
    },
    catch: (error) => new SimCardUnitFileError({ message: `cannot read ${path}: ${String(error)}` })
  }).pipe(
    Effect.flatMap((text) => {
      if (text === undefined) return Effect.succeed(undefined)
      const saved = decodeSaved(text)
      return saved._tag === "Right"
        ? Effect.succeed(saved.right)
        : Effect.fail(new SimCardUnitFileError({ message: `${path} is not a saved sim card unit; move it aside to start with a new unit` }))
    })
  )

/**
 * The unit (`CardUnit`), its control (`SimCardUnitControl`, for a demo's operators) and the customer's
 * hands, kept in `dir`.
 */
export const makeSimCardUnitFile = (dir: string, settings: SimCardUnitFileSettings) =>
  Effect.gen(function* () {
    const path = join(dir, SIM_CARD_UNIT_FILE)
    const temporary = `${path}.tmp`
    yield* Effect.try({
      try: () => {
        mkdirSync(dir, { recursive: true, mode: 0o700 })
        rmSync(temporary, { force: true })
      },
      catch: (error) => new SimCardUnitFileError({ message: `cannot use the state directory ${dir}: ${String(error)}` })
    })
    const saved = yield* readSaved(path)
    const made = yield* makeSimCardUnit({
      stackerCards: settings.stackerCards,
      stackerCapacity: Math.max(250, settings.stackerCards),
      binCapacity: settings.binCapacity,
      takeAfterMs: settings.takeAfterMs ?? "manual",
      ...(settings.timing === undefined ? {} : { timing: settings.timing }),
      ...(settings.seed === undefined ? {} : { seed: settings.seed }),
      ...(settings.cards === undefined ? {} : { cards: settings.cards }),
      ...(saved === undefined ? {} : { restore: saved.unit })
    })
    const pocket = (saved?.pocket ?? []).map(cardFromState)

    const save = Effect.flatMap(made.state, (unit) =>
      Effect.sync(() => {
        writeFileSync(temporary, encodeSaved({ unit, pocket: pocket.map(cardState) }), { mode: 0o600 })
        renameSync(temporary, path)
      })
    )
    // Saved before anything moves: a new unit's file exists from its first start.
    yield* save

    const saving = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.ensuring(effect, save)
    const inner = made.port
    const port: CardUnitService = {
      initialise: (mode) => saving(inner.initialise(mode)),
      status: saving(inner.status),
      dispenseToRf: saving(inner.dispenseToRf),
      activate: saving(inner.activate),
      authenticate: (sector, keyType, key) => saving(inner.authenticate(sector, keyType, key)),
      readBlock: (sector, block) => saving(inner.readBlock(sector, block)),
      writeBlock: (sector, block, data) => saving(inner.writeBlock(sector, block, data)),
      presentAtGate: saving(inner.presentAtGate),
      awaitTaken: (timeoutMs) => saving(inner.awaitTaken(timeoutMs)),
      capture: saving(inner.capture),
      setFrontEntry: (enabled) => saving(inner.setFrontEntry(enabled)),
      awaitInserted: (timeoutMs) => saving(inner.awaitInserted(timeoutMs)),
      binCount: inner.binCount,
      stackerCount: inner.stackerCount
    }
    const c = made.control
    const control: SimCardUnitControlService = {
      ...c,
      loadStacker: (n) => saving(c.loadStacker(n)),
      emptyBin: saving(c.emptyBin),
      insertAtGate: (card) => saving(c.insertAtGate(card)),
      withdrawFromSlot: saving(c.withdrawFromSlot),
      takeFromGate: saving(c.takeFromGate),
      drainTaken: saving(c.drainTaken)
    }

    /** Cards the default hand-over plan took by itself are in the unit's taken log: into the pocket. */
    const collect = Effect.flatMap(c.drainTaken, (taken) =>
      Effect.sync(() => {
        pocket.push(...taken)
        if (pocket.length > POCKET_MAX) pocket.splice(0, pocket.length - POCKET_MAX)
      })
    )
    const hands: CustomerHands = {
      take: saving(
        Effect.gen(function* () {
          const card = yield* c.takeFromGate
          yield* collect
          return card !== undefined
        })
      ),
      insert: saving(
        Effect.gen(function* () {
          yield* collect
          const snapshot = yield* c.snapshot
          const card = pocket.at(-1)
          if (card === undefined || snapshot.cardAtSlot !== undefined) return false
          pocket.pop()
          yield* c.insertAtGate(card)
          return true
        })
      )
    }
    return { port, control, hands, path }
  })

/** The same as layers: `CardUnit` and `SimCardUnitControl`, and the hands for the touchscreen. */
export const simCardUnitFileContext = (dir: string, settings: SimCardUnitFileSettings) =>
  Effect.map(makeSimCardUnitFile(dir, settings), (made) => ({
    context: Context.make(CardUnit, made.port).pipe(Context.add(SimCardUnitControl, made.control)),
    hands: made.hands
  }))

export type SimCardUnitFileLayer = Layer.Layer<CardUnit | SimCardUnitControl, SimCardUnitFileError>
