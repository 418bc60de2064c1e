import { Clock, Data, Effect, Fiber, type Scope, Stream, SubscriptionRef } from "effect"
import type { KioskFlow, PurchaseOutcome, ReturnOutcome } from "../../core/kiosk-flow.js"
import { type BackendError, type DesiredState, type KioskSession, RefusalReason } from "../../core/ports/kiosk-backend.js"
import { type KioskAction, type KioskView, type Notice, phoneHintOf, type Progress, type Receipt, type ReturnResult, type Screen, toE164 } from "./journey-view.js"

/**
 * One customer at a time at one kiosk: the screens of the touchscreen as a state machine over the
 * kiosk flow (core/kiosk-flow.ts). The page sends the customer's choices (`act`); the journey asks
 * the flow, moves to the next screen and publishes the new `KioskView`, which the page renders.
 *
 * Decisions the blueprint leaves open:
 * - One action at a time: a choice sent while the previous one is still being answered is refused
 *   (`JourneyBusy`, the page shows it is working), except "finish", which also cancels the wait for a
 *   returned card. A purchase, once confirmed, runs to its end: the flow's journal makes it safe.
 * - The idle timeout counts from the last tap (a keypad digit counts: the page sends "touch"); on
 *   any screen of a session it ends the session and goes back to welcome, but never while a card is
 *   moving or an answer is awaited.
 * - A kiosk disabled by its operator finishes the journey in progress (a customer mid-order is not
 *   cut off) and then shows "out of service" until it is enabled again.
 * - A catalog change re-reads the catalog at once when a customer is looking at it; if the offer
 *   they chose is gone they are taken back to the list and told so.
 * - On any other screen (welcome, out of service, a customer typing a number, a card moving) it is
 *   read in the background: the server records the version a kiosk read, and its twin would show an
 *   idle kiosk behind the catalog until a customer happened to browse. The background read changes
 *   nothing on the screen, takes no lock and blocks no tap; the agent reports the twin after it.
 */

export interface JourneySettings {
  readonly idleTimeoutMs: number
  /** How long the "insert your card" screen waits for a card. */
  readonly returnWaitMs: number
  /** Prefix for numbers typed in national form (a leading 0): "82" for Korea. */
  readonly countryCode: string
  readonly simulatedHardware: boolean
}

export class JourneyBusy extends Data.TaggedError("JourneyBusy")<{}> {
  override get message() {
    return "the kiosk is still answering the previous choice; wait for the screen to change"
  }
}

