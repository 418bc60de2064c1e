import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Option, Schema, TestClock } from "effect"
import { sqljsTestLayer } from "../adapters/store/testing.js"
import { Cards } from "./cards.js"
import { Catalog } from "./catalog.js"
import type { OfferInput } from "./domain/catalog.js"
import { CardUid, InstitutionId, KioskId, MerchantId, OfferId, OrderId, RegionId } from "./domain/ids.js"
import { AbortOrder, DeliverOrder } from "./domain/order.js"
import { Institutions } from "./institutions.js"
import { KioskBackendLocal, refusalReasons } from "./kiosk-backend-local.js"
import { Kiosks } from "./kiosks.js"
import { Merchants } from "./merchants.js"
import { Orders } from "./orders.js"
import { Outbox } from "./outbox.js"
import { KioskBackend, type KioskSession, type RefusalReason, type ReportedState } from "./ports/kiosk-backend.js"
import { Regions } from "./regions.js"
import { KioskTwins } from "./twin.js"
import { defaultUsersSettings, Users } from "./users.js"

const kioskA = KioskId.make("ksk_a")
const kioskB = KioskId.make("ksk_b")
const seoul = RegionId.make("reg_seoul")
const cafe = MerchantId.make("mer_cafe")
const coffee = OfferId.make("off_coffee")
const cake = OfferId.make("off_cake")
const phone = (n: number) => `+8210${String(10_000_000 + n)}`
const DAY_MS = 86_400_000

const services = Layer.mergeAll(
  Users.Default,
  Orders.Default,
  Cards.Default,
  Catalog.Default,
  Kiosks.Default,
  KioskTwins.Default,
  Merchants.Default,
  Regions.Default,
  Institutions.Default,
  Outbox.Default
).pipe(Layer.provideMerge(sqljsTestLayer))

const offer = (id: OfferId, patch: Partial<OfferInput> = {}): OfferInput => ({
  offerId: id,
  merchantId: cafe,
  title: `offer ${id}`,
  pricePoints: 1_500,
  stock: 10,
  validFromMs: 0,
  validUntilMs: 365 * DAY_MS,
  couponValidityMs: 30 * DAY_MS,
  regions: [seoul],
  ...patch
})

/** A region with two kiosks (cards loaded), a registered merchant and two offers. */
const world = Effect.gen(function* () {
  const institution = yield* (yield* Institutions).register({ id: InstitutionId.make("ins_food"), name: "Food bank" })
  yield* (yield* Regions).register({ id: seoul, name: "Seoul", institutionId: institution.id })
  const kiosks = yield* Kiosks
  for (const id of [kioskA, kioskB]) {
    yield* kiosks.register({ id, regionId: seoul, name: id, binCapacity: 50 })
    yield* kiosks.loadCards(id, 20)
  }
  const merchants = yield* Merchants
  yield* merchants.register({ id: cafe, name: "Cafe" })
  yield* merchants.approve(cafe)
  const catalog = yield* Catalog
  yield* catalog.upsertOffer(offer(coffee))
  yield* catalog.upsertOffer(offer(cake, { pricePoints: 4_000, stock: 1 }))
}).pipe(Effect.orDie)

/** The backend of one kiosk, built over the shared services. */
const backendOf = (kioskId: KioskId) => Effect.provide(KioskBackend, KioskBackendLocal.layer(kioskId))

/** The code as the SMS in the outbox carries it (the test plays the phone). */
const codeFor = (challengeId: string) =>
  Effect.gen(function* () {
    const message = yield* (yield* Outbox).findByKey(`sms:${challengeId}`)
    if (Option.isNone(message)) return yield* Effect.dieMessage(`no sms for ${challengeId}`)
    const text = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({ text: Schema.String })))(message.value.payload).text
    const code = /code (\d+)/.exec(text)?.[1]
    return code ?? (yield* Effect.dieMessage(`no code in the sms for ${challengeId}`))
  })

