import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"

/**
 * How the server and a merchant's provider server sign what they send each other, both ways (the
 * catalog webhook in, order submissions out): HMAC-SHA256 with the merchant's secret over
 * `<timestamp>.<body>`, where the timestamp is Unix seconds, sent as
 *   X-Ecoupon-Timestamp: <seconds>
 *   X-Ecoupon-Delivery: <a unique id per delivery; a retry of the same delivery keeps it>
 *   X-Ecoupon-Signature: v1=<hex>
 * The receiver refuses a timestamp more than five minutes from its clock, and a delivery id it has
 * seen before.
 */
export const SIGNATURE_HEADER = "x-ecoupon-signature"
export const TIMESTAMP_HEADER = "x-ecoupon-timestamp"
export const DELIVERY_HEADER = "x-ecoupon-delivery"
export const SIGNATURE_WINDOW_MS = 5 * 60_000
export const DELIVERY_ID_FORMAT = /^[A-Za-z0-9._:-]{8,128}$/

export const signatureOf = (secret: string, timestampSeconds: string, body: string): string =>
  `v1=${createHmac("sha256", secret).update(`${timestampSeconds}.${body}`, "utf8").digest("hex")}`

/** Whether `presented` is the signature of `body` at `timestampSeconds`, compared in constant time. */
export const signatureMatches = (secret: string, timestampSeconds: string, body: string, presented: string): boolean => {
  const expected = Buffer.from(signatureOf(secret, timestampSeconds, body), "utf8")
  const given = Buffer.from(presented, "utf8")
  return expected.length === given.length && timingSafeEqual(expected, given)
}

/** A new merchant secret: 32 random bytes, base64url (shown once to the operator, kept sealed). */
export const newMerchantSecret = (): string => `whsec_${randomBytes(32).toString("base64url")}`