export interface Journey {
  readonly view: SubscriptionRef.SubscriptionRef<KioskView>
  readonly act: (action: KioskAction) => Effect.Effect<void, JourneyBusy>
  /**
   * The region's catalog moved to `version`: a customer looking at the offers sees the new list; on
   * any other screen it is read in the background. Answers whether a newer catalog was read (the
   * twin has something new to report); a read the server did not answer is left for the next call.
   */
  readonly catalogChanged: (version: number) => Effect.Effect<boolean>
  /**
   * The server may no longer know which catalog this kiosk read (it restarted, or another server
   * answers now): the next `catalogChanged` reads it again, whatever version it names.
   */
  readonly forgetCatalogRead: Effect.Effect<void>
  readonly desiredChanged: (desired: DesiredState) => Effect.Effect<void>
  /**
   * Runs `effect` while no order or card return is in progress, and keeps them from starting until it
   * is done: the agent reconciles its journal this way, so it never settles the order being sold.
   */
  readonly exclusive: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

const SESSION_SCREENS: ReadonlySet<Screen> = new Set(["phone", "code", "offers", "order", "confirm", "receipt", "return-result"])
/** The screens that show the catalog (a session's offers, or an offer chosen from them). */
const CATALOG_SCREENS: ReadonlySet<Screen> = new Set(["offers", "order", "confirm"])
const isRefusalReason = (reason: string): reason is RefusalReason => (RefusalReason.literals as ReadonlyArray<string>).includes(reason)

export const noticeOf = (error: BackendError): Notice =>
  error._tag === "BackendUnavailable" ? { kind: "unavailable" } : { kind: "refusal", reason: error.reason }

const receiptOf = (outcome: Exclude<PurchaseOutcome, { _tag: "Refused" }>, title: string, quantity: number, balancePoints: number): Receipt => {
  switch (outcome._tag) {
    case "Delivered": {
      const d = outcome.delivery
      return { kind: "delivered", couponCode: d.couponCode, title, quantity, valuePoints: d.valuePoints, medium: d.medium, balancePoints, cardDeadlineMs: d.cardDeadlineMs, expiresAtMs: d.expiresAtMs }
    }
    case "Unresolved":
      // Past hand-over the customer holds the coupon; before it, nothing was handed over and the
      // journal will abort the order (no points are spent).
      return outcome.stage === "handed-over" ? { kind: "pending", title, medium: "card" } : { kind: "failed", error: "Unavailable", pointsKept: true }
    case "CardNotTaken":
      return { kind: "not-taken" }
    case "DeviceFailed":
      return { kind: "failed", error: outcome.error._tag, pointsKept: true }
  }
}

const returnResultOf = (outcome: Exclude<ReturnOutcome, { _tag: "NoCard" }>): ReturnResult => {
  switch (outcome._tag) {
    case "Returned":
      return { kind: "returned", forwardedPoints: outcome.result.forwardedPoints, chargedBefore: outcome.result.outcome === "returned_after_charge" }
    case "Rejected":
      return {
        kind: "rejected",
        reason: outcome.reason === "unknown-card" || outcome.reason === "card-conflict" ? outcome.reason : outcome.reason.startsWith("card unreadable") ? "card-unreadable" : isRefusalReason(outcome.reason) ? "card-conflict" : "unavailable"
      }
    case "BinFull":
      return { kind: "bin-full" }
    case "DeviceFailed":
      return { kind: "failed", error: outcome.error._tag }
  }
}

const initialView = (settings: JourneySettings): KioskView => ({
  seq: 0,
  screen: "welcome",
  busy: false,
  notice: null,
  codePurpose: null,
  phoneHint: null,
  balancePoints: null,
  newlyRegistered: false,
  catalogVersion: 0,
  offers: [],
  selection: null,
  progress: null,
  receipt: null,
  returnResult: null,
  idleTimeoutMs: settings.idleTimeoutMs,
  simulatedHardware: settings.simulatedHardware
})

/** Builds the journey over `flow`; its background fibers (idle watch, progress) live in `scope`. */
export const makeJourney = (
  flow: KioskFlow,
  progress: Stream.Stream<Progress | null>,
  settings: JourneySettings
): Effect.Effect<Journey, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const view = yield* SubscriptionRef.make(initialView(settings))
    let session: KioskSession | undefined
    let challenge: { readonly challengeId: string; readonly digits: string } | undefined
    let enabled = true
    let running: Fiber.RuntimeFiber<void> | undefined
    let lastTapMs = yield* Clock.currentTimeMillis
    // The newest catalog version read from the server, shown or not: what the server believes this
    // kiosk holds. 0: nothing read yet, or the server may have forgotten (`forgetCatalogRead`).
    let catalogReadVersion = 0
    const catalogRead = (version: number) =>
      Effect.sync(() => {
        const newer = version > catalogReadVersion
        if (newer) catalogReadVersion = version
        return newer
      })
    const devices = yield* Effect.makeSemaphore(1)

    const set = (change: (current: KioskView) => Partial<KioskView>) =>
      SubscriptionRef.update(view, (current) => ({ ...current, ...change(current), seq: current.seq + 1 }))
    const current = SubscriptionRef.get(view)
    const tap = Effect.flatMap(Clock.currentTimeMillis, (nowMs) => Effect.sync(() => void (lastTapMs = nowMs)))

    /** Ends the session (if any) and goes back to the first screen, or "out of service". */
    const endJourney = (notice: Notice | null) =>
      Effect.gen(function* () {
        const ended = session
        session = undefined
        challenge = undefined
        // Best effort: a session the server cannot be told about expires there by itself.
        if (ended !== undefined) yield* Effect.ignore(flow.endSession(ended))
        yield* set(() => ({ ...initialView(settings), screen: enabled ? "welcome" : "out-of-service", notice }))
      })

    /** A refusal that ends what the customer was doing. */
    const refusedHard = (error: BackendError) => {
      if (error._tag === "BackendRefused" && error.reason === "session-invalid") return endJourney({ kind: "info", key: "session-ended" })
      if (error._tag === "BackendRefused" && error.reason === "kiosk-disabled") {
        enabled = false
        return endJourney(noticeOf(error))
      }
      return undefined
    }
    const refusedOn = (screen: Screen) => (error: BackendError) => refusedHard(error) ?? set(() => ({ screen, notice: noticeOf(error) }))

    const showOffers = (notice: Notice | null) =>
      Effect.matchEffect(flow.browse, {
        onFailure: refusedOn("offers"),
        onSuccess: (catalog) =>
          Effect.zipRight(catalogRead(catalog.version), set(() => ({ screen: "offers", catalogVersion: catalog.version, offers: catalog.offers, selection: null, notice })))
      })

    const requestCode = (digits: string) =>
      Effect.matchEffect(flow.requestCode(toE164(digits, settings.countryCode)), {
        onFailure: refusedOn(challenge === undefined ? "phone" : "code"),
        onSuccess: (sent) => {
          challenge = { challengeId: sent.challengeId, digits }
          return set(() => ({ screen: "code", codePurpose: sent.purpose, phoneHint: phoneHintOf(digits), notice: null }))
        }
      })