const wrong = (code: string) => (code === "000000" ? "111111" : "000000")

/** Expects a refusal with `reason`; answers it. */
const refusedWith = <A, R>(attempt: Effect.Effect<A, { readonly _tag: string }, R>, reason: RefusalReason) =>
  Effect.gen(function* () {
    const result = yield* Effect.either(attempt)
    if (Either.isRight(result)) return yield* Effect.dieMessage(`expected a refusal (${reason}), but it succeeded`)
    const error = result.left
    if (error._tag !== "BackendRefused" || !("reason" in error)) return yield* Effect.dieMessage(`expected BackendRefused, got ${error._tag}`)
    expect(error.reason).toBe(reason)
    return error as typeof error & { readonly reason: RefusalReason; readonly currentCatalogVersion?: number; readonly detail: string }
  })

const signIn = (kioskId: KioskId, n: number) =>
  Effect.gen(function* () {
    const backend = yield* backendOf(kioskId)
    const sent = yield* backend.requestCode(phone(n))
    return yield* backend.verifyCode(sent.challengeId, yield* codeFor(sent.challengeId))
  })

const okReport: ReportedState = { deviceStatus: "ok", stackerLevel: "ok", stackerCount: 20, binCount: 0, unidentifiedCaptures: 0, printerStatus: "ok", softwareVersion: "test/1" }

