import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { chmod, mkdir, open, readFile } from "node:fs/promises"
import { join } from "node:path"
import { Context, Effect, Layer, Schema } from "effect"

/**
 * The server's master key: AES-256-GCM over secrets that must be recovered (merchants' HMAC
 * secrets). From ECOUPON_MASTER_KEY (64 hex characters), else the file `master.key` in the embedded
 * store's directory, created on first start with mode 0600. On PostgreSQL there is no directory of
 * the server's own, and every server sharing the database needs the same key: ECOUPON_MASTER_KEY is
 * required there. Losing the key loses the merchants' secrets (rotate them all); it is never logged.
 */

export class MasterKeyError extends Schema.TaggedError<MasterKeyError>()("MasterKeyError", { message: Schema.String }) {}

export interface MasterKeyService {
  /** Seals `plaintext`, bound to `context` (e.g. the merchant's id): it opens only with the same context. */
  readonly seal: (plaintext: string, context: string) => string
  readonly open: (sealed: string, context: string) => string
}

export class MasterKey extends Context.Tag("ecoupon/server/MasterKey")<MasterKey, MasterKeyService>() {}

export const MASTER_KEY_FILE = "master.key"
const KEY_HEX = /^[0-9a-fA-F]{64}$/
const SEALED_PREFIX = "v1:"

export const masterKeyOf = (key: Buffer): MasterKeyService => ({
  seal: (plaintext, context) => {
    const iv = randomBytes(12)
    const cipher = createCipheriv("aes-256-gcm", key, iv)
    cipher.setAAD(Buffer.from(context, "utf8"))
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")
  },
  open: (sealed, context) => {
    if (!sealed.startsWith(SEALED_PREFIX)) throw new Error("not a sealed secret of this server")
    const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), "base64")
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12))
    decipher.setAAD(Buffer.from(context, "utf8"))
    decipher.setAuthTag(bytes.subarray(12, 28))
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8")
  }
})

/** The key file in `directory`, created (0600, fsynced) when absent. */
const fromFile = (directory: string) =>
  Effect.tryPromise({
    try: async () => {
      const path = join(directory, MASTER_KEY_FILE)
      await mkdir(directory, { recursive: true })
      try {
        const handle = await open(path, "wx", 0o600)
        try {
          await handle.writeFile(`${randomBytes(32).toString("hex")}\n`)
          await handle.sync()
        } finally {
          await handle.close()
        }
        await chmod(path, 0o600)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      }
      const text = (await readFile(path, "utf8")).trim()
      if (!KEY_HEX.test(text)) throw new Error(`${path} does not hold a key (64 hex characters); restore it from your backup`)
      return Buffer.from(text, "hex")
    },
    catch: (cause) => new MasterKeyError({ message: `master key: ${cause instanceof Error ? cause.message : String(cause)}` })
  })

/** The master key from the environment, else (embedded store) from its file in `directory`. */
export const masterKeyLayer = (options: { readonly environment?: string | undefined; readonly directory?: string | undefined }): Layer.Layer<MasterKey, MasterKeyError> =>
  Layer.effect(
    MasterKey,
    Effect.gen(function* () {
      const fromEnvironment = options.environment?.trim()
      if (fromEnvironment !== undefined && fromEnvironment !== "") {
        if (!KEY_HEX.test(fromEnvironment)) return yield* new MasterKeyError({ message: "ECOUPON_MASTER_KEY must be 64 hex characters (32 bytes); make one with: openssl rand -hex 32" })
        return masterKeyOf(Buffer.from(fromEnvironment, "hex"))
      }
      if (options.directory === undefined) {
        return yield* new MasterKeyError({ message: "set ECOUPON_MASTER_KEY (64 hex characters, the same on every server of this database; make one with: openssl rand -hex 32)" })
      }
      return masterKeyOf(yield* fromFile(options.directory))
    })
  )