    const verify = (code: string) =>
      Effect.gen(function* () {
        if (challenge === undefined) return yield* set(() => ({ screen: "phone", notice: null }))
        const verified = yield* Effect.either(flow.verifyCode(challenge.challengeId, code))
        if (verified._tag === "Left") return yield* refusedOn("code")(verified.left)
        session = verified.right
        yield* set(() => ({ balancePoints: verified.right.balancePoints, newlyRegistered: verified.right.newlyRegistered }))
        yield* showOffers(null)
      })

    const purchase = Effect.gen(function* () {
      const v = yield* current
      const selection = v.selection
      const offer = v.offers.find((o) => o.offerId === selection?.offerId)
      if (session === undefined || selection === null || offer === undefined) return yield* showOffers(null)
      yield* set(() => ({ screen: "dispensing", progress: "placing", notice: null }))
      const outcome = yield* devices.withPermits(1)(
        flow.purchase({ session, offerId: offer.offerId, quantity: selection.quantity, catalogVersion: v.catalogVersion, medium: selection.medium })
      )
      if (outcome._tag === "Refused") {
        const error = outcome.refusal
        const hard = refusedHard(error)
        if (hard !== undefined) return yield* hard
        if (error.reason === "catalog-changed" || error.reason === "offer-unavailable" || error.reason === "out-of-stock") return yield* showOffers(noticeOf(error))
        return yield* set(() => ({ screen: "order", progress: null, notice: noticeOf(error) }))
      }
      const spent = outcome._tag === "Delivered" ? outcome.delivery.valuePoints : outcome._tag === "Unresolved" && outcome.stage === "handed-over" ? selection.quantity * offer.pricePoints : 0
      const balancePoints = Math.max(0, (v.balancePoints ?? 0) - spent)
      const receipt = receiptOf(outcome, offer.title, selection.quantity, balancePoints)
      yield* set(() => ({ screen: "receipt", progress: null, balancePoints, receipt: receipt.kind === "pending" ? { ...receipt, medium: selection.medium } : receipt }))
    })

    const acceptReturn = Effect.gen(function* () {
      yield* set(() => ({ screen: "return-insert", busy: false, notice: null, returnResult: null }))
      const outcome = yield* devices.withPermits(1)(flow.acceptReturn(settings.returnWaitMs))
      if (outcome._tag === "NoCard") return yield* endJourney({ kind: "info", key: "no-card-inserted" })
      yield* tap
      yield* set(() => ({ screen: "return-result", returnResult: returnResultOf(outcome) }))
    })

    const back = (screen: Screen) => {
      switch (screen) {
        case "phone":
        case "offers":
          return endJourney(null)
        case "code":
          challenge = undefined
          return set(() => ({ screen: "phone", notice: null, codePurpose: null, phoneHint: null }))
        case "order":
          return set(() => ({ screen: "offers", selection: null, notice: null }))
        case "confirm":
          return set(() => ({ screen: "order", notice: null }))
        default:
          return Effect.void
      }
    }

    const handle = (action: Exclude<KioskAction, { _tag: "touch" }>, v: KioskView): Effect.Effect<void> => {
      switch (action._tag) {
        case "start":
          return enabled ? set(() => ({ screen: "phone", notice: null })) : endJourney(null)
        case "return":
          return enabled ? acceptReturn : endJourney(null)
        case "phone":
          return requestCode(action.digits)
        case "resend":
          return challenge === undefined ? set(() => ({ screen: "phone" })) : requestCode(challenge.digits)
        case "code":
          return verify(action.code)
        case "offer": {
          const offer = v.offers.find((o) => o.offerId === action.offerId)
          if (offer === undefined || session === undefined) return showOffers({ kind: "refusal", reason: "offer-unavailable" })
          return set(() => ({ screen: "order", selection: { offerId: offer.offerId, quantity: 1, medium: "card" }, notice: null }))
        }
        case "order": {
          const offer = v.offers.find((o) => o.offerId === v.selection?.offerId)
          if (offer === undefined) return showOffers({ kind: "refusal", reason: "offer-unavailable" })
          const selection = { offerId: offer.offerId, quantity: action.quantity, medium: action.medium }
          // The server would refuse it too; saying so here saves the customer a round trip.
          if (offer.pricePoints * action.quantity > (v.balancePoints ?? 0)) return set(() => ({ selection, notice: { kind: "refusal", reason: "insufficient-points" } }))
          return set(() => ({ screen: "confirm", selection, notice: null }))
        }
        case "confirm":
          return purchase
        case "back":
          return back(v.screen)
        case "more":
          return showOffers(null)
        case "finish":
          return endJourney(null)
      }
    }

