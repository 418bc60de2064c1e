import { createHash, randomBytes, timingSafeEqual } from "node:crypto"

/**
 * The shape of a credential the server hands out: `<prefix>_<keyId>.<secret>`.
 * - prefix: `ek` kiosk key, `em` merchant key, `eo` operator token (so a credential pasted in the
 *   wrong place is recognised, and a log scrubber can find one);
 * - keyId: 16 hex characters, public, the row's primary key for the look-up;
 * - secret: 32 random bytes, base64url. Only its SHA-256 is stored; it is compared in constant time.
 * Shown once when issued; a lost credential is rotated, never recovered.
 */
export const CredentialKind = { kiosk: "ek", merchant: "em", operator: "eo" } as const
export type CredentialKind = keyof typeof CredentialKind

const SECRET_BYTES = 32
const FORMAT = /^(ek|em|eo)_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/

export interface ParsedCredential {
  readonly kind: CredentialKind
  readonly keyId: string
  readonly secret: string
}

const kindOfPrefix = (prefix: string): CredentialKind => (prefix === "ek" ? "kiosk" : prefix === "em" ? "merchant" : "operator")

/** The parts of a credential, or undefined when it is not one this server makes. */
export const parseCredential = (text: string): ParsedCredential | undefined => {
  const match = FORMAT.exec(text)
  if (match === null) return undefined
  const [, prefix = "", keyId = "", secret = ""] = match
  return { kind: kindOfPrefix(prefix), keyId, secret }
}

export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

/** Whether `secret` hashes to `storedSha256Hex`, in time that does not depend on where they differ. */
export const secretMatches = (secret: string, storedSha256Hex: string): boolean => {
  const presented = Buffer.from(sha256Hex(secret), "hex")
  const stored = Buffer.from(storedSha256Hex, "hex")
  return presented.length === stored.length && timingSafeEqual(presented, stored)
}

export interface NewCredential {
  readonly keyId: string
  readonly secretSha256: string
  /** The whole credential, to show once. */
  readonly credential: string
}

export const newCredential = (kind: CredentialKind): NewCredential => {
  const keyId = randomBytes(8).toString("hex")
  const secret = randomBytes(SECRET_BYTES).toString("base64url")
  return { keyId, secretSha256: sha256Hex(secret), credential: `${CredentialKind[kind]}_${keyId}.${secret}` }
}
