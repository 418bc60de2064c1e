import { randomBytes } from "node:crypto"
import { constants } from "node:fs"
import { link, mkdir, open, readFile, unlink } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { type Payout, PayoutGateway, type PayoutGatewayService } from "../../core/ports/payout-gateway.js"
import { ServiceRejected, ServiceUnavailable } from "../../core/ports/service-errors.js"

/**
 * `PayoutGateway` for banks that take files: each payout becomes one CSV file in a directory the
 * bank's transfer software picks up (ECOUPON_PAYOUT_CSV_DIR). One file per payout reference, named
 * for it (`payout-<reference, unsafe characters as _>.csv`), so the export is idempotent by
 * reference: a resend finds the file with the same content and answers with the same payoutRef; a
 * reference already exported for a different payout is refused.
 *
 * A bank must never see a half-written file: the content goes to a hidden temporary file in the same
 * directory, is fsynced, then hard-linked to its final name (which, unlike rename, refuses to replace
 * a file that is already there, so two concurrent sends of one reference cannot both win with
 * different content), and the directory is fsynced so the name survives a crash.
 *
 * The file (RFC 4180, UTF-8, CRLF):
 *   reference,settlement_id,merchant_id,amount
 *   ecoupon stl_…,stl_…,mer_…,125000
 * `amount` is whole units of the deployment's currency (1 point = 1 unit). The merchant's bank account
 * is not ours to hold: the bank maps merchant_id to the account on its side.
 */

const service = "payout file export"
const header = "reference,settlement_id,merchant_id,amount"

const csvField = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replaceAll("\"", "\"\"")}"` : value)

export const payoutCsv = (payout: Payout): string =>
  `${header}\r\n${[payout.reference, payout.settlementId, payout.merchantId, String(payout.amount)].map(csvField).join(",")}\r\n`

export const payoutFileName = (reference: string): string => `payout-${reference.replace(/[^A-Za-z0-9_-]/g, "_")}.csv`

const errnoOf = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && typeof (cause as { code?: unknown }).code === "string" ? (cause as { code: string }).code : undefined

const fsyncPath = async (path: string, flags: number) => {
  const handle = await open(path, flags)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Writes `content` to `dir/name` unless a file of that name exists; returns the content found or written. */
const writeOnce = async (dir: string, name: string, content: string): Promise<string> => {
  const finalPath = join(dir, name)
  const existing = await readFile(finalPath, "utf8").catch((cause: unknown) => (errnoOf(cause) === "ENOENT" ? undefined : Promise.reject(cause)))
  if (existing !== undefined) return existing
  await mkdir(dir, { recursive: true })
  const tempPath = join(dir, `.${name}.${randomBytes(6).toString("hex")}.tmp`)
  const handle = await open(tempPath, "wx")
  try {
    await handle.writeFile(content, "utf8")
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await link(tempPath, finalPath)
  } catch (cause) {
    if (errnoOf(cause) !== "EEXIST") throw cause
    return await readFile(finalPath, "utf8")
  } finally {
    await unlink(tempPath)
  }
  await fsyncPath(dir, constants.O_RDONLY)
  return content
}

export const makeCsvPayout = (dir: string): PayoutGatewayService => ({
  pay: (payout) => {
    if (!Number.isSafeInteger(payout.amount) || payout.amount <= 0) {
      return Effect.fail(new ServiceRejected({ service, reason: `the amount must be a whole number above zero, got ${payout.amount}` }))
    }
    const name = payoutFileName(payout.reference)
    const content = payoutCsv(payout)
    return Effect.tryPromise({
      try: () => writeOnce(dir, name, content),
      // A full disk or a directory we may not write is the operator's to fix; the outbox retries meanwhile.
      catch: (cause) => new ServiceUnavailable({ service, detail: `cannot write ${join(dir, name)}: ${errnoOf(cause) ?? String(cause)}` })
    }).pipe(
      Effect.flatMap((found) =>
        found === content
          ? Effect.succeed({ payoutRef: `file:${name}` })
          : Effect.fail(new ServiceRejected({ service, reason: `reference ${payout.reference} was already exported in ${name} for a different payout` }))
      ),
      Effect.withSpan("CsvPayout.pay")
    )
  }
})

export const CsvPayoutLive = (dir: string): Layer.Layer<PayoutGateway> => Layer.succeed(PayoutGateway, makeCsvPayout(dir))