    /** Which actions each screen accepts; anything else is a stale tap and changes nothing. */
    const accepts: Record<Screen, ReadonlyArray<KioskAction["_tag"]>> = {
      welcome: ["start", "return"],
      phone: ["phone", "back", "finish"],
      code: ["code", "resend", "back", "finish"],
      offers: ["offer", "back", "finish"],
      order: ["order", "back", "finish"],
      confirm: ["confirm", "back", "finish"],
      dispensing: [],
      receipt: ["more", "finish"],
      "return-insert": ["finish"],
      "return-result": ["finish"],
      "out-of-service": []
    }

    const act = (action: KioskAction): Effect.Effect<void, JourneyBusy> =>
      Effect.gen(function* () {
        yield* tap
        if (action._tag === "touch") return
        const v = yield* current
        if (!accepts[v.screen].includes(action._tag)) return
        if (running !== undefined) {
          // The wait for a returned card is the one wait a customer may walk away from.
          if (action._tag === "finish" && v.screen === "return-insert") yield* Fiber.interrupt(running)
          else return yield* new JourneyBusy()
        }
        if (action._tag !== "return") yield* set(() => ({ busy: true }))
        running = yield* handle(action, v).pipe(
          Effect.ensuring(Effect.zipRight(Effect.sync(() => void (running = undefined)), set(() => ({ busy: false })))),
          // The choice is answered on its own fiber: the page's request returns at once and the new
          // screen arrives over the event stream.
          Effect.forkIn(scope)
        )
      })

    /** The customer looks at the catalog: the list re-renders, and a chosen offer that is gone sends them back to it. */
    const rereadShown = Effect.gen(function* () {
      const catalog = yield* Effect.either(flow.browse)
      if (catalog._tag === "Left") return false
      const newer = yield* catalogRead(catalog.right.version)
      const after = yield* current
      if (after.screen === "dispensing" || session === undefined || !CATALOG_SCREENS.has(after.screen)) return newer
      const stillThere = after.selection === null || catalog.right.offers.some((o) => o.offerId === after.selection?.offerId)
      yield* set(() =>
        stillThere
          ? { catalogVersion: catalog.right.version, offers: catalog.right.offers }
          : { catalogVersion: catalog.right.version, offers: catalog.right.offers, screen: "offers", selection: null, notice: { kind: "refusal", reason: "offer-unavailable" } }
      )
      return newer
    })

    /** Nobody looks at the catalog: read it so the server records the version; the screen stays as it is. */
    const readInBackground = Effect.flatMap(Effect.either(flow.browse), (catalog) => (catalog._tag === "Left" ? Effect.succeed(false) : catalogRead(catalog.right.version)))

    const catalogChanged = (version: number): Effect.Effect<boolean> =>
      Effect.gen(function* () {
        const v = yield* current
        if (session !== undefined && CATALOG_SCREENS.has(v.screen) && version > v.catalogVersion) return yield* rereadShown
        if (version <= catalogReadVersion) return false
        return yield* readInBackground
      }).pipe(Effect.withSpan("KioskJourney.catalogChanged"))

    const desiredChanged = (desired: DesiredState) =>
      Effect.gen(function* () {
        if (desired.enabled === enabled) return
        enabled = desired.enabled
        const v = yield* current
        if (v.screen === "welcome" || v.screen === "out-of-service") yield* set(() => ({ screen: enabled ? "welcome" : "out-of-service", notice: null }))
      })

    // The idle watch: a session nobody touches ends.
    const idlePeriodMs = Math.max(50, Math.min(1_000, Math.floor(settings.idleTimeoutMs / 4)))
    yield* Effect.gen(function* () {
      while (true) {
        yield* Effect.sleep(idlePeriodMs)
        const v = yield* current
        const nowMs = yield* Clock.currentTimeMillis
        if (running === undefined && SESSION_SCREENS.has(v.screen) && nowMs - lastTapMs >= settings.idleTimeoutMs) {
          yield* endJourney({ kind: "info", key: "session-ended" })
        }
      }
    }).pipe(Effect.forkIn(scope))

    // The order's progress, from the journal and the card unit, while the customer watches it.
    yield* progress.pipe(
      Stream.runForEach((stage) => Effect.flatMap(current, (v) => (v.screen === "dispensing" && stage !== null ? set(() => ({ progress: stage })) : Effect.void))),
      Effect.forkIn(scope)
    )

    return {
      view,
      act,
      catalogChanged,
      forgetCatalogRead: Effect.sync(() => void (catalogReadVersion = 0)),
      desiredChanged,
      exclusive: devices.withPermits(1)
    } satisfies Journey
  })
