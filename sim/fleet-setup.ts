import { Context, Effect, Layer } from "effect"
import { InstitutionId, KioskId, MerchantId, RegionId } from "../core/domain/ids.js"
import { StockMovementId } from "../core/domain/kiosk.js"
import { KioskBackendLocal } from "../core/kiosk-backend-local.js"
import { KioskFlow } from "../core/kiosk-flow.js"
import { CardUnit } from "../core/ports/card-unit.js"
import { CarrierBilling } from "../core/ports/carrier-billing.js"
import { CouponPrinter } from "../core/ports/coupon-printer.js"
import { KioskJournal } from "../core/ports/kiosk-journal.js"
import { PayoutGateway } from "../core/ports/payout-gateway.js"
import { ProviderGateway } from "../core/ports/provider-gateway.js"
import { SmsGateway } from "../core/ports/sms-gateway.js"
import { initialOffers, regionsOfMerchant } from "./behaviour-merchant.js"
import { type CardFactory, makeCardFactory } from "./card-memory.js"
import { makeSimCardUnit } from "./card-unit.js"
import { makeSimCarrier } from "./carrier.js"
import type { FleetConfig } from "./fleet-config.js"
import type { CoreServices, OutsideWorld, Services, SimKiosk, SimMerchant } from "./fleet-world.js"
import { makeSimKioskJournal } from "./kiosk-journal.js"
import { makeSimPayouts } from "./payouts.js"
import { makeSimPrinter } from "./printer.js"
import { makeSimProviders } from "./providers.js"
import { deriveSeed, deviceRandom } from "./rng.js"
import { makeSimSms } from "./sms.js"
import { Mailbox } from "./virtual-mailbox.js"

/**
 * Builds the deployment a fleet run starts from, through the core services as an operator would:
 * institutions and regions, kiosks registered and loaded with cards, merchants registered and
 * approved, their catalogs on their provider servers and pulled into the catalog. Then one simulated
 * kiosk per registered kiosk: its card unit and printer, its journal, the in-process backend and the
 * kiosk flow over them.
 */

/** Waiting customers beyond this many walk away at once (a kiosk queue is not endless). */
export const KIOSK_QUEUE_MAX = 50

const pad = (n: number, width: number) => String(n).padStart(width, "0")

export const kioskIdOf = (index: number) => KioskId.make(`ksk_${pad(index + 1, 4)}`)
export const regionIdOf = (index: number) => RegionId.make(`reg_${pad(index + 1, 3)}`)
export const merchantIdOf = (index: number) => MerchantId.make(`mer_${pad(index + 1, 4)}`)

/** SMS, carrier, provider servers and payouts: one set for the deployment, each with its own seed. */
export const makeOutsideWorld = (config: FleetConfig, merchants: ReadonlyArray<SimMerchant>) =>
  Effect.gen(function* () {
    const device = (name: string) => ({ faults: config.faults, seed: deriveSeed(config.seed, name) })
    const sms = yield* makeSimSms({ ...device("sms"), inboxKeptMax: 3 })
    const carrier = yield* makeSimCarrier(device("carrier"))
    const providers = yield* makeSimProviders({
      ...device("providers"),
      merchants: merchants.map((merchant) => ({ merchantId: merchant.id, offers: merchant.offers })),
      recentOrdersKept: 10
    })
    const payouts = yield* makeSimPayouts(device("payouts"))
    const outside: OutsideWorld = {
      context: Context.make(SmsGateway, sms.port).pipe(
        Context.add(CarrierBilling, carrier.port),
        Context.add(ProviderGateway, providers.port),
        Context.add(PayoutGateway, payouts.port)
      ),
      sms: sms.control,
      carrier: carrier.control,
      providers: providers.control,
      payouts: payouts.control
    }
    return outside
  })

