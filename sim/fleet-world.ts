import { SqlClient } from "@effect/sql"
import { Context, Effect } from "effect"
import { Auditor } from "../core/audit.js"
import { Cards } from "../core/cards.js"
import { Catalog } from "../core/catalog.js"
import { Housekeeping } from "../core/housekeeping.js"
import type { CouponCode, KioskId, MerchantId, RegionId, UserId } from "../core/domain/ids.js"
import { Institutions } from "../core/institutions.js"
import type { KioskFlow } from "../core/kiosk-flow.js"
import { Kiosks } from "../core/kiosks.js"
import { Merchants } from "../core/merchants.js"
import { OrderFlowHandlers } from "../core/orders-outbox.js"
import { Orders } from "../core/orders.js"
import { Outbox } from "../core/outbox.js"
import type { CardUnitService } from "../core/ports/card-unit.js"
import { CarrierBilling } from "../core/ports/carrier-billing.js"
import { PayoutGateway } from "../core/ports/payout-gateway.js"
import { ProviderGateway, type ProviderOffer } from "../core/ports/provider-gateway.js"
import { SmsGateway } from "../core/ports/sms-gateway.js"
import { Redemptions } from "../core/redemption.js"
import { Regions } from "../core/regions.js"
import { Settlements } from "../core/settlement.js"
import { KioskTwins } from "../core/twin.js"
import { Users } from "../core/users.js"
import type { SimCard } from "./card-memory.js"
import type { SimCardUnitControlService } from "./card-unit-control.js"
import type { SimCarrierControlService } from "./carrier.js"
import type { FleetConfig } from "./fleet-config.js"
import type { FleetCounters, StockSeries } from "./fleet-kpis.js"
import type { FleetLog } from "./fleet-log.js"
import type { SimKioskJournal } from "./kiosk-journal.js"
import type { SimPayoutsControlService } from "./payouts.js"
import type { SimPrinterControlService } from "./printer.js"
import type { SimProvidersControlService } from "./providers.js"
import type { DeviceRandom } from "./rng.js"
import type { SimSmsControlService } from "./sms.js"
import type { Mailbox, Nudge } from "./virtual-mailbox.js"
import type { VirtualTime } from "./virtual-time.js"

/**
 * The state of a fleet run that every part of the simulator shares: the core services, the sim
 * devices and their controls, the kiosks with their mailboxes, the customers and their cards, the
 * event log and the counters. One mutable object, touched only from the one thread the virtual-time
 * loop runs on.
 */

/** The real core services the fleet runs on, over one in-memory sql.js store. */
export { CoreServicesLive, type CoreServices } from "../core/services.js"

export interface Services {
  readonly users: Users
  readonly orders: Orders
  readonly cards: Cards
  readonly catalog: Catalog
  readonly merchants: Merchants
  readonly kiosks: Kiosks
  readonly twins: KioskTwins
  readonly regions: Regions
  readonly institutions: Institutions
  readonly redemptions: Redemptions
  readonly settlements: Settlements
  readonly outbox: Outbox
  readonly orderHandlers: OrderFlowHandlers
  readonly auditor: Auditor
  readonly housekeeping: Housekeeping
  readonly sql: SqlClient.SqlClient
}

/** The outside services' sim layers and their controls, one set for the whole deployment. */
export interface OutsideWorld {
  readonly context: Context.Context<SmsGateway | CarrierBilling | ProviderGateway | PayoutGateway>
  readonly sms: SimSmsControlService
  readonly carrier: SimCarrierControlService
  readonly providers: SimProvidersControlService
  readonly payouts: SimPayoutsControlService
}

export interface Customer {
  /** Numbers the customer: their phone number derives from it (never logged). */
  readonly n: number
  readonly phone: string
  readonly regionIndex: number
  readonly homeKiosk: number
  userId: UserId | undefined
  /** Cards the customer holds now. */
  cards: number
}

