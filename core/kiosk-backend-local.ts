import { Clock, Effect, Layer, Option, Schema } from "effect"
import { Cards } from "./cards.js"
import { Catalog } from "./catalog.js"
import { BeginDispense, ReturnCard } from "./domain/card.js"
import type { Offer } from "./domain/catalog.js"
import { type CardUid, type KioskId, type OrderId, PhoneNumber, type RegionId } from "./domain/ids.js"
import { type AbortOrder, type DeliverOrder, PlaceOrder, QUANTITY_MAX } from "./domain/order.js"
import type { DeviceStatus, ReportedState as TwinReport } from "./domain/twin.js"
import { type AlreadyRegistered, type ChallengePurpose, ChallengeId, type Identified, type Registration, SessionId, type UnknownPhone, type UserNotFound } from "./domain/user.js"
import { Kiosks } from "./kiosks.js"
import { Orders } from "./orders.js"
import {
  BackendRefused,
  type CatalogOffer,
  type CatalogView,
  type CodeSent,
  type DesiredState,
  KioskBackend,
  type KioskBackendService,
  type KioskSession,
  type OrderRequest,
  type RefusalReason,
  type ReportedState
} from "./ports/kiosk-backend.js"
import { KioskTwins } from "./twin.js"
import { type ChallengeRefusal, Users } from "./users.js"
import { traced } from "./traced.js"

/**
 * The in-process layer of `KioskBackend` for one kiosk (DESIGN §3): what the HTTP API will do for a
 * kiosk agent, done by calling the core services directly. The simulator runs each kiosk's flow over
 * it; tests use it to drive the flow without a server.
 *
 * Domain refusals become `BackendRefused` with the reason the kiosk flow acts on (`refusalReasons`
 * below is the whole mapping). In-process there is no network, so nothing is ever
 * `BackendUnavailable`; a defect (a bug, a broken store) stays a defect.
 *
 * Kept per kiosk, in memory, as a kiosk agent's connection would keep it:
 * - the purpose of each code it asked for (bounded), so `verifyCode` calls the matching step;
 * - its region's catalog view, reused while the region's version is unchanged and no offer's sale
 *   window opens or closes (the API would answer such a repeat with 304 Not Modified);
 * - the twin report it sent last and its version, and the desired state it was last told (what it
 *   reports as applied).
 */

/** Which refusal each domain error is, as the kiosk flow sees it. */
export const refusalReasons = {
  InvalidPhone: "invalid-phone",
  AlreadyRegistered: "code-expired",
  UnknownPhone: "code-expired",
  // The port has no "wait before asking again"; the kiosk shows the detail, which says how long.
  TooManyChallenges: "code-locked",
  ChallengeNotFound: "code-expired",
  ChallengeExpired: "code-expired",
  ChallengeUsed: "code-expired",
  ChallengeLocked: "code-locked",
  WrongCode: "wrong-code",
  SessionNotFound: "session-invalid",
  SessionEnded: "session-invalid",
  SessionAtOtherKiosk: "session-invalid",
  UserNotFound: "session-invalid",
  KioskNotFound: "kiosk-disabled",
  KioskNotAvailable: "kiosk-disabled",
  StaleCatalog: "catalog-changed",
  OfferNotAvailable: "offer-unavailable",
  OutOfStock: "out-of-stock",
  InsufficientPoints: "insufficient-points",
  InvalidRequest: "invalid-request",
  OrderNotFound: "order-conflict",
  OrderConflict: "order-conflict",
  OrderAlreadyAborted: "order-conflict",
  OrderAlreadyDelivered: "order-conflict",
  MediumMismatch: "order-conflict",
  UnknownCard: "unknown-card",
  CardAlreadyIssued: "card-conflict",
  CardStateConflict: "card-conflict",
  CardMismatch: "card-conflict",
  CardAlreadyReturned: "card-conflict",
  // The server's own card counts refuse the move: the device and the server disagree about the
  // stacker or the bin, which an operator must reconcile.
  NoCardsInStacker: "card-conflict",
  CaptureBinFull: "card-conflict",
  RegionNotFound: "kiosk-disabled",
  TwinReportConflict: "invalid-request"
} as const satisfies Record<string, RefusalReason>

export type MappedError = { readonly _tag: keyof typeof refusalReasons; readonly message: string }

/** A domain error as the refusal the kiosk flow acts on. */
export const refusalOf = (error: MappedError): BackendRefused =>
  new BackendRefused({
    reason: refusalReasons[error._tag],
    detail: error.message,
    ...(error._tag === "StaleCatalog" && "currentVersion" in error && typeof error.currentVersion === "number" ? { currentCatalogVersion: error.currentVersion } : {})
  })

