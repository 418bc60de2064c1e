import { Context, type Effect, type Option, Schema } from "effect"
import type { CardUid, MerchantId, OfferId, OrderId, UserId } from "../domain/ids.js"
import type { Abortion, AbortOrder, Delivery, DeliverOrder, Medium, Order, Placement } from "../domain/order.js"
import type { CardReturn } from "../domain/card.js"

/**
 * What a kiosk asks of the management server (DESIGN §3). The simulator's layer calls the core
 * services in-process; the production kiosk agent's layer is the HTTP API client. The kiosk flow sees
 * only this, so the customer journey is the same code in both.
 */

/** One offer as a kiosk shows it. */
export interface CatalogOffer {
  readonly offerId: OfferId
  readonly merchantId: MerchantId
  readonly title: string
  readonly pricePoints: number
  readonly stock: number
  readonly validUntilMs: number
}

export interface CatalogView {
  readonly version: number
  readonly offers: ReadonlyArray<CatalogOffer>
}

/** A one-time code was sent; `purpose` says whether the phone was unknown (register) or known. */
export interface CodeSent {
  readonly challengeId: string
  readonly purpose: "register" | "identify"
}

export interface KioskSession {
  readonly sessionId: string
  readonly userId: UserId
  readonly balancePoints: number
  /** True when this verification registered the user (and granted the welcome points). */
  readonly newlyRegistered: boolean
}

/** The order as the kiosk asks for it: the kiosk makes the order id before it asks. */
export interface OrderRequest {
  readonly orderId: OrderId
  readonly sessionId: string
  readonly offerId: OfferId
  readonly quantity: number
  readonly catalogVersion: number
  readonly medium: Medium
}

/**
 * The kiosk's reported state (twin), as the kiosk sends it. A schema, so the HTTP API carries the same
 * shape the in-process layer takes.
 */
export const ReportedState = Schema.Struct({
  /** "ok", "bin-full", or the card unit's error tag (Jam, NotInitialised, Offline…). */
  deviceStatus: Schema.String,
  /** What the stacker's sensors say. */
  stackerLevel: Schema.Literal("empty", "low", "ok"),
  /** Blank cards in the stacker where the unit counts them (the sim unit); null where it only senses a level (a CRT-591). */
  stackerCount: Schema.NullOr(Schema.Int),
  /** The unit's capture-bin counter; -1 when the unit could not be asked. */
  binCount: Schema.Int,
  /**
   * Cards this agent captured since it started without the server recording them: no UID could be read
   * (an RF failure), or the server did not know the card. The server's stacker and bin counts drift
   * from the unit's by these.
   */
  unidentifiedCaptures: Schema.Int,
  printerStatus: Schema.String,
  softwareVersion: Schema.String,
  /**
   * What the kiosk has put into effect of the desired state: the version it follows and whether it
   * is selling (false once it shows "out of service"; a customer still at a kiosk just disabled keeps
   * it true until they are done). Absent (the simulator's kiosks), the server takes its own last
   * answer as applied.
   */
  applied: Schema.optional(Schema.Struct({ desiredVersion: Schema.Int, enabled: Schema.Boolean }))
})
export type ReportedState = typeof ReportedState.Type
export type AppliedDesired = NonNullable<ReportedState["applied"]>

/** What operators want the kiosk to be: it answers every report. */
export interface DesiredState {
  readonly version: number
  readonly enabled: boolean
  readonly catalogVersion: number
}

/**
 * Why the server said no, in the words the kiosk flow acts on. Each layer maps its own failures
 * (domain errors in-process, HTTP problem documents over the wire) onto these.
 */
export const RefusalReason = Schema.Literal(
  "invalid-phone",
  "wrong-code",
  "code-expired",
  "code-locked",
  "session-invalid",
  "catalog-changed",
  "offer-unavailable",
  "out-of-stock",
  "insufficient-points",
  "kiosk-disabled",
  "unknown-card",
  "card-conflict",
  "order-conflict",
  "invalid-request"
)
export type RefusalReason = typeof RefusalReason.Type

export class BackendRefused extends Schema.TaggedError<BackendRefused>()("BackendRefused", {
  reason: RefusalReason,
  detail: Schema.String,
  /** With catalog-changed: the region's catalog version now. */
  currentCatalogVersion: Schema.optional(Schema.Int)
}) {
  override get message() {
    return `the server refused (${this.reason}): ${this.detail}`
  }
}

/** The server could not be reached or failed; the kiosk retries or reconciles later. */
export class BackendUnavailable extends Schema.TaggedError<BackendUnavailable>()("BackendUnavailable", {
  detail: Schema.String
}) {
  override get message() {
    return `the management server is unavailable (${this.detail}); in-flight orders are kept and reconciled when it is back`
  }
}

export type BackendError = BackendRefused | BackendUnavailable

export interface KioskBackendService {
  /** Sends a one-time code to the phone: a registration code if the number is new. */
  readonly requestCode: (phone: string) => Effect.Effect<CodeSent, BackendError>
  /** Checks the code; registers the user first when the challenge was a registration. */
  readonly verifyCode: (challengeId: string, code: string) => Effect.Effect<KioskSession, BackendError>
  readonly endSession: (sessionId: string) => Effect.Effect<void, BackendError>
  readonly catalog: Effect.Effect<CatalogView, BackendError>
  readonly place: (request: OrderRequest) => Effect.Effect<Placement, BackendError>
  /** Records the card the kiosk took from its stacker for an order, before it is written. */
  readonly beginDispense: (orderId: OrderId, cardUid: CardUid) => Effect.Effect<void, BackendError>
  readonly deliver: (request: DeliverOrder) => Effect.Effect<Delivery, BackendError>
  readonly abort: (request: AbortOrder) => Effect.Effect<Abortion, BackendError>
  /** The order as the server has it, for reconciling after a restart. */
  readonly order: (orderId: OrderId) => Effect.Effect<Option.Option<Order>, BackendError>
  /** A card inserted at this kiosk: captured if the server knows it, refused (`unknown-card`) if not. */
  readonly returnCard: (cardUid: CardUid) => Effect.Effect<CardReturn, BackendError>
  readonly reportState: (reported: ReportedState) => Effect.Effect<DesiredState, BackendError>
}

export class KioskBackend extends Context.Tag("ecoupon/KioskBackend")<KioskBackend, KioskBackendService>() {}
