import { Schema } from "effect"
import type { CatalogOffer } from "../../core/ports/kiosk-backend.js"
import { Medium } from "../../core/domain/order.js"

/**
 * What the touchscreen shows, as the agent pushes it to the page (server-sent events), and what the
 * page may send back (the customer's choices). The agent owns the journey; the page renders this
 * view and keeps only what a keypad holds before "next" (the digits typed, the language).
 *
 * Texts are not here: the page words every screen and every `Notice` in Korean and English, so a
 * notice carries a key (a refusal reason, a hardware error tag) and the few values the words need.
 */

export type Screen =
  | "welcome"
  | "phone"
  | "code"
  | "offers"
  | "order"
  | "confirm"
  | "dispensing"
  | "receipt"
  | "return-insert"
  | "return-result"
  | "out-of-service"

/**
 * Something the customer should read: a refusal of the server (`RefusalReason`), a device fault (the
 * hardware error's tag), the server being unreachable, or a plain message of the journey.
 */
export type Notice =
  | { readonly kind: "refusal"; readonly reason: string }
  | { readonly kind: "device"; readonly error: string }
  | { readonly kind: "unavailable" }
  | { readonly kind: "info"; readonly key: "catalog-updated" | "session-ended" | "card-not-taken" | "no-card-inserted" }

/** Where the order is, from the journal's stages and the card unit's moves. */
export type Progress = "placing" | "dispensing" | "writing" | "take-card" | "printing" | "finishing" | "cancelling"

export type Receipt =
  | {
      readonly kind: "delivered"
      readonly couponCode: string
      readonly title: string
      readonly quantity: number
      readonly valuePoints: number
      readonly medium: Medium
      readonly balancePoints: number
      readonly cardDeadlineMs: number | null
      readonly expiresAtMs: number
    }
  /** The customer has the coupon; the server will be told when it is back (the journal keeps it). */
  | { readonly kind: "pending"; readonly title: string; readonly medium: Medium }
  | { readonly kind: "not-taken" }
  | { readonly kind: "failed"; readonly error: string; readonly pointsKept: boolean }

export type ReturnResult =
  | { readonly kind: "returned"; readonly forwardedPoints: number; readonly chargedBefore: boolean }
  | { readonly kind: "rejected"; readonly reason: "unknown-card" | "card-unreadable" | "unavailable" | "card-conflict" }
  | { readonly kind: "bin-full" }
  | { readonly kind: "failed"; readonly error: string }

export interface KioskView {
  /** Bumped on every change, so the page (and a test) can tell one push from the next. */
  readonly seq: number
  readonly screen: Screen
  /** An answer is awaited (the page dims its buttons and shows a spinner). */
  readonly busy: boolean
  readonly notice: Notice | null
  readonly codePurpose: "register" | "identify" | null
  /** The number as typed, masked but for its last four digits (never the whole number). */
  readonly phoneHint: string | null
  readonly balancePoints: number | null
  readonly newlyRegistered: boolean
  readonly catalogVersion: number
  readonly offers: ReadonlyArray<CatalogOffer>
  readonly selection: { readonly offerId: string; readonly quantity: number; readonly medium: Medium } | null
  readonly progress: Progress | null
  readonly receipt: Receipt | null
  readonly returnResult: ReturnResult | null
  readonly idleTimeoutMs: number
  /** The kiosk runs on simulated hardware: the page shows the simulator's hands (take, insert). */
  readonly simulatedHardware: boolean
}

export const QUANTITY_ON_SCREEN_MAX = 10

/** What the page may ask; everything else is refused as a bad request. */
export const KioskAction = Schema.Union(
  Schema.TaggedStruct("start", {}),
  Schema.TaggedStruct("return", {}),
  Schema.TaggedStruct("phone", { digits: Schema.String.pipe(Schema.pattern(/^\+?[0-9]{6,15}$/)) }),
  Schema.TaggedStruct("code", { code: Schema.String.pipe(Schema.pattern(/^[0-9]{4,8}$/)) }),
  Schema.TaggedStruct("resend", {}),
  Schema.TaggedStruct("offer", { offerId: Schema.String.pipe(Schema.maxLength(100)) }),
  Schema.TaggedStruct("order", { quantity: Schema.Int.pipe(Schema.between(1, QUANTITY_ON_SCREEN_MAX)), medium: Medium }),
  Schema.TaggedStruct("confirm", {}),
  Schema.TaggedStruct("back", {}),
  Schema.TaggedStruct("more", {}),
  Schema.TaggedStruct("finish", {}),
  /** A tap that changes nothing the agent holds (a keypad digit): it keeps the session from idling out. */
  Schema.TaggedStruct("touch", {})
)
export type KioskAction = typeof KioskAction.Type

/** `01012345678` as typed on a Korean kiosk, or `+8210…`, as E.164 (the server checks the rest). */
export const toE164 = (digits: string, countryCode: string): string =>
  digits.startsWith("+") ? digits : digits.startsWith("0") ? `+${countryCode}${digits.slice(1)}` : `+${countryCode}${digits}`

/** `…5678`: enough for the customer to recognise their number, not enough to be one. */
export const phoneHintOf = (digits: string): string => `•••• ${digits.slice(-4)}`
