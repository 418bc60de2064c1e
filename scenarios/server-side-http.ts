import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Option, type Scope } from "effect"
import type { OrderId } from "../core/domain/ids.js"
import { Account } from "../core/domain/ledger.js"
import type { KioskBackendService } from "../core/ports/kiosk-backend.js"
import { EcouponApi } from "../adapters/http-api/api.js"
import { deployment, type DeploymentNames } from "./deployment.js"
import { codePattern, type ServerSide, SMS_WAIT_MS } from "./server-side.js"

/**
 * The server side of a server the runner did not start (`--server URL`), over its public API only:
 * - the phone: the demo SMS gateway's inbox (`POST /v1/demo/sms/inbox`), polled until the code comes;
 * - the provider servers: the demo ones (`PUT /v1/demo/providers/:merchantId/catalog`, and
 *   `GET /v1/demo/provider-orders/:orderId` to see an order arrived);
 * - the sheet: ledger balances (`POST /v1/ops/balances`), the kiosks' card counts (`GET /v1/ops/kiosks`),
 *   the offers' stock (`GET /v1/ops/regions/:regionId/catalog`);
 * - the server's own work (the outbox worker, the back office) runs on its own timers there: an outbox
 *   round is the server's business, and the back office's sweeps, the clock and the demo gateways'
 *   faults are not the runner's to move on a server others share. Scenarios that need them are
 *   skipped on this layer (layer-http-remote.ts), so reaching one of those here is a runner bug.
 */

/** How often the runner looks at the phone, or at the provider servers, while it waits. */
const POLL_MS = 100
/** How long the end checks wait for the server's outbox worker to bring every delivered order to its provider. */
export const PROVIDER_WAIT_MS = 15_000

export interface RemoteParts {
  readonly baseUrl: string
  readonly token: string
  readonly names: DeploymentNames
  /** Each kiosk's backend over HTTP, with its own key. */
  readonly backends: ReadonlyArray<KioskBackendService>
}

const notHere = (what: string) => Effect.dieMessage(`${what} is not done against a server the runner did not start; the scenario should have been skipped`)

