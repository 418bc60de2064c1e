import { randomUUID } from "node:crypto"
import { DELIVERY_HEADER, SIGNATURE_HEADER, signatureOf, TIMESTAMP_HEADER } from "../../adapters/server/credentials/webhook-signature.js"

/**
 * The serve benchmark's deployment, made over HTTP as an operator makes one on a fresh server: with
 * the bootstrap admin token, an institution, a region, a merchant whose provider server is the bench
 * vendor (approved, with its secret), its offer pushed through the signed catalog webhook, and
 * `kiosks` kiosks each with its own key. Customers come later, one per kiosk (`serve-load.ts`).
 */
export const BENCH = {
  institution: "ins_bench",
  region: "reg_bench",
  merchant: "mer_bench",
  offer: "off_bench",
  pricePoints: 100,
  stock: 10_000_000,
  grantPoints: 1_000_000_000
} as const

const DAY_MS = 86_400_000

export interface Deployment {
  readonly kiosks: ReadonlyArray<{ readonly kioskId: string; readonly key: string }>
}

/** One operator call; anything but 2xx stops the benchmark with the server's problem document. */
export const operatorCall = async (baseUrl: string, token: string, method: string, path: string, body?: object): Promise<Record<string, unknown>> => {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 400)}`)
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>)
}

/** In batches of `width` at a time, in order. */
const inBatches = async <A, B>(items: ReadonlyArray<A>, width: number, use: (item: A, index: number) => Promise<B>): Promise<Array<B>> => {
  const results: Array<B> = []
  for (let start = 0; start < items.length; start += width) {
    results.push(...(await Promise.all(items.slice(start, start + width).map((item, i) => use(item, start + i)))))
  }
  return results
}

export const setUpDeployment = async (options: { readonly baseUrl: string; readonly adminToken: string; readonly vendorUrl: string; readonly kiosks: number }): Promise<Deployment> => {
  const ops = (method: string, path: string, body?: object) => operatorCall(options.baseUrl, options.adminToken, method, path, body)
  await ops("POST", "/v1/ops/institutions", { id: BENCH.institution, name: "Bench food bank" })
  await ops("POST", "/v1/ops/regions", { id: BENCH.region, name: "Bench region", institutionId: BENCH.institution })
  await ops("POST", "/v1/ops/merchants", { id: BENCH.merchant, name: "Bench cafe", providerUrl: `${options.vendorUrl}/provider` })
  await ops("POST", `/v1/ops/merchants/${BENCH.merchant}/approve`)
  const { secret } = (await ops("POST", `/v1/ops/merchants/${BENCH.merchant}/secret`)) as { readonly secret: string }

  // The merchant's provider server pushes its catalog, signed as adapters/http-api/providers-api.ts says.
  const nowMs = performance.timeOrigin + performance.now()
  const body = JSON.stringify({
    offers: [{ offerId: BENCH.offer, title: "Bench americano", pricePoints: BENCH.pricePoints, stock: BENCH.stock, validFromMs: Math.floor(nowMs - DAY_MS), validUntilMs: Math.floor(nowMs + 30 * DAY_MS), regions: [BENCH.region] }]
  })
  const timestamp = String(Math.floor(nowMs / 1000))
  const pushed = await fetch(`${options.baseUrl}/v1/providers/${BENCH.merchant}/catalog`, {
    method: "POST",
    headers: { "content-type": "application/json", [TIMESTAMP_HEADER]: timestamp, [DELIVERY_HEADER]: `dlv_${randomUUID()}`, [SIGNATURE_HEADER]: signatureOf(secret, timestamp, body) },
    body
  })
  if (!pushed.ok) throw new Error(`the catalog push answered ${pushed.status}: ${(await pushed.text()).slice(0, 400)}`)
  await pushed.text()

  const ids = Array.from({ length: options.kiosks }, (_, i) => `ksk_bench${String(i).padStart(3, "0")}`)
  const kiosks = await inBatches(ids, 16, async (kioskId, i) => {
    await ops("POST", "/v1/ops/kiosks", { id: kioskId, name: `Bench kiosk ${i}`, regionId: BENCH.region, binCapacity: 100 })
    const { credential } = (await ops("POST", `/v1/ops/kiosks/${kioskId}/keys`)) as { readonly credential: string }
    return { kioskId, key: credential }
  })
  return { kiosks }
}

/** Points for a registered customer, as an operator grants them. */
export const grantPoints = (baseUrl: string, adminToken: string, userId: string, transferId: string) =>
  operatorCall(baseUrl, adminToken, "POST", "/v1/ops/grants", { userId, points: BENCH.grantPoints, transferId })