export interface HeldCard {
  readonly card: SimCard
  readonly customer: Customer
  readonly deadlineMs: number
  /** Return visits made; a card given back unreturned may be tried again, a few times at most. */
  tries: number
}

export type Visit =
  | { readonly _tag: "Customer"; readonly arrivedAtMs: number; readonly customer: Customer }
  | { readonly _tag: "Return"; readonly arrivedAtMs: number; readonly held: HeldCard }
  | { readonly _tag: "Maintenance"; readonly arrivedAtMs: number }
  | { readonly _tag: "Report"; readonly arrivedAtMs: number }
  | { readonly _tag: "Stop"; readonly arrivedAtMs: number }

export interface SimKiosk {
  readonly index: number
  readonly id: KioskId
  readonly regionIndex: number
  readonly regionId: RegionId
  readonly flow: KioskFlow
  readonly cardUnit: CardUnitService
  readonly unit: SimCardUnitControlService
  readonly printer: SimPrinterControlService
  readonly journal: SimKioskJournal
  readonly mailbox: Mailbox<Visit>
  /** The kiosk's customers' decisions: one generator per kiosk, so kiosks do not disturb each other. */
  readonly random: DeviceRandom
  maintenancePending: boolean
  stopped: boolean
  readonly stock: StockSeries
  stockSampledAtMs: number
}

export interface SimMerchant {
  readonly index: number
  readonly id: MerchantId
  readonly regions: ReadonlyArray<RegionId>
  /** The catalog its provider server holds. */
  offers: ReadonlyArray<ProviderOffer>
  readonly random: DeviceRandom
}

export type MerchantTask =
  | { readonly _tag: "Redeem"; readonly merchantId: MerchantId; readonly couponCode: CouponCode; readonly amountPoints: number }
  | { readonly _tag: "Rollback"; readonly merchantId: MerchantId; readonly redemptionId: string }
  | { readonly _tag: "Change"; readonly merchant: SimMerchant }
  | { readonly _tag: "Pull"; readonly merchant: SimMerchant; readonly attempt: number }

export interface FleetWorld {
  readonly config: FleetConfig
  readonly time: VirtualTime
  readonly log: FleetLog
  readonly counters: FleetCounters
  readonly services: Services
  readonly outside: OutsideWorld
  readonly regionIds: ReadonlyArray<RegionId>
  readonly kiosks: ReadonlyArray<SimKiosk>
  readonly kiosksByRegion: ReadonlyArray<ReadonlyArray<SimKiosk>>
  readonly merchants: ReadonlyArray<SimMerchant>
  /** Registered customers of each region, for returning visits and campaigns. */
  readonly registered: ReadonlyArray<Array<Customer>>
  nextCustomer: number
  nextRedemption: number
  nextMovement: number
  /** Cards customers hold now. */
  cardsOut: number
  readonly outboxNudge: Nudge
  readonly merchantDesk: Mailbox<MerchantTask>
  /** World-level decisions (which region a card goes back to, campaigns). */
  readonly random: DeviceRandom
  readonly horizonMs: number
}

export const dayOf = (world: FleetWorld, atMs: number): number => Math.floor((atMs - world.config.startMs) / 86_400_000)

/** The services out of the context, once, so the hot paths need no look-ups. */
export const servicesFrom = Effect.gen(function* () {
  const services: Services = {
    users: yield* Users,
    orders: yield* Orders,
    cards: yield* Cards,
    catalog: yield* Catalog,
    merchants: yield* Merchants,
    kiosks: yield* Kiosks,
    twins: yield* KioskTwins,
    regions: yield* Regions,
    institutions: yield* Institutions,
    redemptions: yield* Redemptions,
    settlements: yield* Settlements,
    outbox: yield* Outbox,
    orderHandlers: yield* OrderFlowHandlers,
    auditor: yield* Auditor,
    housekeeping: yield* Housekeeping,
    sql: yield* SqlClient.SqlClient
  }
  return services
})
