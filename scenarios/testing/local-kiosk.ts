import { Context, Effect, Exit, Layer, ManagedRuntime, Option, Schema, Scope } from "effect"
import { runMigrations } from "../../adapters/store/migrate.js"
import * as SqljsClient from "../../adapters/store/sqljs-client.js"
import { InstitutionId, KioskId, MerchantId, OfferId, PhoneNumber, RegionId } from "../../core/domain/ids.js"
import { KioskBackendLocal } from "../../core/kiosk-backend-local.js"
import { smsHandler } from "../../core/outbox.js"
import { CardUnit } from "../../core/ports/card-unit.js"
import { CouponPrinter } from "../../core/ports/coupon-printer.js"
import { KioskJournal } from "../../core/ports/kiosk-journal.js"
import { SmsGateway } from "../../core/ports/sms-gateway.js"
import { CoreServicesLive, servicesFrom, type Services } from "../../sim/fleet-world.js"
import { makeSimCardUnit, type SimCardUnitConfig } from "../../sim/card-unit.js"
import type { SimCardUnitControlService } from "../../sim/card-unit-control.js"
import { makeSimKioskJournal } from "../../sim/kiosk-journal.js"
import { makeSimPrinter } from "../../sim/printer.js"
import { makeSimSms, type SimSmsControlService } from "../../sim/sms.js"
import { defaultKioskAgentSettings, KioskAgent, KioskAgentLive, type KioskAgentService, type KioskAgentSettings } from "../../adapters/kiosk-agent/kiosk-agent.js"
import { KioskEventsLocal } from "../../adapters/kiosk-agent/kiosk-events.js"
import { makeSimHands } from "../../sim/customer-hands.js"

/**
 * One kiosk agent in this process over the in-process backend (core/kiosk-backend-local.ts) on a
 * fresh in-memory sql.js store, with sim hardware: a deployment of one region, one kiosk loaded with
 * cards, one merchant and two offers. What the browser tests and the kiosk benchmark drive.
 */

export const region = RegionId.make("reg_test")
export const kioskId = KioskId.make("ksk_test")
export const merchant = MerchantId.make("mer_test")
export const coffee = OfferId.make("off_coffee")
export const cake = OfferId.make("off_cake")
const DAY_MS = 86_400_000

export interface LocalKiosk {
  readonly agent: KioskAgentService
  readonly services: Services
  readonly unit: SimCardUnitControlService
  readonly sms: SimSmsControlService
  /** Sends the SMS the outbox holds and reads the newest code the phone received. */
  readonly codeFor: (phone: string) => Promise<string>
  readonly runWithServices: <A, E>(body: (services: Services) => Effect.Effect<A, E>) => Promise<A>
  readonly close: () => Promise<void>
}

export interface LocalKioskOptions {
  readonly cardUnit?: SimCardUnitConfig
  readonly agent?: Partial<KioskAgentSettings>
}

const deployment = (services: Services) =>
  Effect.gen(function* () {
    const nowMs = Date.now()
    yield* services.institutions.register({ id: InstitutionId.make("ins_test"), name: "Food bank" })
    yield* services.regions.register({ id: region, name: "Test", institutionId: InstitutionId.make("ins_test") })
    yield* services.kiosks.register({ id: kioskId, regionId: region, name: "Test kiosk", binCapacity: 50 })
    yield* services.kiosks.loadCards(kioskId, 200)
    yield* services.merchants.register({ id: merchant, name: "Cafe" })
    yield* services.merchants.approve(merchant)
    const offer = { merchantId: merchant, pricePoints: 1_500, stock: 500, validFromMs: 0, validUntilMs: nowMs + 365 * DAY_MS, couponValidityMs: 30 * DAY_MS, regions: [region] }
    yield* services.catalog.upsertOffer({ ...offer, offerId: coffee, title: "Coffee" })
    yield* services.catalog.upsertOffer({ ...offer, offerId: cake, title: "Cake", pricePoints: 3_000 })
  }).pipe(Effect.orDie)

export const startLocalKiosk = async (options: LocalKioskOptions = {}): Promise<LocalKiosk> => {
  const store = Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(Layer.provideMerge(Layer.orDie(Layer.fresh(SqljsClient.layer()))))
  const core = CoreServicesLive.pipe(Layer.provideMerge(store))
  const runtime = ManagedRuntime.make(core)
  const scope = Effect.runSync(Scope.make())
  const built = await runtime.runPromise(
    Effect.gen(function* () {
      const services = yield* servicesFrom
      yield* deployment(services)
      const sms = yield* makeSimSms({ seed: 1, deliveryMs: 0 })
      const card = yield* makeSimCardUnit({ seed: 7, stackerCards: 200, binCapacity: 50, takeAfterMs: "manual", initialised: false, ...options.cardUnit })
      const printer = yield* makeSimPrinter({ seed: 3 })
      const settings: KioskAgentSettings = { ...defaultKioskAgentSettings, ...options.agent, ui: { ...defaultKioskAgentSettings.ui, port: 0, ...options.agent?.ui } }
      const devices = Layer.succeedContext(
        Context.make(CardUnit, card.port).pipe(Context.add(CouponPrinter, printer.port), Context.add(KioskJournal, makeSimKioskJournal().service))
      )
      const agentLayer = KioskAgentLive(settings, Option.some(makeSimHands(card.control))).pipe(
        Layer.provide(Layer.mergeAll(devices, KioskBackendLocal.layer(kioskId), KioskEventsLocal(kioskId)))
      )
      const context = yield* Layer.buildWithScope(agentLayer, scope)
      return { agent: Context.get(context, KioskAgent), services, sms, card }
    })
  )
  const { services, sms, card } = built
  const runWithServices = <A, E>(body: (s: Services) => Effect.Effect<A, E>) => runtime.runPromise(body(services))
  const codeFor = (phone: string) =>
    runWithServices(() =>
      Effect.gen(function* () {
        yield* services.outbox.dispatchDue({ handlers: { sms: smsHandler } }).pipe(Effect.provideService(SmsGateway, sms.port))
        const last = yield* sms.control.lastDelivered(Schema.decodeSync(PhoneNumber)(phone))
        const code = /(\d{6})/.exec(last?.text ?? "")?.[1]
        if (code === undefined) return yield* Effect.dieMessage(`no code was texted to the test phone (last message: ${last === undefined ? "none" : "without a code"})`)
        return code
      })
    )
  return {
    agent: built.agent,
    services,
    unit: card.control,
    sms: sms.control,
    codeFor,
    runWithServices,
    close: async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await runtime.dispose()
    }
  }
}