/** The merchants as their provider servers describe them at the start. */
export const planMerchants = (config: FleetConfig, regionIds: ReadonlyArray<RegionId>) =>
  Effect.forEach(Array.from({ length: config.merchants }, (_, i) => i), (index) =>
    Effect.map(deviceRandom(deriveSeed(config.seed, `merchant:${index}`)), (random): SimMerchant => {
      const id = merchantIdOf(index)
      const regions = regionsOfMerchant(random, index, regionIds, config.merchantBehaviour)
      return { index, id, regions, offers: initialOffers(random, id, regions, config.startMs, config.merchantBehaviour), random }
    })
  )

/** Institutions, regions, kiosks (with cards) and merchants, registered through the services. */
export const registerDeployment = (config: FleetConfig, services: Services, merchants: ReadonlyArray<SimMerchant>) =>
  Effect.gen(function* () {
    const regionIds: Array<RegionId> = []
    for (let r = 0; r < config.regions; r++) {
      const institution = yield* services.institutions.register({ id: InstitutionId.make(`ins_${pad(r + 1, 3)}`), name: `Community fund ${r + 1}` })
      const region = yield* services.regions.register({ id: regionIdOf(r), name: `Region ${r + 1}`, institutionId: institution.id })
      regionIds.push(region.id)
    }
    for (let k = 0; k < config.kiosks; k++) {
      const id = kioskIdOf(k)
      yield* services.kiosks.register({ id, regionId: regionIds[k % config.regions] as RegionId, name: `Kiosk ${k + 1}`, binCapacity: config.kiosk.binCapacity })
      yield* services.kiosks.loadCards(id, config.kiosk.stackerCapacity, StockMovementId.make(`load:${id}:initial`))
      yield* services.twins.setDesired(id, { returnDeadlineDays: config.returnDeadlineDays })
    }
    for (const merchant of merchants) {
      yield* services.merchants.register({ id: merchant.id, name: `Merchant ${merchant.index + 1}`, providerUrl: `https://provider-${merchant.index + 1}.example/api` })
      yield* services.merchants.approve(merchant.id)
    }
    return regionIds
  }).pipe(Effect.orDie)

/** One simulated kiosk: devices, journal, backend, flow. */
export const makeSimKiosk = (
  config: FleetConfig,
  index: number,
  regionIds: ReadonlyArray<RegionId>,
  cards: CardFactory
): Effect.Effect<SimKiosk, never, CoreServices> =>
  Effect.gen(function* () {
    const id = kioskIdOf(index)
    const regionIndex = index % config.regions
    const card = yield* makeSimCardUnit({
      seed: deriveSeed(config.seed, `kiosk:${id}:card`),
      faults: config.faults,
      cards,
      stackerCards: config.kiosk.stackerCapacity,
      stackerCapacity: config.kiosk.stackerCapacity,
      binCapacity: config.kiosk.binCapacity,
      takeAfterMs: 3_000,
      // Nobody reads the taken-cards log but the journey, right after each hand-over.
      takenKeptMax: 16
    })
    const printer = yield* makeSimPrinter({ seed: deriveSeed(config.seed, `kiosk:${id}:printer`), faults: config.faults, rollLengthMm: config.kiosk.paperRollMm, pagesKeptMax: 8 })
    const journal = makeSimKioskJournal()
    const devices = Context.make(CardUnit, card.port).pipe(Context.add(CouponPrinter, printer.port), Context.add(KioskJournal, journal.service))
    const backend = KioskBackendLocal.layer(id)
    const flow = yield* Effect.provide(KioskFlow, KioskFlow.Default.pipe(Layer.provide(backend), Layer.provide(Layer.succeedContext(devices))))
    const kiosk: SimKiosk = {
      index,
      id,
      regionIndex,
      regionId: regionIds[regionIndex] as RegionId,
      flow,
      cardUnit: card.port,
      unit: card.control,
      printer: printer.control,
      journal,
      mailbox: new Mailbox(KIOSK_QUEUE_MAX),
      random: yield* deviceRandom(deriveSeed(config.seed, `kiosk:${id}:customers`)),
      maintenancePending: false,
      stopped: false,
      stock: [],
      stockSampledAtMs: -1
    }
    return kiosk
  })

export { makeCardFactory }
