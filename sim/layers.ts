import { Context, Effect, Layer } from "effect"
import { CardUnit } from "../core/ports/card-unit.js"
import { CarrierBilling } from "../core/ports/carrier-billing.js"
import { CouponPrinter } from "../core/ports/coupon-printer.js"
import { PayoutGateway } from "../core/ports/payout-gateway.js"
import { ProviderGateway } from "../core/ports/provider-gateway.js"
import { SmsGateway } from "../core/ports/sms-gateway.js"
import { SimCardUnitControl } from "./card-unit-control.js"
import { makeSimCardUnit, type SimCardUnitConfig } from "./card-unit.js"
import { makeSimCarrier, SimCarrierControl, type SimCarrierConfig } from "./carrier.js"
import type { SimFaults } from "./faults.js"
import { makeSimPayouts, SimPayoutsControl, type SimPayoutsConfig } from "./payouts.js"
import { makeSimPrinter, type SimPrinterConfig, SimPrinterControl } from "./printer.js"
import { makeSimProviders, SimProvidersControl, type SimProvidersConfig } from "./providers.js"
import { deriveSeed } from "./rng.js"
import { makeSimSms, SimSmsControl, type SimSmsConfig } from "./sms.js"

/**
 * Every sim layer at once, for one kiosk's hardware and the outside services, with one fault string
 * and one seed. Devices are built one after the other in a fixed order; with a `seed` each gets its
 * own derived seed (`deriveSeed(seed, "card")`, ...), without one each draws its seed from the
 * `Random` service in that order. Either way one seed gives one world.
 */

export interface SimWorldConfig {
  readonly seed?: number
  /** Applied to every device whose own config gives no `faults`. */
  readonly faults?: SimFaults
  readonly cardUnit?: SimCardUnitConfig
  readonly printer?: SimPrinterConfig
  readonly sms?: SimSmsConfig
  readonly carrier?: SimCarrierConfig
  readonly providers?: SimProvidersConfig
  readonly payouts?: SimPayoutsConfig
}

export type SimKioskHardware = CardUnit | SimCardUnitControl | CouponPrinter | SimPrinterControl
export type SimServices =
  | SmsGateway
  | SimSmsControl
  | CarrierBilling
  | SimCarrierControl
  | ProviderGateway
  | SimProvidersControl
  | PayoutGateway
  | SimPayoutsControl

/** A device's config with the world's faults and its derived seed filled in where it gives none. */
const device = <C extends { readonly faults?: SimFaults; readonly seed?: number }>(
  world: SimWorldConfig,
  name: string,
  own: C | undefined
): C => ({
  ...own,
  faults: own?.faults ?? world.faults,
  seed: own?.seed ?? (world.seed === undefined ? undefined : deriveSeed(world.seed, name))
}) as C

const kioskHardware = (config: SimWorldConfig) =>
  Effect.gen(function*() {
    const card = yield* makeSimCardUnit(device(config, "card", config.cardUnit))
    const printer = yield* makeSimPrinter(device(config, "printer", config.printer))
    return Context.make(CardUnit, card.port).pipe(
      Context.add(SimCardUnitControl, card.control),
      Context.add(CouponPrinter, printer.port),
      Context.add(SimPrinterControl, printer.control)
    )
  })

const services = (config: SimWorldConfig) =>
  Effect.gen(function*() {
    const sms = yield* makeSimSms(device(config, "sms", config.sms))
    const carrier = yield* makeSimCarrier(device(config, "carrier", config.carrier))
    const providers = yield* makeSimProviders(device(config, "providers", config.providers))
    const payouts = yield* makeSimPayouts(device(config, "payouts", config.payouts))
    return Context.make(SmsGateway, sms.port).pipe(
      Context.add(SimSmsControl, sms.control),
      Context.add(CarrierBilling, carrier.port),
      Context.add(SimCarrierControl, carrier.control),
      Context.add(ProviderGateway, providers.port),
      Context.add(SimProvidersControl, providers.control),
      Context.add(PayoutGateway, payouts.port),
      Context.add(SimPayoutsControl, payouts.control)
    )
  })

/** One kiosk's card unit and printer with their controls. */
export const SimKioskHardwareLive = (config: SimWorldConfig = {}): Layer.Layer<SimKioskHardware> =>
  Layer.effectContext(kioskHardware(config))

/** SMS, carrier billing, provider servers and payouts with their controls. */
export const SimServicesLive = (config: SimWorldConfig = {}): Layer.Layer<SimServices> => Layer.effectContext(services(config))

/** Everything: one kiosk's hardware and the outside services, built in one fixed order. */
export const SimWorldLive = (config: SimWorldConfig = {}): Layer.Layer<SimKioskHardware | SimServices> =>
  Layer.effectContext(Effect.zipWith(kioskHardware(config), services(config), (hardware, outside) => Context.merge(hardware, outside)))
