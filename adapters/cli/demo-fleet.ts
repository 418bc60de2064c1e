import { join } from "node:path"
import { Context, Effect, Either, Layer, Option, Schema } from "effect"
import { Auditor } from "../../core/audit.js"
import { Catalog } from "../../core/catalog.js"
import { CouponCode, MerchantId, PhoneNumber, RedemptionId } from "../../core/domain/ids.js"
import { StockMovementId } from "../../core/domain/kiosk.js"
import { RedeemCoupon } from "../../core/domain/redemption.js"
import { Kiosks } from "../../core/kiosks.js"
import { Redemptions } from "../../core/redemption.js"
import { defaultOperatorParams, maintenanceNeeds } from "../../sim/behaviour-operator.js"
import { makeCardFactory } from "../../sim/card-memory.js"
import { SimCardUnitControl, type SimCardUnitControlService } from "../../sim/card-unit-control.js"
import type { SimHands } from "../../sim/customer-hands.js"
import { SimPrinterControl, type SimPrinterControlService } from "../../sim/printer.js"
import type { SimProvidersControlService } from "../../sim/providers.js"
import { deriveSeed, deviceRandom } from "../../sim/rng.js"
import type { SimSmsControlService } from "../../sim/sms.js"
import { acceleratedTouchCustomers, type CustomerDoor, type ReadCode, touchCustomers, type VisitOutcome } from "../../sim/touch-customer.js"
import { KioskAgent, type KioskAgentService } from "../kiosk-agent/kiosk-agent.js"
import { toE164 } from "../kiosk-agent/journey-view.js"
import type { DemoDeployment, DemoKiosk } from "./demo-deployment.js"
import { KioskHands, kioskRuntimeLayer } from "./kiosk-runtime.js"

/**
 * The moving parts of `ecoupon demo` once the server runs: a kiosk agent per kiosk on sim hardware
 * composed as `ecoupon kiosk` composes one (kiosk-runtime.ts: its own sim card unit and printer, its
 * journal on disk, the server over HTTP with its key for calls and events), simulated customers tapping through every
 * touchscreen but the first (left for a person), a field operator who restocks, empties bins and
 * changes paper, merchants' tills that redeem coupons, and a merchant who changes prices now and then
 * (the offers on a touchscreen re-render live).
 */

/** Mechanical times of the sim card unit, about three times faster than a CRT-591. */
const ACCELERATED_TIMING = { dispenseMs: 400, presentMs: 200, captureMs: 300, retractMs: 250, initMs: 150, rfMs: 10 }
const OPERATOR_ROUND_MS = 3_000
const PRICE_CHANGE_EVERY_MS = 30_000
const REDEEM_SHARE = 0.6
const CARDS_PER_KIOSK = 200
const BIN_CAPACITY = 60

export interface DemoKioskRunning {
  readonly kiosk: DemoKiosk
  readonly agent: KioskAgentService
  readonly unit: SimCardUnitControlService
  readonly printer: SimPrinterControlService
  readonly hands: SimHands
  /** Simulated customers use this kiosk (all but the first). */
  readonly simulated: boolean
}

export interface DemoCounters {
  bought: number
  returned: number
  gaveUp: number
  redeemed: number
  maintenance: number
  priceChanges: number
}

export const demoCardsPerKiosk = CARDS_PER_KIOSK
export const demoBinCapacity = BIN_CAPACITY

