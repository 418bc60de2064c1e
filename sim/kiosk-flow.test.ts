import type { SqlClient } from "@effect/sql"
import { Context, Effect, Exit, Layer, Option, Random, Schema, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runMigrations } from "../adapters/store/migrate.js"
import * as SqljsClient from "../adapters/store/sqljs-client.js"
import { decodeCard, encodeCard } from "../core/card-format.js"
import { InstitutionId, KioskId, MerchantId, OfferId, OrderId, RegionId } from "../core/domain/ids.js"
import { KioskBackendLocal } from "../core/kiosk-backend-local.js"
import { KioskFlow, type PurchaseOutcome } from "../core/kiosk-flow.js"
import { CardUnit } from "../core/ports/card-unit.js"
import { CouponPrinter } from "../core/ports/coupon-printer.js"
import { KioskBackend, type KioskSession } from "../core/ports/kiosk-backend.js"
import { KioskJournal } from "../core/ports/kiosk-journal.js"
import type { SimCard } from "./card-memory.js"
import { makeCardFactory } from "./card-memory.js"
import type { SimCardUnitControlService } from "./card-unit-control.js"
import { makeSimCardUnit } from "./card-unit.js"
import { always, at, never } from "./faults.js"
import { CoreServicesLive, type CoreServices, servicesFrom, type Services } from "./fleet-world.js"
import { makeSimKioskJournal, type SimKioskJournal } from "./kiosk-journal.js"
import { makeSimPrinter, type SimPrinterControlService } from "./printer.js"
import { VirtualTime } from "./virtual-time.js"

/**
 * The kiosk flow (core/kiosk-flow.ts) as a kiosk runs it: over the sim card unit and printer, the
 * in-memory journal and the in-process backend, on virtual time. Each test gets a fresh store with a
 * region, two kiosks loaded with cards, a merchant and one offer.
 */

const region = RegionId.make("reg_1")
const kioskA = KioskId.make("ksk_a")
const kioskB = KioskId.make("ksk_b")
const merchant = MerchantId.make("mer_1")
const coffee = OfferId.make("off_coffee")
const DAY_MS = 86_400_000
const phone = (n: number) => `+8210${String(20_000_000 + n)}`

let scope: Scope.CloseableScope
let storeFor: () => Promise<Context.Context<SqlClient.SqlClient>>

beforeAll(() => {
  scope = Effect.runSync(Scope.make())
  storeFor = () =>
    Effect.runPromise(
      Layer.buildWithScope(Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(Layer.provideMerge(Layer.orDie(Layer.fresh(SqljsClient.layer())))), scope)
    )
})
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

interface Kiosk {
  readonly flow: KioskFlow
  readonly unit: SimCardUnitControlService
  readonly printer: SimPrinterControlService
  readonly journal: SimKioskJournal
}

const cards = makeCardFactory()

const kioskOf = (id: KioskId, journal = makeSimKioskJournal()) =>
  Effect.gen(function* () {
    const card = yield* makeSimCardUnit({ seed: id.length, cards, stackerCards: 20, binCapacity: 10 })
    const printer = yield* makeSimPrinter({ seed: 2 })
    const devices = Context.make(CardUnit, card.port).pipe(Context.add(CouponPrinter, printer.port), Context.add(KioskJournal, journal.service))
    const flow = yield* Effect.provide(KioskFlow, KioskFlow.Default.pipe(Layer.provide(KioskBackendLocal.layer(id)), Layer.provide(Layer.succeedContext(devices))))
    yield* flow.startup
    return { flow, unit: card.control, printer: printer.control, journal } satisfies Kiosk
  })

const setup = (services: Services) =>
  Effect.gen(function* () {
    yield* services.institutions.register({ id: InstitutionId.make("ins_1"), name: "Food bank" })
    yield* services.regions.register({ id: region, name: "North", institutionId: InstitutionId.make("ins_1") })
    for (const id of [kioskA, kioskB]) {
      yield* services.kiosks.register({ id, regionId: region, name: id, binCapacity: 10 })
      yield* services.kiosks.loadCards(id, 20)
    }
    yield* services.merchants.register({ id: merchant, name: "Cafe" })
    yield* services.merchants.approve(merchant)
    yield* services.catalog.upsertOffer({ offerId: coffee, merchantId: merchant, title: "Coffee", pricePoints: 1_500, stock: 50, validFromMs: 0, validUntilMs: 365 * DAY_MS, couponValidityMs: 30 * DAY_MS, regions: [region] })
  }).pipe(Effect.orDie)