const refused = <A, R>(effect: Effect.Effect<A, MappedError, R>): Effect.Effect<A, BackendRefused, R> => Effect.mapError(effect, refusalOf)

/**
 * `refused`, then `onSuccess` on the answer, in one frame of Effect's run loop (`mapError` then `map`
 * take three more steps a call; these are the kiosk's hottest calls).
 */
const refusedThen = <A, B, R>(effect: Effect.Effect<A, MappedError, R>, onSuccess: (a: A) => B): Effect.Effect<B, BackendRefused, R> =>
  Effect.matchEffect(effect, { onFailure: (error) => Effect.fail(refusalOf(error)), onSuccess: (a) => Effect.succeed(onSuccess(a)) })

const toVoid = (): void => undefined

/** Codes whose purpose the layer remembers; an older challenge is looked up both ways. */
export const CHALLENGES_REMEMBERED_MAX = 256

const decodePhone = Schema.decodeUnknownOption(PhoneNumber)
const decodeSessionId = Schema.decodeUnknownOption(SessionId)
const decodeChallengeId = Schema.decodeUnknownOption(ChallengeId)
const decodePlaceOrder = Schema.decodeUnknownEither(PlaceOrder)

const registrationSession = (registration: Registration): KioskSession => ({
  sessionId: registration.session.id,
  userId: registration.user.id,
  // A new account holds the welcome grant and nothing else: no need to read it back.
  balancePoints: registration.welcomeGrantPoints,
  newlyRegistered: true
})

// The balance came with the sign-in, read in its transaction.
const identifiedSession = (identified: Identified): KioskSession => ({
  sessionId: identified.id,
  userId: identified.userId,
  balancePoints: identified.balancePoints,
  newlyRegistered: false
})

const invalid = (detail: string, reason: RefusalReason = "invalid-request") => new BackendRefused({ reason, detail })

/** What a card unit and printer status say about the kiosk as a whole. */
const deviceStatusOf = (reported: ReportedState): DeviceStatus =>
  reported.deviceStatus !== "ok" && reported.deviceStatus !== "bin-full"
    ? "fault"
    : reported.deviceStatus === "bin-full" || reported.stackerLevel !== "ok" || reported.printerStatus !== "ok"
      ? "degraded"
      : "ok"

