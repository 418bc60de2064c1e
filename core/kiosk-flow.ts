import { Context, Effect, Either, Option, Ref } from "effect"
import { type CardUid, OrderId, type OfferId } from "./domain/ids.js"
import { AbortOrder, DeliverOrder, type Abortion, type Delivery, type Medium, type Placement } from "./domain/order.js"
import type { CardReturn } from "./domain/card.js"
import { decodeCard, encodeCard, type CardCoupon } from "./card-format.js"
import { newId } from "./id-generator.js"
import { CardUnit, type CardUnitError } from "./ports/card-unit.js"
import { CouponPrinter, type PrinterError } from "./ports/coupon-printer.js"
import type { CardNotTaken, RfFailure } from "./ports/hardware-errors.js"
import { KioskBackend, type BackendRefused, type BackendUnavailable, type AppliedDesired, type DesiredState, type KioskSession } from "./ports/kiosk-backend.js"
import { KioskJournal, type InFlightOrder, type InFlightStage } from "./ports/kiosk-journal.js"
import { reconcileOrder, type Reconciled } from "./kiosk-recovery.js"
import { traced } from "./traced.js"

/**
 * The customer journey at one kiosk (DESIGN §3): identify, browse, order, dispense and write the card
 * or print, hand over or capture, and take back returned cards. It speaks only ports, so the simulator
 * runs it on sim hardware with the in-process backend and the kiosk agent runs it on the serial
 * drivers with the HTTP backend.
 *
 * Before every irreversible step the kiosk writes how far the order got to its journal, so after a
 * crash `reconcile` can finish or abort every order in flight with the server. Outcomes a customer can
 * meet are data (`PurchaseOutcome`), not failures: the UI or the behaviour model shows them.
 */
export interface KioskFlowSettings {
  /** How long a presented card may sit at the gate before it is captured. */
  readonly cardTakeTimeoutMs: number
  /** The Mifare key the kiosk writes with (a deployment secret; blank cards ship with FF..FF). */
  readonly sectorKey: Uint8Array
  readonly softwareVersion: string
}

export class KioskFlowConfig extends Context.Reference<KioskFlowConfig>()("ecoupon/KioskFlowConfig", {
  defaultValue: (): KioskFlowSettings => ({
    cardTakeTimeoutMs: 30_000,
    sectorKey: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    softwareVersion: "ecoupon-kiosk/0.1.0"
  })
}) {}

export type DeviceError = CardUnitError | RfFailure | CardNotTaken | PrinterError

/** Activations tried again after an RF failure, before the dispensed card is given up. */
export const ACTIVATE_RETRIES = 2

export type PurchaseOutcome =
  | { readonly _tag: "Delivered"; readonly delivery: Delivery }
  /** The card sat at the gate too long: captured, order aborted, no points spent. */
  | { readonly _tag: "CardNotTaken"; readonly abortion: Abortion }
  /** The server said no (stale catalog, not enough points, sold out…): nothing happened. */
  | { readonly _tag: "Refused"; readonly refusal: BackendRefused }
  /** A device failed: the order was aborted (or will be, see the journal), no points spent. */
  | { readonly _tag: "DeviceFailed"; readonly error: DeviceError | { readonly _tag: "CardUnreadable"; readonly message: string }; readonly abortion: Option.Option<Abortion> }
  /** The server could not be reached mid-order: the journal keeps it and `reconcile` finishes it. */
  | { readonly _tag: "Unresolved"; readonly orderId: OrderId; readonly stage: InFlightStage }

export type ReturnOutcome =
  | { readonly _tag: "Returned"; readonly result: CardReturn }
  | { readonly _tag: "NoCard" }
  /** Given back at the gate: unknown to the server, unreadable, or the server is unreachable. */
  | { readonly _tag: "Rejected"; readonly reason: string }
  | { readonly _tag: "BinFull" }
  | { readonly _tag: "DeviceFailed"; readonly error: DeviceError }

export interface PurchaseRequest {
  readonly session: KioskSession
  readonly offerId: OfferId
  readonly quantity: number
  readonly catalogVersion: number
  readonly medium: Medium
}