/** Runs `body` in virtual time on a fresh store with the deployment set up. */
const scenario = async <A>(body: (services: Services) => Effect.Effect<A, unknown, CoreServices | SqlClient.SqlClient>): Promise<A> => {
  const store = await storeFor()
  const time = new VirtualTime(DAY_MS)
  const exit = time.run(
    Effect.gen(function* () {
      const services = yield* servicesFrom
      yield* setup(services)
      const result = yield* body(services)
      const audit = yield* services.auditor.run
      if (!audit.ok) return yield* Effect.dieMessage(`audit failed: ${JSON.stringify(audit.checks.filter((c) => !c.ok))}`)
      return result
    }).pipe(Effect.provide(CoreServicesLive), Effect.provide(store), Effect.withRandom(Random.make("kiosk-flow")))
  )
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return exit.value
}

/** Signs a customer in at `kiosk`, reading the code from the outbox as their phone would. */
const signIn = (services: Services, kiosk: Kiosk, n: number) =>
  Effect.gen(function* () {
    const sent = yield* kiosk.flow.requestCode(phone(n))
    const message = yield* services.outbox.findByKey(`sms:${sent.challengeId}`)
    const text = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({ text: Schema.String })))(Option.getOrThrow(message).payload).text
    return yield* kiosk.flow.verifyCode(sent.challengeId, /code (\d+)/.exec(text)?.[1] ?? "")
  })

const buy = (kiosk: Kiosk, session: KioskSession, medium: "card" | "paper" | "phone") =>
  Effect.flatMap(kiosk.flow.browse, (view) => kiosk.flow.purchase({ session, offerId: coffee, quantity: 1, catalogVersion: view.version, medium }))

const delivered = (outcome: PurchaseOutcome) => {
  if (outcome._tag !== "Delivered") throw new Error(`expected Delivered, got ${JSON.stringify(outcome)}`)
  return outcome.delivery
}

/** What the kiosk wrote on the card, read back as the merchant's till would. */
const couponsOn = (card: SimCard) => decodeCard(encodeCard([{ code: "0000-0000-0000", valuePoints: 1, expiresAtMs: 0 }]).map(({ sector, block }) => card.read(sector, block)))