/** Starts every kiosk's agent (what `ecoupon kiosk --card-unit sim --printer sim` runs); they stop with the scope. */
export const startDemoKiosks = (options: {
  readonly deployment: DemoDeployment
  readonly baseUrl: string
  readonly stateDirectory: string
  readonly seed: number
  /** 0: each touchscreen on a port the system picks; else kiosk k on `firstUiPort + k`. */
  readonly firstUiPort: number
}) =>
  Effect.gen(function* () {
    const cards = makeCardFactory()
    const running: Array<DemoKioskRunning> = []
    for (const [index, kiosk] of options.deployment.kiosks.entries()) {
      const simulated = index > 0
      const context = yield* Layer.build(
        kioskRuntimeLayer({
          serverUrl: options.baseUrl,
          kioskKey: kiosk.key,
          cardUnit: {
            _tag: "sim",
            seed: deriveSeed(options.seed, `kiosk:${kiosk.id}:card`),
            cards,
            stackerCards: CARDS_PER_KIOSK,
            binCapacity: BIN_CAPACITY,
            timing: ACCELERATED_TIMING,
            // A person takes the card with the touchscreen's sim button; a simulated customer soon after it shows.
            takeAfterMs: simulated ? 400 : "manual"
          },
          printer: { _tag: "sim", seed: deriveSeed(options.seed, `kiosk:${kiosk.id}:printer`) },
          stateDir: join(options.stateDirectory, kiosk.id),
          uiPort: options.firstUiPort === 0 ? 0 : options.firstUiPort + index,
          agent: { reportIntervalMs: 5_000 }
        })
      )
      const hands = Context.get(context, KioskHands)
      if (Option.isNone(hands)) return yield* Effect.dieMessage("a demo kiosk runs on sim hardware, which has hands")
      // The sim devices' controls are in the runtime's context (for operators), though its type names only the agent.
      const devices = context as unknown as Context.Context<SimCardUnitControl | SimPrinterControl>
      running.push({
        kiosk,
        agent: Context.get(context, KioskAgent),
        unit: Context.get(devices, SimCardUnitControl),
        printer: Context.get(devices, SimPrinterControl),
        hands: hands.value,
        simulated
      })
    }
    return running as ReadonlyArray<DemoKioskRunning>
  })

const decodePhone = Schema.decodeUnknownSync(PhoneNumber)

/** The customer's phone: the newest code texted to it since `afterMs`. */
const readCodeFrom = (sms: SimSmsControlService): ReadCode => (digits, afterMs) =>
  Effect.map(sms.lastDelivered(decodePhone(toE164(digits, "82"))), (last) => {
    if (last === undefined || last.sentAtMs < afterMs) return Option.none()
    return Option.fromNullable(/\b(\d{6})\b/.exec(last.text)?.[1])
  })

/**
 * The simulated world around the kiosks, forked into the scope: customers at every kiosk but the
 * first, the tills, the field operator and a merchant's price changes. Closing the door lets the
 * customers at a screen finish and lets nobody new in.
 */
