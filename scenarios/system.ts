import type { Effect } from "effect"
import type { CardUid, CouponCode, CouponId, KioskId, MerchantId, OrderId, RedemptionId, UserId } from "../core/domain/ids.js"
import type { KioskFlow } from "../core/kiosk-flow.js"
import type { CardUnitService } from "../core/ports/card-unit.js"
import type { Command, CutStage } from "./commands.js"
import type { Office } from "./office.js"
import type { Services } from "../sim/fleet-world.js"
import type { DeploymentNames } from "./deployment.js"
import type { ServerSide } from "./server-side.js"

/**
 * The system under test as the scenario code sees it, whatever the layer: what happens behind the
 * server's API (`server-side.ts`: its own work, the outside services, the balances), the office
 * (merchants, operators, provider servers), and one station per kiosk (its kiosk flow over that
 * layer's hardware and backend, and the customer's hand at its gate). A layer (`layers.ts`) is a value that builds one of these.
 */

export type LayerName = "sim" | "serial" | "http"

/** A card in a customer's hand: the sim's `SimCard` or the emulator's `MifareCard`, whatever the layer uses. */
export type HeldCard = object

/** The person at a kiosk's gate, played through the layer's own hardware controls. */
export interface Hand {
  /** The next card presented at the gate is taken (a moment later) or left there. */
  readonly willTake: (take: boolean) => Effect.Effect<void>
  /** The card the customer took last, now in their pocket (undefined if they took none). */
  readonly takeLast: Effect.Effect<HeldCard | undefined>
  /** Offers `card` at the slot: the unit draws it in once front entry opens. */
  readonly offer: (card: HeldCard) => Effect.Effect<void>
}

export interface Station {
  readonly index: number
  readonly id: KioskId
  readonly cardUnit: CardUnitService
  readonly hand: Hand
  /** The kiosk flow as it runs now (rebuilt by a restart, over the same journal and hardware). */
  flow: KioskFlow
  /** Arms a power cut: the next journal write at `stage` is the last thing the kiosk does. */
  readonly cutPowerAt: (stage: CutStage) => void
  /** The kiosk PC comes back: a fresh flow and backend over the same journal and hardware. */
  readonly restart: Effect.Effect<KioskFlow>
  readonly setJam: (on: boolean) => Effect.Effect<void>
}

/** What the runner learns as things are issued, so commands can name them by number. */
export interface Registry {
  readonly users: Array<UserId | undefined>
  readonly coupons: Array<{ readonly id: CouponId; readonly code: CouponCode; readonly merchantId: MerchantId }>
  readonly cards: Array<{ readonly uid: CardUid; readonly card: HeldCard | undefined }>
  readonly redemptions: Array<{ readonly id: RedemptionId; readonly merchantId: MerchantId }>
  /** The orders delivered, in order. */
  readonly orders: Array<OrderId>
}

export interface ScenarioEnv {
  readonly layer: LayerName
  /** The parties as this run names them (the deployment's own names but against a shared server). */
  readonly names: DeploymentNames
  /** Behind the API: the server's own work, the world outside it, and what the runner reads to compare with the model. */
  readonly server: ServerSide
  /** Merchants, operators and provider servers: in process, or over the HTTP API on the http layer. */
  readonly office: Office
  readonly stations: ReadonlyArray<Station>
  readonly registry: Registry
  /** Lets `ms` of the deployment's time pass (virtual time on sim; a clock offset on layers with real devices). */
  readonly advance: (ms: number) => Effect.Effect<void>
  /** Real time the customer needs at a gate (0 in virtual time, where it costs nothing anyway). */
  readonly handMs: number
}

/** One opened system: runs scenario steps against it, in order, and is closed once. */
export interface System {
  readonly layer: LayerName
  readonly run: <A>(step: (env: ScenarioEnv) => Effect.Effect<A>) => Promise<A>
  readonly close: () => Promise<void>
}

/** How a defect is seeded: it wraps core services before the kiosks' backends and the office use them. */
export type ServiceWrapper = (services: Services) => Services

export interface OpenOptions {
  /** Seeds the core's ids and the sim devices. */
  readonly seed: number
  readonly wrap?: ServiceWrapper | undefined
  /** Sees every statement the store runs (the sim layer's; the scenarios benchmark counts them). */
  readonly sqlObserver?: ((sql: string) => void) | undefined
}

/** A layer: a value that opens a fresh system under test. */
export interface ScenarioLayer {
  readonly name: LayerName
  readonly open: (options: OpenOptions) => Promise<System>
  /** Why this layer cannot run these commands (they are then skipped, and the report says why); undefined if it can. */
  readonly cannotRun?: (commands: ReadonlyArray<Command> | "model") => string | undefined
  /** Where the system runs, when not where the layer's name says by default (`--server URL`): said in the reports. */
  readonly where?: string
}