export const remoteServerSide = (parts: RemoteParts): Effect.Effect<ServerSide, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function* () {
    const api = yield* HttpApiClient.make(EcouponApi, { baseUrl: parts.baseUrl, transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(parts.token)) })
    const answered = <A, E>(what: string, effect: Effect.Effect<A, E>): Effect.Effect<A> =>
      Effect.catchAll(effect, (error) => Effect.dieMessage(`${what}: the server answered ${typeof error === "object" && error !== null && "detail" in error ? `${String((error as { readonly status?: unknown }).status)} ${String(error.detail)}` : String(error)}`))
    /** The newest message each phone has shown the runner (server time): a code is a message newer than that. */
    const seen = new Map<string, number>()
    const orderAtProvider = (orderId: OrderId) =>
      api.demo.providerOrder({ path: { orderId } }).pipe(
        Effect.as(true),
        Effect.catchIf((error) => typeof error === "object" && error !== null && "type" in error && String(error.type).endsWith(":order-not-at-provider"), () => Effect.succeed(false)),
        (effect) => answered("ask the demo provider servers for an order", effect)
      )
    const missingAtProvider = (orders: ReadonlyArray<OrderId>) =>
      Effect.filter(orders, (orderId) => Effect.map(orderAtProvider(orderId), (at) => !at))
    const waitForProviders = (orders: ReadonlyArray<OrderId>) =>
      Effect.gen(function* () {
        const deadline = Date.now() + PROVIDER_WAIT_MS
        let missing = yield* missingAtProvider(orders)
        while (missing.length > 0 && Date.now() < deadline) {
          yield* Effect.sleep(Duration.millis(POLL_MS * 5))
          missing = yield* missingAtProvider(missing)
        }
        return missing
      })
    const side: ServerSide = {
      sendOutbox: Effect.void,
      codeFor: (phone) =>
        Effect.gen(function* () {
          const deadline = Date.now() + SMS_WAIT_MS
          const after = seen.get(phone) ?? 0
          for (;;) {
            const inbox = yield* answered("read the demo phone's inbox", api.demo.inbox({ payload: { phone: phone as never } }))
            const fresh = inbox.messages.filter((message) => message.sentAtMs > after).at(-1)
            if (fresh !== undefined) {
              seen.set(phone, fresh.sentAtMs)
              return codePattern.exec(fresh.text)?.[1]
            }
            if (Date.now() >= deadline) return undefined
            yield* Effect.sleep(Duration.millis(POLL_MS))
          }
        }),
      sweep: notHere("running the back office's sweeps"),
      couponOfOrder: (orderId, kiosk) =>
        Effect.gen(function* () {
          const backend = parts.backends[kiosk] ?? parts.backends[0]
          if (backend === undefined) return yield* Effect.dieMessage("no kiosk backend")
          const order = yield* answered(`look up order ${orderId}`, backend.order(orderId))
          return Option.match(order, { onNone: () => undefined, onSome: (found) => ({ id: found.couponId, code: found.couponCode, cardUid: undefined }) })
        }),
      sheet: (registry) =>
        Effect.gen(function* () {
          const { names } = parts
          const accounts = [
            ...registry.users.flatMap((userId) => (userId === undefined ? [] : [Account.user(userId)])),
            ...registry.coupons.map((coupon) => Account.coupon(coupon.id)),
            ...names.merchants.flatMap((merchant) => [Account.merchantPayable(merchant), Account.merchantPaid(merchant)]),
            ...names.institutions.map((institution) => Account.institution(institution))
          ]
          const balances = yield* answered("read the balances", api.operators.balances({ payload: { accounts } }))
          const of = new Map(balances.map((balance) => [balance.account, balance]))
          const sheet: Record<string, number> = {}
          registry.users.forEach((userId, i) => {
            if (userId !== undefined) sheet[`points of customer ${i}`] = of.get(Account.user(userId))?.available ?? 0
          })
          registry.coupons.forEach((coupon, i) => {
            sheet[`left on coupon #${i}`] = of.get(Account.coupon(coupon.id))?.posted ?? 0
          })
          names.merchants.forEach((merchant, m) => {
            const named = deployment.merchants[m] ?? merchant
            sheet[`payable ${named}`] = of.get(Account.merchantPayable(merchant))?.posted ?? 0
            sheet[`paid ${named}`] = of.get(Account.merchantPaid(merchant))?.posted ?? 0
          })
          names.institutions.forEach((institution, i) => {
            sheet[`institution ${deployment.institutions[i] ?? institution}`] = of.get(Account.institution(institution))?.posted ?? 0
          })
          const regionId = names.regions[0]
          if (regionId === undefined) return yield* Effect.dieMessage("no region")
          const catalog = yield* answered("read the region's catalog", api.operators.regionCatalog({ path: { regionId } }))
          names.offers.forEach((offerId, o) => {
            sheet[`stock ${deployment.offers[o]?.id ?? offerId}`] = catalog.offers.find((offer) => offer.id === offerId)?.stock ?? 0
          })
          const kiosks = yield* answered("list the kiosks", api.operators.kiosks())
          names.kiosks.forEach((kioskId, k) => {
            const row = kiosks.find((kiosk) => kiosk.id === kioskId)
            const named = deployment.kiosks[k] ?? kioskId
            sheet[`stacker ${named}`] = row?.stackerCards ?? 0
            sheet[`bin ${named}`] = row?.binCards ?? 0
          })
          return sheet
        }),
      setFault: (fault, on) => (on ? notHere(`switching the demo gateways' ${fault} on`) : Effect.void),
      setProviderCatalog: (merchantId, offers) =>
        answered(`give ${merchantId}'s demo provider server its catalog`, api.demo.setProviderCatalog({ path: { merchantId }, payload: { offers } })),
      drain: (registry) => Effect.map(waitForProviders(registry.orders), (missing) => missing.length === 0),
      endObservations: (registry) => Effect.map(missingAtProvider(registry.orders), (missing) => ({ ordersNotAtProvider: missing, depositsPoints: undefined }))
    }
    return side
  })