export const runDemoWorld = (options: {
  readonly kiosks: ReadonlyArray<DemoKioskRunning>
  readonly deployment: DemoDeployment
  readonly sms: SimSmsControlService
  readonly providers: SimProvidersControlService
  readonly seed: number
  readonly counters: DemoCounters
  readonly door: CustomerDoor
}) =>
  Effect.gen(function* () {
    const { counters } = options
    const redemptions = yield* Redemptions
    const kiosksService = yield* Kiosks
    const catalog = yield* Catalog
    const tillRandom = yield* deviceRandom(deriveSeed(options.seed, "tills"))
    let nextRedemption = 1
    let nextMovement = 1

    const redeemLater = (couponCode: string, merchantId: string, valuePoints: number) =>
      Effect.gen(function* () {
        yield* Effect.sleep(2_000 + tillRandom.int(20_000))
        const redemptionId = RedemptionId.make(`rdm_demo_${String(nextRedemption++).padStart(7, "0")}`)
        const done = yield* Effect.either(
          redemptions.redeem(new RedeemCoupon({ redemptionId, merchantId: MerchantId.make(merchantId), couponCode: CouponCode.make(couponCode), amount: valuePoints }))
        )
        if (Either.isRight(done)) counters.redeemed++
      })

    const onVisit = (outcome: VisitOutcome): Effect.Effect<void> => {
      switch (outcome._tag) {
        case "Bought":
          counters.bought++
          return tillRandom.next() < REDEEM_SHARE ? Effect.asVoid(Effect.forkDaemon(redeemLater(outcome.couponCode, outcome.merchantId, outcome.valuePoints))) : Effect.void
        case "Returned":
          counters.returned++
          return Effect.void
        case "GaveUp":
          counters.gaveUp++
          return Effect.logDebug("a customer gave up").pipe(Effect.annotateLogs("at", outcome.at))
      }
    }

    const readCode = readCodeFrom(options.sms)
    for (const running of options.kiosks) {
      if (!running.simulated) continue
      const journey = running.agent.journey
      const random = yield* deviceRandom(deriveSeed(options.seed, `kiosk:${running.kiosk.id}:customers`))
      const screen = { views: journey.view.changes, act: journey.act }
      yield* Effect.forkScoped(touchCustomers(screen, readCode, random, running.hands, acceleratedTouchCustomers, onVisit, options.door))
    }

    // The field operator: what the twin dashboard would call them out for, done between customers.
    const needsOf = (running: DemoKioskRunning) =>
      Effect.map(Effect.zip(running.unit.snapshot, running.printer.snapshot), ([card, printer]) => maintenanceNeeds(card, printer, defaultOperatorParams))
    const maintain = (running: DemoKioskRunning) =>
      Effect.gen(function* () {
        if ((yield* needsOf(running)).length === 0) return
        const id = running.kiosk.id
        const movement = (kind: string) => StockMovementId.make(`${kind}:${id}:demo-${nextMovement++}`)
        // Between two customers: a card in the transport mid-sale is not a fault, so look again then.
        const needs = yield* running.agent.journey.exclusive(
          Effect.gen(function* () {
            const needs = yield* needsOf(running)
            for (const action of needs) {
              switch (action) {
                case "empty-bin":
                  yield* running.unit.emptyBin
                  yield* Effect.ignore(kiosksService.emptyBin(id, movement("empty")))
                  break
                case "reinitialise":
                  yield* Effect.ignore(running.agent.flow.startup)
                  break
                case "restock": {
                  const now = yield* running.unit.snapshot
                  const room = now.stackerCapacity - now.stackerCards
                  if (room <= 0) break
                  const recorded = yield* Effect.either(kiosksService.loadCards(id, room, movement("load")))
                  if (Either.isLeft(recorded) && recorded.left._tag === "StackerOverfilled") {
                    const fits = recorded.left.stackerCardsMax - recorded.left.stackerCards
                    if (fits > 0) yield* Effect.ignore(kiosksService.loadCards(id, Math.min(fits, room), movement("load")))
                  }
                  yield* running.unit.loadStacker(room)
                  break
                }
                case "printer-service":
                  yield* running.printer.service
                  break
                case "printer-paper":
                  yield* running.printer.loadPaper()
                  break
              }
            }
            return needs
          })
        )
        if (needs.length === 0) return
        counters.maintenance++
        yield* Effect.logInfo("field operator visited a kiosk").pipe(Effect.annotateLogs({ kiosk: id, actions: needs.join("+") }))
      })
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(OPERATOR_ROUND_MS), Effect.forEach(options.kiosks, maintain, { discard: true }))))

    // A merchant changes a price now and then: touchscreens showing the offers re-render.
    const priceRandom = yield* deviceRandom(deriveSeed(options.seed, "prices"))
    const changePrice = Effect.gen(function* () {
      const merchant = options.deployment.merchants[priceRandom.int(options.deployment.merchants.length)]
      const offer = merchant?.offers[priceRandom.int(merchant.offers.length)]
      if (merchant === undefined || offer === undefined) return
      const current = yield* Effect.either(catalog.offer(offer.offerId))
      if (Either.isLeft(current)) return
      const stepped = current.right.pricePoints + (priceRandom.next() < 0.5 ? -500 : 500)
      const pricePoints = Math.min(offer.pricePoints + 1_000, Math.max(Math.max(500, offer.pricePoints - 1_000), stepped))
      const changed = { ...offer, pricePoints }
      yield* options.providers.upsertOffer(merchant.id, changed)
      yield* Effect.ignore(catalog.upsertOffer({ ...changed, merchantId: merchant.id, couponValidityMs: current.right.couponValidityMs }))
      counters.priceChanges++
    })
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(PRICE_CHANGE_EVERY_MS), changePrice)))
  })

/** The auditor's report once everything has stopped. */
export const auditNow = Effect.flatMap(Auditor, (auditor) => auditor.run)

/** For the console: a line of what happened so far (no phone number, no key). */
export const countersLine = (c: DemoCounters, nowMs: number, startedMs: number): string =>
  `demo: ${Math.round((nowMs - startedMs) / 1000)} s: ${c.bought} coupons bought by touch, ${c.returned} cards returned, ${c.redeemed} redeemed at tills, ${c.gaveUp} visits given up, ${c.maintenance} operator visits, ${c.priceChanges} price changes`