export class KioskFlow extends Effect.Service<KioskFlow>()("ecoupon/KioskFlow", {
  effect: Effect.gen(function* () {
    const unit = yield* CardUnit
    const printer = yield* CouponPrinter
    const backend = yield* KioskBackend
    const journal = yield* KioskJournal
    const config = yield* KioskFlowConfig

    const note = (orderId: OrderId, medium: Medium, stage: InFlightStage, cardUid: CardUid | null, abort?: { reason: string; retained: boolean }) =>
      // The clock read inside its look-up: one run-loop step where `flatMap(Clock.currentTimeMillis, ...)` takes three.
      Effect.clockWith((clock) =>
        journal.put({ orderId, medium, stage, cardUid, abortReason: abort?.reason ?? null, cardRetained: abort?.retained ?? false, updatedAtMs: clock.unsafeCurrentTimeMillis() })
      )

    /**
     * Aborts with the server; if it cannot be reached, the journal keeps the intent for `reconcile`.
     * A retained card is captured only once the journal says so: a power cut after the capture must
     * not leave a journal that says the card is still out (start-up would take it for handed over).
     */
    const abortOrder = (orderId: OrderId, medium: Medium, reason: string, retainedCardUid: CardUid | null) =>
      Effect.gen(function* () {
        yield* note(orderId, medium, "aborting", retainedCardUid, { reason, retained: retainedCardUid !== null })
        if (retainedCardUid !== null) yield* captureQuietly
        const abortion = yield* backend.abort(new AbortOrder({ orderId, reason, ...(retainedCardUid === null ? {} : { retainedCardUid }) }))
        yield* journal.remove(orderId)
        return Option.some(abortion)
      }).pipe(Effect.catchAll(() => Effect.succeed(Option.none<Abortion>())))

    /** Best effort: a card that must not leave the unit goes to the bin. */
    const captureQuietly = Effect.ignore(unit.capture)

    const deviceFailed = (orderId: OrderId, medium: Medium, error: DeviceError | { readonly _tag: "CardUnreadable"; readonly message: string }, retainedCardUid: CardUid | null) =>
      Effect.map(abortOrder(orderId, medium, `device: ${error._tag}`, retainedCardUid), (abortion): PurchaseOutcome => ({ _tag: "DeviceFailed", error, abortion }))

    /** Cards captured since start-up that the server never recorded (reported in the twin). */
    const unidentifiedCaptures = yield* Ref.make(0)
    /** Captures a card the server will not hear of, counting it when the unit took it. */
    const captureUnidentified = Effect.flatMap(Effect.either(unit.capture), (captured) =>
      Either.isRight(captured) ? Ref.update(unidentifiedCaptures, (n) => n + 1) : Effect.void
    )

    const writeCoupon = (coupons: ReadonlyArray<CardCoupon>) =>
      Effect.gen(function* () {
        const blocks = encodeCard(coupons)
        let authenticated = -1
        for (const { sector, block, data } of blocks) {
          if (sector !== authenticated) {
            yield* unit.authenticate(sector, "A", config.sectorKey)
            authenticated = sector
          }
          yield* unit.writeBlock(sector, block, data)
        }
        // Read back what was written: a card that does not hold its coupon must not leave the kiosk.
        const read: Array<Uint8Array> = []
        authenticated = -1
        for (const { sector, block } of blocks) {
          if (sector !== authenticated) {
            yield* unit.authenticate(sector, "A", config.sectorKey)
            authenticated = sector
          }
          read.push(yield* unit.readBlock(sector, block))
        }
        const decoded = decodeCard(read)
        return !Array.isArray(decoded) || JSON.stringify(decoded) !== JSON.stringify(coupons)
          ? Either.left({ _tag: "CardUnreadable" as const, message: "the card did not read back what was written" })
          : Either.right(undefined)
      })

    const issueCard = (placement: Placement): Effect.Effect<PurchaseOutcome> =>
      Effect.gen(function* () {
        const { orderId } = placement
        yield* note(orderId, "card", "dispensing", null)
        // A card already in the transport (pushed in at the gate, or left by a fault) would be carried
        // to the RF position instead of a blank one: it goes to the bin first.
        const before = yield* Effect.either(unit.status)
        if (Either.isRight(before) && before.right.position !== "none") yield* captureUnidentified
        // An RF transmission error on activation is usually momentary; a card that cannot be identified
        // goes to the bin without the server ever hearing of it (its stacker and bin counts then drift
        // from the unit's), so it is worth two more tries.
        const activate = unit.activate.pipe(Effect.retry({ times: ACTIVATE_RETRIES, while: (error) => error._tag === "RfFailure" }))
        const picked = yield* Effect.either(unit.dispenseToRf)
        const dispensed = Either.isLeft(picked) ? Either.left(picked.left) : yield* Effect.either(activate)
        if (Either.isLeft(dispensed)) {
          // A card that reached the RF position but could not be identified is one the server never hears of.
          yield* Either.isRight(picked) ? captureUnidentified : captureQuietly
          return yield* deviceFailed(orderId, "card", dispensed.left, null)
        }
        const uid = dispensed.right.uid
        yield* note(orderId, "card", "card-issued", uid)
        const recorded = yield* Effect.either(backend.beginDispense(orderId, uid))
        if (Either.isLeft(recorded)) {
          yield* captureQuietly
          if (recorded.left._tag === "BackendUnavailable") return { _tag: "Unresolved", orderId, stage: "card-issued" } as const
          const abortion = yield* abortOrder(orderId, "card", `card refused: ${recorded.left.reason}`, null)
          return { _tag: "DeviceFailed", error: { _tag: "CardUnreadable", message: recorded.left.message }, abortion } as const
        }
        const coupon: CardCoupon = { code: placement.couponCode, valuePoints: placement.amountPoints, expiresAtMs: 0 }
        const written = yield* Effect.either(writeCoupon([coupon]))
        const writeFailure = Either.isLeft(written) ? written.left : Either.isLeft(written.right) ? written.right.left : undefined
        if (writeFailure !== undefined) return yield* deviceFailed(orderId, "card", writeFailure, uid)
        const presented = yield* Effect.either(Effect.zipRight(unit.presentAtGate, unit.awaitTaken(config.cardTakeTimeoutMs)))
        if (Either.isLeft(presented)) {
          if (presented.left._tag === "CardNotTaken") {
            const abortion = yield* abortOrder(orderId, "card", "card not taken", uid)
            return Option.match(abortion, {
              onNone: (): PurchaseOutcome => ({ _tag: "Unresolved", orderId, stage: "aborting" }),
              onSome: (a): PurchaseOutcome => ({ _tag: "CardNotTaken", abortion: a })
            })
          }
          return yield* deviceFailed(orderId, "card", presented.left, uid)
        }
        return yield* handOver(orderId, "card", { _tag: "card", cardUid: uid }, uid)
      })

    /** The customer has the coupon: tell the server, or leave it to `reconcile` if it cannot be told. */
    const handOver = (orderId: OrderId, medium: Medium, delivered: { readonly _tag: "card"; readonly cardUid: CardUid } | { readonly _tag: "paper" } | { readonly _tag: "phone" }, cardUid: CardUid | null) =>
      Effect.gen(function* () {
        yield* note(orderId, medium, "handed-over", cardUid)
        // Unvalidated: the order id and card UID are branded values this flow already holds, checked when they were made.
        const delivery = yield* Effect.either(backend.deliver(new DeliverOrder({ orderId, medium: delivered }, true)))
        if (Either.isLeft(delivery)) return { _tag: "Unresolved", orderId, stage: "handed-over" } as PurchaseOutcome
        yield* journal.remove(orderId)
        return { _tag: "Delivered", delivery: delivery.right } as PurchaseOutcome
      })

    const printCoupon = (placement: Placement, title: string) =>
      Effect.gen(function* () {
        const { orderId } = placement
        yield* note(orderId, "paper", "printing", null)
        const printed = yield* Effect.either(
          printer.print({
            code: placement.couponCode,
            title,
            merchantName: placement.merchantId,
            valuePoints: placement.amountPoints,
            expiresAt: "see your receipt",
            lines: [`order ${orderId}`, `quantity ${placement.quantity}`]
          })
        )
        if (Either.isLeft(printed)) return yield* deviceFailed(orderId, "paper", printed.left, null)
        return yield* handOver(orderId, "paper", { _tag: "paper" }, null)
      })

    const purchase = (request: PurchaseRequest): Effect.Effect<PurchaseOutcome> =>
      Effect.gen(function* () {
        const orderId = OrderId.make(yield* newId("ord"))
        yield* note(orderId, request.medium, "placing", null)
        const placed = yield* Effect.either(
          backend.place({ orderId, sessionId: request.session.sessionId, offerId: request.offerId, quantity: request.quantity, catalogVersion: request.catalogVersion, medium: request.medium })
        )
        if (Either.isLeft(placed)) {
          if (placed.left._tag === "BackendUnavailable") return { _tag: "Unresolved", orderId, stage: "placing" } as const
          yield* journal.remove(orderId)
          return { _tag: "Refused", refusal: placed.left } as const
        }
        switch (request.medium) {
          case "card":
            return yield* issueCard(placed.right)
          case "paper":
            return yield* printCoupon(placed.right, String(request.offerId))
          case "phone":
            return yield* handOver(orderId, "phone", { _tag: "phone" }, null)
        }
      }).pipe(traced("KioskFlow.purchase", { attributes: { medium: request.medium } }))

    /** Takes back a card inserted at the gate: captured if the server knows it, handed back if not. */
    const acceptReturn = (waitMs: number): Effect.Effect<ReturnOutcome> =>
      Effect.gen(function* () {
        const status = yield* unit.status
        if (status.binFull) return { _tag: "BinFull" } as const
        const inserted = yield* Effect.ensuring(
          Effect.zipRight(unit.setFrontEntry(true), unit.awaitInserted(waitMs)),
          Effect.ignore(unit.setFrontEntry(false))
        )
        if (!inserted) return { _tag: "NoCard" } as const
        const card = yield* Effect.either(unit.activate)
        const giveBack = (reason: string) => Effect.as(Effect.ignore(unit.presentAtGate), { _tag: "Rejected", reason } as ReturnOutcome)
        if (Either.isLeft(card)) return yield* giveBack(`card unreadable (${card.left._tag})`)
        const result = yield* Effect.either(backend.returnCard(card.right.uid))
        if (Either.isLeft(result)) {
          return yield* giveBack(result.left._tag === "BackendRefused" ? result.left.reason : "server unavailable, try again later")
        }
        yield* unit.capture
        return { _tag: "Returned", result: result.right } as const
      }).pipe(
        Effect.catchAll((error): Effect.Effect<ReturnOutcome> => Effect.succeed({ _tag: "DeviceFailed", error })),
        traced("KioskFlow.acceptReturn")
      )

    const printerStatusText = Effect.match(printer.status, {
      onFailure: (error) => error._tag,
      onSuccess: (s) => (!s.online ? "offline" : s.coverOpen ? "cover-open" : s.paper !== "ok" ? `paper-${s.paper}` : "ok")
    })

    /** The twin's report; `applied`: what the kiosk has put into effect, where it knows (the agent). */
    const reportState = (applied?: AppliedDesired): Effect.Effect<DesiredState, BackendRefused | BackendUnavailable> => Effect.gen(function* () {
      const status = yield* Effect.either(unit.status)
      const binCount = yield* Effect.orElseSucceed(unit.binCount, () => -1)
      const stackerCount = yield* Effect.orElseSucceed(unit.stackerCount, () => null)
      return yield* backend.reportState({
        deviceStatus: Either.isRight(status) ? (status.right.binFull ? "bin-full" : "ok") : status.left._tag,
        stackerLevel: Either.isRight(status) ? status.right.stacker : "empty",
        stackerCount,
        binCount,
        unidentifiedCaptures: yield* Ref.get(unidentifiedCaptures),
        printerStatus: yield* printerStatusText,
        softwareVersion: config.softwareVersion,
        ...(applied === undefined ? {} : { applied })
      })
    }).pipe(traced("KioskFlow.reportState"))

    /**
     * Finishes or aborts every order the journal says is in flight; what cannot be settled stays.
     * `unitInspected`: start-up looked in the unit and dealt with any card it held, so a card-issued
     * order's card that was not there left with the customer.
     */
    const reconcileWith = (unitInspected: boolean): Effect.Effect<ReadonlyArray<Reconciled>> =>
      Effect.gen(function* () {
        const entries: ReadonlyArray<InFlightOrder> = yield* journal.all
        return yield* Effect.forEach(entries, (entry) => reconcileOrder(backend, journal, entry, { cardLeftUnit: unitInspected }))
      }).pipe(traced("KioskFlow.reconcile"))

    /**
     * A card the unit held at start-up goes to the bin, but first it is identified. A card of an order
     * in flight (or the card an order was dispensing when the power went, whose UID the journal never
     * got) is journaled as retained before it is captured, and `reconcile` aborts that order. A
     * customer's card swallowed by a fault during its return (a jam drawing it in) is returned with the
     * server, so its deposit is not charged later for a card that is in the kiosk. An unknown or
     * unreadable one is captured and counted as unidentified. `inspected`: the unit was looked in and
     * every card it held is accounted for.
     */
    const settleLeftCard = Effect.gen(function* () {
      const status = yield* Effect.either(unit.status)
      if (Either.isLeft(status)) return { leftCard: "none" as const, inspected: false }
      if (status.right.position === "none") return { leftCard: "none" as const, inspected: true }
      const card = yield* Effect.either(unit.activate)
      if (Either.isLeft(card)) {
        yield* captureUnidentified
        return { leftCard: "captured" as const, inspected: false }
      }
      const uid = card.right.uid
      const entries = yield* journal.all
      const retain = (entry: InFlightOrder) =>
        Effect.zipRight(note(entry.orderId, entry.medium, "aborting", uid, { reason: `kiosk restarted during ${entry.stage}`, retained: true }), captureQuietly)
      const owner = entries.find((entry) => entry.cardUid === uid)
      if (owner !== undefined) {
        yield* retain(owner)
        return { leftCard: "captured" as const, inspected: true }
      }
      const picking = entries.find((entry) => entry.medium === "card" && entry.stage === "dispensing" && entry.cardUid === null)
      if (picking !== undefined && Either.isRight(yield* Effect.either(backend.beginDispense(picking.orderId, uid)))) {
        yield* retain(picking)
        return { leftCard: "captured" as const, inspected: true }
      }
      const returned = Either.isRight(yield* Effect.either(backend.returnCard(uid)))
      yield* returned ? captureQuietly : captureUnidentified
      return { leftCard: returned ? ("returned" as const) : ("captured" as const), inspected: true }
    })

    /** Start-up: reset the card unit (holding a card left in it), settle that card, then what was in flight. */
    const startup = Effect.gen(function* () {
      const initialised = yield* Effect.either(unit.initialise("hold"))
      const left = Either.isRight(initialised) ? yield* settleLeftCard : { leftCard: "none" as const, inspected: false }
      const reconciled = yield* reconcileWith(left.inspected)
      return { initialised: Either.isRight(initialised), leftCard: left.leftCard, reconciled }
    }).pipe(traced("KioskFlow.startup"))

    /** Settles what is in flight while running (the unit not inspected: an issued card is retained). */
    const reconcile = reconcileWith(false)

    return {
      startup,
      reconcile,
      requestCode: backend.requestCode,
      verifyCode: backend.verifyCode,
      endSession: (session: KioskSession) => backend.endSession(session.sessionId),
      browse: backend.catalog,
      purchase,
      acceptReturn,
      reportState
    } as const
  })
}) {}
