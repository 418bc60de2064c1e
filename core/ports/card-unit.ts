import { Context, type Effect } from "effect"
import type { CardUid } from "../domain/ids.js"
import type {
  BinFull,
  CardNotTaken,
  DeviceRefused,
  Jam,
  LinkNak,
  LinkTimeout,
  NotInitialised,
  Offline,
  RfFailure,
  SensorFault,
  StackerEmpty
} from "./hardware-errors.js"

/**
 * The card reader-dispenser (CRT-591 class): a stacker of blank RF cards, a transport with an RF
 * read/write position, a front gate, and a capture bin. The kiosk flow speaks only this interface;
 * the sim layer (`sim/`) and the serial driver (`hil/`) implement it.
 */

/** Where a card is in the unit (ST0). */
export type CardPosition = "none" | "gate" | "rf"
/** Stacker level (ST1): empty, pre-empty ("low"), or enough cards. */
export type StackerLevel = "empty" | "low" | "ok"

export interface CardUnitStatus {
  readonly position: CardPosition
  readonly stacker: StackerLevel
  readonly binFull: boolean
}

/** What Init does with a card it finds in the transport. */
export type InitMode = "hold" | "capture" | "leave"

export interface RfCard {
  readonly uid: CardUid
  /** 'M' Mifare, 'A' Type A, 'B' Type B. */
  readonly protocol: "M" | "A" | "B"
  readonly atqa: number
  readonly sak: number
}

export type MifareKeyType = "A" | "B"

/**
 * Everything the unit can fail with that is not an RF card error. `Offline` is the serial layer's
 * "the port went away" (a USB adapter unplugged); the sim layer never produces it.
 */
export type CardUnitError =
  | Jam
  | StackerEmpty
  | BinFull
  | SensorFault
  | NotInitialised
  | LinkTimeout
  | LinkNak
  | DeviceRefused
  | Offline

export interface CardUnitService {
  /** Resets the unit, deals with a card in the transport per `mode`, disables front entry. */
  readonly initialise: (mode: InitMode) => Effect.Effect<{ readonly firmware: string }, CardUnitError>
  readonly status: Effect.Effect<CardUnitStatus, CardUnitError>
  /** Takes the next card from the stacker to the RF position. */
  readonly dispenseToRf: Effect.Effect<void, CardUnitError>
  /** Activates the card at the RF position and returns its identity. */
  readonly activate: Effect.Effect<RfCard, CardUnitError | RfFailure>
  readonly authenticate: (
    sector: number,
    keyType: MifareKeyType,
    key: Uint8Array
  ) => Effect.Effect<void, CardUnitError | RfFailure>
  /** Reads one 16-byte block of an authenticated sector (block 0-3 within the sector). */
  readonly readBlock: (sector: number, block: number) => Effect.Effect<Uint8Array, CardUnitError | RfFailure>
  readonly writeBlock: (sector: number, block: number, data: Uint8Array) => Effect.Effect<void, CardUnitError | RfFailure>
  /** Moves the card in the transport to the front gate for the user to take. */
  readonly presentAtGate: Effect.Effect<void, CardUnitError>
  /** Waits until the card at the gate is gone; fails with `CardNotTaken` after `timeoutMs`. */
  readonly awaitTaken: (timeoutMs: number) => Effect.Effect<void, CardUnitError | CardNotTaken>
  /** Carries the card in the transport (or at the gate) into the capture bin. */
  readonly capture: Effect.Effect<void, CardUnitError>
  readonly setFrontEntry: (enabled: boolean) => Effect.Effect<void, CardUnitError>
  /**
   * With front entry enabled, waits for a card inserted at the gate to reach the RF position.
   * Succeeds with `false` when nothing was inserted within `timeoutMs`.
   */
  readonly awaitInserted: (timeoutMs: number) => Effect.Effect<boolean, CardUnitError>
  /** The unit's own capture-bin counter. */
  readonly binCount: Effect.Effect<number, CardUnitError>
  /** Blank cards in the stacker, where the unit can count them; null where it only senses a level (ST1). */
  readonly stackerCount: Effect.Effect<number | null, CardUnitError>
}

export class CardUnit extends Context.Tag("ecoupon/CardUnit")<CardUnit, CardUnitService>() {}
