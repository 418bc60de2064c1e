import { Schema } from "effect"

/**
 * Branded identifiers. Every id is a plain string on the wire and in the database; the brand keeps a
 * `MerchantId` from being passed where a `KioskId` is expected. Patterns are deliberately loose for
 * ids the system makes itself (a prefix and a body) and strict for ids that come from outside
 * (phone numbers, card UIDs), where bad input must be refused at the edge.
 */
const id = <B extends string>(brand: B, prefix: string) =>
  Schema.String.pipe(
    Schema.pattern(new RegExp(`^${prefix}_[A-Za-z0-9_-]{1,64}$`), {
      message: () => `expected a ${brand} like "${prefix}_abc123"`
    }),
    Schema.brand(brand)
  )

export const UserId = id("UserId", "usr")
export type UserId = typeof UserId.Type

export const MerchantId = id("MerchantId", "mer")
export type MerchantId = typeof MerchantId.Type

export const OfferId = id("OfferId", "off")
export type OfferId = typeof OfferId.Type

export const RegionId = id("RegionId", "reg")
export type RegionId = typeof RegionId.Type

export const KioskId = id("KioskId", "ksk")
export type KioskId = typeof KioskId.Type

/** Made by the kiosk before it asks for anything: the idempotency key of the whole order. */
export const OrderId = id("OrderId", "ord")
export type OrderId = typeof OrderId.Type

export const CouponId = id("CouponId", "cpn")
export type CouponId = typeof CouponId.Type

export const TransferId = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(128),
  Schema.brand("TransferId")
)
export type TransferId = typeof TransferId.Type

export const SettlementId = id("SettlementId", "stl")
export type SettlementId = typeof SettlementId.Type

export const InstitutionId = id("InstitutionId", "ins")
export type InstitutionId = typeof InstitutionId.Type

/** A merchant's own id for one redemption call: replaying it returns the first result. */
export const RedemptionId = id("RedemptionId", "rdm")
export type RedemptionId = typeof RedemptionId.Type

/**
 * The code printed on paper and written on the card: 12 characters of Crockford base32 in groups of
 * four, no I, L, O or U, so that a person can read it aloud.
 */
export const CouponCode = Schema.String.pipe(
  Schema.pattern(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/, {
    message: () => "expected a coupon code like 7K3M-Q9RT-2XWB (Crockford base32, three groups of four)"
  }),
  Schema.brand("CouponCode")
)
export type CouponCode = typeof CouponCode.Type

/** E.164: a plus, a country code that does not start with 0, and at most 15 digits in all. */
export const PhoneNumber = Schema.String.pipe(
  Schema.pattern(/^\+[1-9][0-9]{7,14}$/, {
    message: () => "expected a mobile number in E.164 form, like +821012345678 (a plus, country code, number, no spaces)"
  }),
  Schema.brand("PhoneNumber")
)
export type PhoneNumber = typeof PhoneNumber.Type

/** A card's RF UID: 4, 7 or 10 bytes as upper-case hex. */
export const CardUid = Schema.String.pipe(
  Schema.pattern(/^(?:[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/, {
    message: () => "expected a card UID of 4, 7 or 10 bytes in upper-case hex, like 04A1B2C3"
  }),
  Schema.brand("CardUid")
)
export type CardUid = typeof CardUid.Type

/** Masks a phone number for logs and reports (DESIGN §5, invariant 10): +8210****5678. */
export const maskPhone = (phone: string): string =>
  phone.length <= 8 ? "****" : `${phone.slice(0, 5)}${"*".repeat(phone.length - 9)}${phone.slice(-4)}`