describe("kiosk flow over sim hardware and the in-process backend", () => {
  it("sells a coupon on a card the customer takes, written and read back, recorded by the server", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const kiosk = yield* kioskOf(kioskA)
        const session = yield* signIn(services, kiosk, 1)
        expect(session.newlyRegistered).toBe(true)
        yield* kiosk.unit.planHandOver({ _tag: "Take", afterMs: 4_000 })
        const delivery = delivered(yield* buy(kiosk, session, "card"))
        const [card] = yield* kiosk.unit.drainTaken
        expect(card?.uid).toBe(delivery.cardUid)
        const onCard = couponsOn(card as SimCard)
        expect(Array.isArray(onCard) && onCard[0]).toMatchObject({ code: delivery.couponCode, valuePoints: 1_500 })
        expect((yield* services.cards.get(card!.uid)).state).toBe("with_user")
        expect((yield* services.kiosks.counts(kioskA)).stackerCards).toBe(19)
        expect(kiosk.journal.entries()).toEqual([])
        expect((yield* services.users.balance(session.userId)).available).toBe(10_000 - 1_500)
      })
    ))

  it("captures a card left at the gate, aborts the order and gives the points back", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const kiosk = yield* kioskOf(kioskA)
        const session = yield* signIn(services, kiosk, 2)
        yield* kiosk.unit.planHandOver({ _tag: "Leave" })
        const outcome = yield* buy(kiosk, session, "card")
        expect(outcome._tag).toBe("CardNotTaken")
        const abortion = outcome._tag === "CardNotTaken" ? outcome.abortion : undefined
        expect(abortion?.retainedCardUid).not.toBeNull()
        expect((yield* services.cards.get(abortion!.retainedCardUid!)).state).toBe("retained")
        expect((yield* kiosk.unit.snapshot).binCards).toBe(1)
        expect((yield* services.kiosks.counts(kioskA)).binCards).toBe(1)
        expect((yield* services.users.balance(session.userId)).available).toBe(10_000)
        expect(kiosk.journal.entries()).toEqual([])
      })
    ))

  it("aborts when the card unit jams, and sells again once the operator re-initialises it", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const kiosk = yield* kioskOf(kioskA)
        const session = yield* signIn(services, kiosk, 3)
        yield* kiosk.unit.setFault("card.jam", always)
        const outcome = yield* buy(kiosk, session, "card")
        expect(outcome._tag === "DeviceFailed" && outcome.error._tag).toBe("Jam")
        expect(outcome._tag === "DeviceFailed" && Option.isSome(outcome.abortion)).toBe(true)
        expect((yield* services.kiosks.counts(kioskA)).stackerCards).toBe(20)
        yield* kiosk.unit.setFault("card.jam", never)
        expect((yield* kiosk.flow.startup).initialised).toBe(true)
        delivered(yield* buy(kiosk, session, "card"))
      })
    ))

  it("tries the activation of a dispensed card again after an RF failure, rather than give the card up", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const kiosk = yield* kioskOf(kioskA)
        const session = yield* signIn(services, kiosk, 9)
        yield* kiosk.unit.setFault("card.rf", at(1))
        delivered(yield* buy(kiosk, session, "card"))
        expect((yield* kiosk.unit.snapshot).faultsFired["card.rf"]).toBe(1)
        expect((yield* kiosk.unit.snapshot).binCards).toBe(0)
      })
    ))

  it("reports its stacker count and a dispensed card it could not identify, which the twin shows against the server's counts", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const kiosk = yield* kioskOf(kioskA)
        const session = yield* signIn(services, kiosk, 10)
        yield* kiosk.unit.setFault("card.rf", always)
        const outcome = yield* buy(kiosk, session, "card")
        expect(outcome._tag === "DeviceFailed" && outcome.error._tag).toBe("RfFailure")
        yield* kiosk.flow.reportState()
        const twin = yield* services.twins.get(kioskA)
        expect(twin.reported).toMatchObject({ stackerLevel: 19, stackerSensed: "low", binCount: 1, unidentifiedCaptures: 1 })
        expect(twin.delta.filter((d) => ["stackerCards", "binCards", "unidentifiedCaptures"].includes(d.field)).map((d) => [d.field, d.desired, d.reported])).toEqual([
          ["stackerCards", "20", "19"],
          ["binCards", "0", "1"],
          ["unidentifiedCaptures", "0", "1"]
        ])
      })
    ))

  it("prints on paper, and aborts without paper until the roll is changed", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const kiosk = yield* kioskOf(kioskA)
        const session = yield* signIn(services, kiosk, 4)
        yield* kiosk.printer.loadPaper(0)
        const out = yield* buy(kiosk, session, "paper")
        expect(out._tag === "DeviceFailed" && out.error._tag).toBe("PaperOut")
        yield* kiosk.printer.loadPaper()
        const delivery = delivered(yield* buy(kiosk, session, "paper"))
        const pages = yield* kiosk.printer.pages
        expect(pages.at(-1)?.coupon.code).toBe(delivery.couponCode)
        expect(delivered(yield* buy(kiosk, session, "phone")).medium).toBe("phone")
      })
    ))

  it("takes a card back at another kiosk, and gives back one the server does not know", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const a = yield* kioskOf(kioskA)
        const b = yield* kioskOf(kioskB)
        const session = yield* signIn(services, a, 5)
        yield* a.unit.planHandOver({ _tag: "Take", afterMs: 1_000 })
        const delivery = delivered(yield* buy(a, session, "card"))
        const [card] = yield* a.unit.drainTaken
        yield* b.unit.insertAtGate(card as SimCard)
        const returned = yield* b.flow.acceptReturn(10_000)
        expect(returned._tag === "Returned" && returned.result).toMatchObject({ outcome: "returned", kioskId: kioskB, forwardedPoints: delivery.valuePoints })
        expect((yield* services.kiosks.counts(kioskB)).binCards).toBe(1)
        expect((yield* b.unit.snapshot).binCards).toBe(1)

        const stranger = yield* b.unit.mintCard
        yield* b.unit.planHandOver({ _tag: "Take", afterMs: 1_000 })
        yield* b.unit.insertAtGate(stranger)
        const refused = yield* b.flow.acceptReturn(10_000)
        expect(refused).toEqual({ _tag: "Rejected", reason: "unknown-card" })
        yield* Effect.sleep(2_000)
        yield* b.unit.snapshot
        expect((yield* b.unit.drainTaken).map((c) => c.uid)).toEqual([stranger.uid])
        expect(yield* b.flow.acceptReturn(1_000)).toEqual({ _tag: "NoCard" })
      })
    ))

  it("recognises at the next start-up a card a jam swallowed during its return, so its deposit is never charged", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const a = yield* kioskOf(kioskA)
        const b = yield* kioskOf(kioskB)
        const session = yield* signIn(services, a, 8)
        yield* a.unit.planHandOver({ _tag: "Take", afterMs: 1_000 })
        delivered(yield* buy(a, session, "card"))
        const [card] = yield* a.unit.drainTaken
        yield* b.unit.setFault("card.jam", always)
        yield* b.unit.insertAtGate(card as SimCard)
        const swallowed = yield* b.flow.acceptReturn(10_000)
        expect(swallowed._tag === "DeviceFailed" && swallowed.error._tag).toBe("Jam")
        expect((yield* b.unit.snapshot).cardInTransport?.uid).toBe(card!.uid)
        // The operator clears the jam and restarts the kiosk.
        yield* b.unit.setFault("card.jam", never)
        const started = yield* b.flow.startup
        expect(started.leftCard).toBe("returned")
        expect((yield* services.cards.get(card!.uid)).state).toBe("returned")
        expect((yield* b.unit.snapshot).binCards).toBe(1)
        expect((yield* services.kiosks.counts(kioskB)).binCards).toBe(1)
        // Nothing left: the next start-up finds an empty transport.
        expect((yield* b.flow.startup).leftCard).toBe("none")
      })
    ))

  it("refuses an order shown at an older catalog version, and sells at the new one", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const kiosk = yield* kioskOf(kioskA)
        const session = yield* signIn(services, kiosk, 6)
        const view = yield* kiosk.flow.browse
        yield* services.catalog.upsertOffer({ offerId: coffee, merchantId: merchant, title: "Coffee", pricePoints: 1_700, stock: 50, validFromMs: 0, validUntilMs: 365 * DAY_MS, couponValidityMs: 30 * DAY_MS, regions: [region] })
        const stale = yield* kiosk.flow.purchase({ session, offerId: coffee, quantity: 1, catalogVersion: view.version, medium: "paper" })
        expect(stale._tag === "Refused" && stale.refusal.reason).toBe("catalog-changed")
        expect(stale._tag === "Refused" && stale.refusal.currentCatalogVersion).toBe(view.version + 1)
        expect(delivered(yield* buy(kiosk, session, "paper")).valuePoints).toBe(1_700)
      })
    ))

  it("after a restart finishes what its journal says: delivers a handed-over order, aborts a dispensing one, forgets one never placed", () =>
    scenario((services) =>
      Effect.gen(function* () {
        const journal = makeSimKioskJournal()
        const kiosk = yield* kioskOf(kioskA, journal)
        const session = yield* signIn(services, kiosk, 7)
        const version = (yield* kiosk.flow.browse).version
        const backend = yield* Effect.provide(KioskBackend, KioskBackendLocal.layer(kioskA))
        const place = (id: string) => backend.place({ orderId: OrderId.make(id), sessionId: session.sessionId, offerId: coffee, quantity: 1, catalogVersion: version, medium: "paper" })
        yield* place("ord_handed")
        yield* place("ord_printing")
        const entry = (id: string, stage: "handed-over" | "printing" | "placing") =>
          journal.service.put({ orderId: OrderId.make(id), medium: "paper", stage, cardUid: null, abortReason: null, cardRetained: false, updatedAtMs: 0 })
        yield* entry("ord_handed", "handed-over")
        yield* entry("ord_printing", "printing")
        yield* entry("ord_never", "placing")
        // The kiosk comes back up over the same journal.
        const restarted = yield* kioskOf(kioskA, journal)
        void restarted
        expect(journal.entries()).toEqual([])
        expect((yield* services.orders.get(OrderId.make("ord_handed"))).state).toBe("delivered")
        expect((yield* services.orders.get(OrderId.make("ord_printing"))).state).toBe("aborted")
      })
    ))
})