describe("KioskBackendLocal", () => {
  it.effect("registers a new number, identifies a known one, and maps code refusals", () =>
    Effect.gen(function* () {
      yield* world
      const backend = yield* backendOf(kioskA)
      yield* refusedWith(backend.requestCode("01012345678"), "invalid-phone")

      const sent = yield* backend.requestCode(phone(1))
      expect(sent.purpose).toBe("register")
      const code = yield* codeFor(sent.challengeId)
      const wrongCode = yield* refusedWith(backend.verifyCode(sent.challengeId, wrong(code)), "wrong-code")
      expect(wrongCode.detail).toContain("4 tries left")
      const registered = yield* backend.verifyCode(sent.challengeId, code)
      expect(registered).toMatchObject({ newlyRegistered: true, balancePoints: defaultUsersSettings.welcomeGrantPoints })
      yield* refusedWith(backend.verifyCode(sent.challengeId, code), "code-expired")

      const again = yield* backend.requestCode(phone(1))
      expect(again.purpose).toBe("identify")
      // Five wrong codes lock the challenge.
      for (let i = 0; i < 4; i++) yield* refusedWith(backend.verifyCode(again.challengeId, wrong(yield* codeFor(again.challengeId))), "wrong-code")
      yield* refusedWith(backend.verifyCode(again.challengeId, wrong(yield* codeFor(again.challengeId))), "code-locked")

      // A challenge asked at another kiosk's backend (purpose not remembered here) still verifies.
      const other = yield* (yield* backendOf(kioskB)).requestCode(phone(1))
      const session = yield* backend.verifyCode(other.challengeId, yield* codeFor(other.challengeId))
      expect(session.newlyRegistered).toBe(false)
      yield* refusedWith(backend.verifyCode("otp_nothing", "123456"), "code-expired")
      yield* refusedWith(backend.verifyCode("not a challenge", "123456"), "code-expired")

      yield* TestClock.adjust(defaultUsersSettings.codeTtlMs)
      const late = yield* backend.requestCode(phone(1))
      yield* TestClock.adjust(defaultUsersSettings.codeTtlMs)
      yield* refusedWith(backend.verifyCode(late.challengeId, yield* codeFor(late.challengeId)), "code-expired")
    }).pipe(Effect.provide(services)))

  it.effect("shows the catalog on sale, reuses it until the region's version moves, and maps order refusals", () =>
    Effect.gen(function* () {
      yield* world
      const backend = yield* backendOf(kioskA)
      const view = yield* backend.catalog
      expect(view.offers.map((o) => o.offerId)).toEqual([cake, coffee])
      expect(yield* backend.catalog).toBe(view)

      const catalog = yield* Catalog
      yield* catalog.upsertOffer(offer(coffee, { pricePoints: 2_000 }))
      const changed = yield* backend.catalog
      expect(changed.version).toBeGreaterThan(view.version)
      expect(changed.offers.find((o) => o.offerId === coffee)?.pricePoints).toBe(2_000)
      // An offer whose window has not opened is not shown until it opens.
      yield* catalog.upsertOffer(offer(OfferId.make("off_later"), { validFromMs: DAY_MS }))
      expect((yield* backend.catalog).offers.map((o) => o.offerId)).not.toContain("off_later")
      yield* TestClock.adjust(DAY_MS)
      expect((yield* backend.catalog).offers.map((o) => o.offerId)).toContain("off_later")

      const session: KioskSession = yield* signIn(kioskA, 2)
      const request = (orderId: string, offerId: OfferId, catalogVersion: number, quantity = 1) =>
        ({ orderId: OrderId.make(orderId), sessionId: session.sessionId, offerId, quantity, catalogVersion, medium: "paper" as const })
      const current = (yield* backend.catalog).version
      const stale = yield* refusedWith(backend.place(request("ord_stale", coffee, view.version)), "catalog-changed")
      expect(stale.currentCatalogVersion).toBe(current)
      yield* refusedWith(backend.place(request("ord_many", coffee, current, 6)), "insufficient-points")
      yield* refusedWith(backend.place(request("ord_cakes", cake, current, 2)), "out-of-stock")
      yield* refusedWith(backend.place(request("ord_none", OfferId.make("off_none"), current)), "offer-unavailable")
      yield* refusedWith(backend.place({ ...request("ord_bad", coffee, current), sessionId: "nonsense" }), "session-invalid")
      yield* refusedWith(backend.place({ ...request("ord_zero", coffee, current), quantity: 0 }), "invalid-request")
      // The session belongs to kiosk A.
      yield* refusedWith((yield* backendOf(kioskB)).place(request("ord_b", coffee, current)), "session-invalid")

      const placed = yield* backend.place(request("ord_ok", coffee, current))
      expect(placed.amountPoints).toBe(2_000)
      yield* refusedWith(backend.place({ ...request("ord_ok", coffee, current), quantity: 2 }), "order-conflict")
      yield* backend.deliver(new DeliverOrder({ orderId: placed.orderId, medium: { _tag: "paper" } }))
      yield* refusedWith(backend.abort(new AbortOrder({ orderId: placed.orderId, reason: "too late" })), "order-conflict")
      expect(Option.map(yield* backend.order(placed.orderId), (o) => o.state)).toEqual(Option.some("delivered"))
      expect(yield* backend.order(OrderId.make("ord_unknown"))).toEqual(Option.none())

      yield* backend.endSession(session.sessionId)
      yield* refusedWith(backend.place(request("ord_after", coffee, current)), "session-invalid")
      yield* refusedWith(backend.endSession("nonsense"), "session-invalid")
    }).pipe(Effect.provide(services)))

  it.effect("dispenses, delivers and takes back a card at any kiosk; refuses unknown and returned cards", () =>
    Effect.gen(function* () {
      yield* world
      const backend = yield* backendOf(kioskA)
      const session = yield* signIn(kioskA, 3)
      const version = (yield* backend.catalog).version
      const orderId = OrderId.make("ord_card")
      yield* backend.place({ orderId, sessionId: session.sessionId, offerId: coffee, quantity: 1, catalogVersion: version, medium: "card" })
      const uid = CardUid.make("04A1B2C3D4E5F6")
      yield* backend.beginDispense(orderId, uid)
      yield* backend.beginDispense(orderId, uid)
      yield* refusedWith(backend.beginDispense(OrderId.make("ord_other"), uid), "card-conflict")
      const delivery = yield* backend.deliver(new DeliverOrder({ orderId, medium: { _tag: "card", cardUid: uid } }))
      expect(delivery.cardDeadlineMs).not.toBeNull()

      const other = yield* backendOf(kioskB)
      yield* refusedWith(other.returnCard(CardUid.make("04FFFFFFFFFFFF")), "unknown-card")
      const returned = yield* other.returnCard(uid)
      expect(returned).toMatchObject({ outcome: "returned", forwardedPoints: 1_500, kioskId: kioskB })
      yield* refusedWith(backend.returnCard(uid), "card-conflict")
      expect((yield* (yield* Cards).get(uid)).state).toBe("returned")
    }).pipe(Effect.provide(services)))

  it.effect("reports the twin, heartbeats with the same version, and answers the desired state", () =>
    Effect.gen(function* () {
      yield* world
      const backend = yield* backendOf(kioskA)
      const twins = yield* KioskTwins
      // The kiosk reports the catalog version it shows: it has shown none yet.
      yield* backend.reportState(okReport)
      expect((yield* twins.get(kioskA)).delta.map((d) => d.field)).toContain("catalogVersion")
      yield* backend.catalog
      const first = yield* backend.reportState(okReport)
      expect(first).toMatchObject({ version: 1, enabled: true })
      const twin = yield* twins.get(kioskA)
      expect(twin.reportedVersion).toBe(2)
      expect(twin.reported).toMatchObject({ deviceStatus: "ok", stackerLevel: 20, binCount: 0, appliedDesiredVersion: 1 })

      // Nothing changed: a heartbeat, same version, last seen moves on.
      yield* TestClock.adjust(60_000)
      yield* backend.reportState(okReport)
      const heartbeat = yield* twins.get(kioskA)
      expect(heartbeat.reportedVersion).toBe(2)
      expect(heartbeat.lastSeenMs).toBe(60_000)
      expect(heartbeat.delta).toEqual([])

      yield* twins.setDesired(kioskA, { enabled: false })
      expect(yield* backend.reportState({ ...okReport, deviceStatus: "Jam", stackerLevel: "empty", stackerCount: 0 })).toMatchObject({ version: 2, enabled: false })
      expect((yield* twins.get(kioskA)).reported).toMatchObject({ deviceStatus: "fault", stackerLevel: 0, stackerSensed: "empty" })

      // A unit that only senses a level reports no count: the twin compares emptiness with the server's
      // count, and a card captured unidentified shows in the delta.
      yield* backend.reportState({ ...okReport, stackerCount: null, stackerLevel: "low", unidentifiedCaptures: 1, binCount: 1 })
      const sensed = yield* twins.get(kioskA)
      expect(sensed.reported).toMatchObject({ stackerLevel: null, stackerSensed: "low", unidentifiedCaptures: 1 })
      expect(sensed.delta.map((d) => [d.field, d.desired, d.reported])).toEqual([["binCards", "0", "1"], ["unidentifiedCaptures", "0", "1"]])
      yield* backend.reportState({ ...okReport, stackerCount: null, stackerLevel: "empty" })
      expect((yield* twins.get(kioskA)).delta.find((d) => d.field === "stackerCards")).toMatchObject({ desired: "20", reported: '"empty"' })

      // A fresh agent for the same kiosk (a restart) reports past what the old one stored.
      const restarted = yield* backendOf(kioskA)
      yield* restarted.reportState(okReport)
      expect((yield* twins.get(kioskA)).reportedVersion).toBeGreaterThan(3)
      yield* refusedWith((yield* backendOf(KioskId.make("ksk_none"))).reportState(okReport), "kiosk-disabled")
    }).pipe(Effect.provide(services)))

  it("maps every domain error it can meet onto a refusal reason", () => {
    expect(Object.values(refusalReasons).every((reason) => typeof reason === "string")).toBe(true)
    expect(refusalReasons.StaleCatalog).toBe("catalog-changed")
    expect(refusalReasons.WrongCode).toBe("wrong-code")
  })
})