const make = (kioskId: KioskId) =>
  Effect.gen(function* () {
    const users = yield* Users
    const orders = yield* Orders
    const cards = yield* Cards
    const catalog = yield* Catalog
    const kiosks = yield* Kiosks
    const twins = yield* KioskTwins

    const purposes = new Map<string, ChallengePurpose>()
    const remember = (challengeId: string, purpose: ChallengePurpose) => {
      purposes.set(challengeId, purpose)
      // Maps iterate in insertion order: the first key is the oldest.
      if (purposes.size > CHALLENGES_REMEMBERED_MAX) purposes.delete(purposes.keys().next().value ?? challengeId)
    }

    let regionId: RegionId | undefined
    const region = Effect.suspend(() =>
      regionId !== undefined
        ? Effect.succeed(regionId)
        : Effect.map(refused(kiosks.get(kioskId)), (kiosk) => {
            regionId = kiosk.regionId
            return kiosk.regionId
          })
    )

    let cached: { readonly view: CatalogView; readonly regionId: RegionId; readonly validUntilMs: number } | undefined
    /** The version the kiosk last showed: what it reports as its catalog version. */
    let shownCatalogVersion = 0

    // The calls below are plain functions over a few effects rather than `Effect.gen`: the kiosk makes
    // them on every journey. What they check first is pure; what they remember happens when they run.
    const requestCode = (phone: string): Effect.Effect<CodeSent, BackendRefused> => {
      const decoded = decodePhone(phone)
      if (Option.isNone(decoded)) return Effect.fail(refusalOf({ _tag: "InvalidPhone", message: "not a mobile number in E.164 form, like +821012345678" }))
      // Sign-in or registration, as the number is or is not registered: decided in the same
      // transaction that makes the challenge, so no look-up is spent before it.
      return refusedThen(users.startSignIn(decoded.value, kioskId), (started): CodeSent => {
        remember(started.challengeId, started.purpose)
        return { challengeId: started.challengeId, purpose: started.purpose }
      })
    }

    const verifyCode = (challengeId: string, code: string): Effect.Effect<KioskSession, BackendRefused> => {
      if (Option.isNone(decodeChallengeId(challengeId))) {
        return Effect.fail(refusalOf({ _tag: "ChallengeNotFound", message: `no code challenge ${challengeId.slice(0, 80)}; ask for a new code` }))
      }
      const verify = (purpose: ChallengePurpose): Effect.Effect<KioskSession, ChallengeRefusal | AlreadyRegistered | UnknownPhone | UserNotFound> =>
        purpose === "register"
          ? Effect.map(users.verifyRegistration(challengeId, code), registrationSession)
          : Effect.map(users.verifyIdentification(challengeId, code), identifiedSession)
      // The purpose remembered when the call runs.
      return Effect.suspend(() => {
        const purpose = purposes.get(challengeId)
        if (purpose === "register") return refusedThen(users.verifyRegistration(challengeId, code), registrationSession)
        if (purpose === "identify") return refusedThen(users.verifyIdentification(challengeId, code), identifiedSession)
        // Forgotten (or asked elsewhere): a challenge of the other purpose is "not found" to a step.
        return refused(verify("identify").pipe(Effect.catchTag("ChallengeNotFound", () => verify("register"))))
      })
    }

    const endSession = (sessionId: string): Effect.Effect<void, BackendRefused> => {
      const id = decodeSessionId(sessionId)
      if (Option.isNone(id)) return Effect.fail(invalid(`no session ${sessionId.slice(0, 80)}`, "session-invalid"))
      return refusedThen(users.endSession(id.value), toVoid)
    }

    const offerView = (offer: Offer): CatalogOffer => ({
      offerId: offer.id,
      merchantId: offer.merchantId,
      title: offer.title,
      pricePoints: offer.pricePoints,
      stock: offer.stock,
      validUntilMs: offer.validUntilMs
    })

    const catalogView: Effect.Effect<CatalogView, BackendRefused> = Effect.gen(function* () {
      const regionOfKiosk = yield* region
      const nowMs = yield* Clock.currentTimeMillis
      const current = cached
      if (current !== undefined && current.regionId === regionOfKiosk && nowMs < current.validUntilMs) {
        // One indexed look-up: is there any change after the version we hold?
        const newer = yield* refused(catalog.changesSince(regionOfKiosk, current.view.version, 1))
        if (newer.length === 0) {
          shownCatalogVersion = current.view.version
          return current.view
        }
      }
      const regionCatalog = yield* refused(catalog.catalogForRegion(regionOfKiosk))
      // Offers whose window has not opened are listed by the catalog; the kiosk shows what is on sale.
      const onSale = regionCatalog.offers.filter((offer) => offer.validFromMs <= nowMs && nowMs < offer.validUntilMs)
      const nextBoundaryMs = regionCatalog.offers.reduce(
        (soonest, offer) => Math.min(soonest, offer.validFromMs > nowMs ? offer.validFromMs : offer.validUntilMs),
        Number.MAX_SAFE_INTEGER
      )
      const view: CatalogView = { version: regionCatalog.version, offers: onSale.map(offerView) }
      cached = { view, regionId: regionOfKiosk, validUntilMs: nextBoundaryMs }
      shownCatalogVersion = view.version
      return view
    })


    const place = (request: OrderRequest) => {
      const sessionId = decodeSessionId(request.sessionId)
      if (Option.isNone(sessionId)) return Effect.fail(invalid(`no session ${request.sessionId.slice(0, 80)}`, "session-invalid"))
      const fields = {
        orderId: request.orderId,
        kioskId,
        customer: { _tag: "session", sessionId: sessionId.value },
        offerId: request.offerId,
        quantity: request.quantity,
        catalogVersion: request.catalogVersion,
        medium: request.medium
      } as const
      // The ids and the medium come typed through the port (the session id was decoded just above);
      // the numbers are what the schema would check. When they pass, the order is built as it is;
      // anything else goes through the schema, which says what is wrong.
      if (Number.isSafeInteger(fields.quantity) && fields.quantity >= 1 && fields.quantity <= QUANTITY_MAX && Number.isSafeInteger(fields.catalogVersion) && fields.catalogVersion >= 0) {
        return refused(orders.place(new PlaceOrder(fields, true)))
      }
      const order = decodePlaceOrder(fields)
      if (order._tag === "Left") return Effect.fail(invalid(`the order does not read as one: ${order.left.message}`))
      return refused(orders.place(order.right))
    }

    // The port's types are the check (an id and a card UID as the kiosk read them): no validation again.
    const beginDispense = (orderId: OrderId, cardUid: CardUid): Effect.Effect<void, BackendRefused> =>
      refusedThen(cards.beginDispense(new BeginDispense({ uid: cardUid, kioskId, orderId }, true)), toVoid)

    const order = (orderId: OrderId) => Effect.option(orders.get(orderId))

    const returnCard = (cardUid: CardUid) => refused(cards.return(new ReturnCard({ uid: cardUid, kioskId })))

    // --- twin ------------------------------------------------------------------------------------------

    let applied: { readonly desiredVersion: number; readonly enabled: boolean; readonly returnDeadlineDays: number; readonly config: Readonly<Record<string, string>> } | undefined
    let lastReport: { readonly version: number; readonly body: string } | undefined

    const reportState = (reported: ReportedState): Effect.Effect<DesiredState, BackendRefused> =>
      Effect.gen(function* () {
        if (applied === undefined) {
          const twin = yield* refused(twins.get(kioskId))
          applied = { desiredVersion: 0, enabled: twin.desired.enabled, returnDeadlineDays: twin.desired.returnDeadlineDays, config: twin.desired.config }
          lastReport = { version: twin.reportedVersion, body: "" }
        }
        const state: TwinReport = {
          deviceStatus: deviceStatusOf(reported),
          // The kiosk's own count where its unit can tell (the twin's delta compares it with the server's);
          // a unit that only senses a level reports null and the delta compares emptiness.
          stackerLevel: reported.stackerCount === null ? null : Math.max(0, reported.stackerCount),
          stackerSensed: reported.stackerLevel,
          binCount: Math.max(0, reported.binCount),
          unidentifiedCaptures: Math.max(0, reported.unidentifiedCaptures),
          softwareVersion: reported.softwareVersion,
          appliedDesiredVersion: reported.applied?.desiredVersion ?? applied.desiredVersion,
          enabled: reported.applied?.enabled ?? applied.enabled,
          returnDeadlineDays: applied.returnDeadlineDays,
          catalogVersion: shownCatalogVersion,
          config: applied.config
        }
        const body = JSON.stringify(state)
        const previous = lastReport ?? { version: 0, body: "" }
        const version = previous.body === body ? previous.version : previous.version + 1
        const twin = yield* twins.report(kioskId, version, state).pipe(
          // Another agent (or an earlier life of this one) reported since: go past it.
          Effect.catchTag("TwinReportStale", (stale) => twins.report(kioskId, stale.storedVersion + 1, state)),
          Effect.catchTag("TwinReportStale", (stale) => Effect.fail({ _tag: "TwinReportConflict" as const, message: stale.message })),
          refused
        )
        lastReport = { version: twin.reportedVersion, body }
        applied = {
          desiredVersion: twin.desiredVersion,
          enabled: twin.desired.enabled,
          returnDeadlineDays: twin.desired.returnDeadlineDays,
          config: twin.desired.config
        }
        return { version: twin.desiredVersion, enabled: twin.desired.enabled, catalogVersion: twin.desired.catalogVersion ?? twin.regionCatalogVersion }
      })

    const service: KioskBackendService = {
      requestCode: (phone) => requestCode(phone).pipe(traced("KioskBackendLocal.requestCode")),
      verifyCode: (challengeId, code) => verifyCode(challengeId, code).pipe(traced("KioskBackendLocal.verifyCode")),
      endSession: (sessionId) => endSession(sessionId).pipe(traced("KioskBackendLocal.endSession")),
      catalog: catalogView.pipe(traced("KioskBackendLocal.catalog")),
      place: (request) => place(request).pipe(traced("KioskBackendLocal.place")),
      beginDispense: (orderId, cardUid) => beginDispense(orderId, cardUid).pipe(traced("KioskBackendLocal.beginDispense")),
      deliver: (request: DeliverOrder) => refused(orders.deliver(request)).pipe(traced("KioskBackendLocal.deliver")),
      abort: (request: AbortOrder) => refused(orders.abort(request)).pipe(traced("KioskBackendLocal.abort")),
      order: (orderId) => order(orderId).pipe(traced("KioskBackendLocal.order")),
      returnCard: (cardUid) => returnCard(cardUid).pipe(traced("KioskBackendLocal.returnCard")),
      reportState: (reported) => reportState(reported).pipe(traced("KioskBackendLocal.reportState"))
    }
    return service
  })

export type KioskBackendLocalDependencies = Users | Orders | Cards | Catalog | Kiosks | KioskTwins

export const KioskBackendLocal = {
  /** The backend for kiosk `kioskId`, over the core services in this process. */
  layer: (kioskId: KioskId): Layer.Layer<KioskBackend, never, KioskBackendLocalDependencies> => Layer.effect(KioskBackend, make(kioskId)),
  make
} as const
