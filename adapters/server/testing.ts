import { HttpServer } from "@effect/platform"
import { randomBytes } from "node:crypto"
import type { SqlClient } from "@effect/sql"
import { Clock, Context, Effect, Layer, Schema, type Scope } from "effect"
import { Catalog } from "../../core/catalog.js"
import { InstitutionId, KioskId, MerchantId, OfferId, OrderId, RegionId } from "../../core/domain/ids.js"
import { DeliverOrder } from "../../core/domain/order.js"
import { KioskBackend } from "../../core/ports/kiosk-backend.js"
import { KioskBackendHttp } from "../http-client/kiosk-backend-http.js"
import { Institutions } from "../../core/institutions.js"
import { Kiosks } from "../../core/kiosks.js"
import { Merchants } from "../../core/merchants.js"
import { Outbox } from "../../core/outbox.js"
import { Regions } from "../../core/regions.js"
import { type CoreServices, CoreServicesLive } from "../../core/services.js"
import type { OperatorRole } from "../http-api/security.js"
import { ApiKeys } from "./credentials/api-keys.js"
import { MasterKey, masterKeyOf } from "./credentials/master-key.js"
import { MerchantSecrets } from "./credentials/merchant-secrets.js"
import { HTTP_DEFAULTS, type HttpServerConfig, httpServerLive } from "./http-server.js"
import { defaultWorkerSettings, workersLive } from "./workers.js"
import type { OrderFlowPorts } from "../../core/orders-outbox.js"
import type { SmsGateway } from "../../core/ports/sms-gateway.js"

/**
 * A live management server for tests: the real HTTP stack on 127.0.0.1 (a port the OS chooses) over
 * the core services on the store the test gives, and a small deployment made through the core
 * services at the live clock (the server runs on real time, as in production).
 */

export const deployment = {
  institution: InstitutionId.make("ins_http"),
  region1: RegionId.make("reg_http1"),
  region2: RegionId.make("reg_http2"),
  kiosk1: KioskId.make("ksk_http1"),
  kiosk2: KioskId.make("ksk_http2"),
  merchant: MerchantId.make("mer_http1"),
  merchant2: MerchantId.make("mer_http2"),
  offer: OfferId.make("off_http1"),
  offerPricePoints: 1_000,
  offerStock: 1_000,
  stackerCards: 50
} as const

const DAY_MS = 86_400_000

/** Registers the deployment above through the core services (as an operator would). */
export const setUpDeployment = Effect.gen(function* () {
  const d = deployment
  yield* (yield* Institutions).register({ id: d.institution, name: "Food bank" })
  const regions = yield* Regions
  yield* regions.register({ id: d.region1, name: "North", institutionId: d.institution })
  yield* regions.register({ id: d.region2, name: "South", institutionId: d.institution })
  const kiosks = yield* Kiosks
  yield* kiosks.register({ id: d.kiosk1, regionId: d.region1, name: "North 1", binCapacity: 100 })
  yield* kiosks.register({ id: d.kiosk2, regionId: d.region2, name: "South 1", binCapacity: 100 })
  yield* kiosks.loadCards(d.kiosk1, d.stackerCards)
  yield* kiosks.loadCards(d.kiosk2, d.stackerCards)
  const merchants = yield* Merchants
  for (const [id, name] of [[d.merchant, "Cafe"], [d.merchant2, "Bakery"]] as const) {
    yield* merchants.register({ id, name })
    yield* merchants.approve(id)
  }
  const nowMs = yield* Clock.currentTimeMillis
  yield* (yield* Catalog).upsertOffer({
    offerId: d.offer,
    merchantId: d.merchant,
    title: "Americano",
    pricePoints: d.offerPricePoints,
    stock: d.offerStock,
    validFromMs: nowMs - DAY_MS,
    validUntilMs: nowMs + 30 * DAY_MS,
    couponValidityMs: 30 * DAY_MS,
    regions: [d.region1]
  })
}).pipe(Effect.orDie)

export interface LiveServer {
  readonly baseUrl: string
  /** The core services and the store the server runs on, for a test to look behind the API. */
  readonly context: Context.Context<CoreServices | SqlClient.SqlClient | ApiKeys | MerchantSecrets>
  readonly issue: (kind: "kiosk" | "merchant" | "operator", subject: string, role?: OperatorRole) => Effect.Effect<string>
}

/** Starts a server over `store` with the deployment registered; stopped when the scope closes. */
export const liveServer = (
  store: Layer.Layer<SqlClient.SqlClient>,
  config: Partial<HttpServerConfig> = {},
  /** With gateways, the outbox worker and the back office run too. */
  options: { readonly gateways?: Layer.Layer<SmsGateway | OrderFlowPorts> } = {}
): Effect.Effect<LiveServer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      Layer.mergeAll(
        httpServerLive({ host: "127.0.0.1", port: 0, storeDescription: "test store", ...HTTP_DEFAULTS, ...config }),
        ApiKeys.Default,
        MerchantSecrets.Default,
        options.gateways !== undefined ? workersLive({ ...defaultWorkerSettings, outboxIdleMs: 20 }).pipe(Layer.provide(options.gateways)) : Layer.empty
      ).pipe(Layer.provideMerge(CoreServicesLive), Layer.provideMerge(store), Layer.provideMerge(Layer.succeed(MasterKey, masterKeyOf(randomBytes(32)))))
    )
    yield* setUpDeployment.pipe(Effect.provide(context))
    const server = Context.get(context, HttpServer.HttpServer)
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    const keys = Context.get(context, ApiKeys)
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      context,
      issue: (kind, subject, role) => Effect.map(keys.issue(kind, subject, kind === "operator" ? (role ?? "admin") : null), (issued) => issued.credential)
    }
  })

/** The one-time code the SMS in the outbox carries (the test plays the phone). */
export const codeSentFor = (challengeId: string) =>
  Effect.gen(function* () {
    const message = yield* (yield* Outbox).findByKey(`sms:${challengeId}`)
    if (message._tag === "None") return yield* Effect.dieMessage(`no sms for ${challengeId}`)
    const payload = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({ to: Schema.String, text: Schema.String })))(message.value.payload)
    const code = /code (\d+)/.exec(payload.text)?.[1]
    if (code === undefined) return yield* Effect.dieMessage("no code in the sms")
    return code
  })

/** A kiosk's HTTP backend, alive for the scope. */
export const kioskBackendOver = (baseUrl: string, kioskKey: string) => Effect.map(Layer.build(KioskBackendHttp.layer({ baseUrl, kioskKey })), Context.get(KioskBackend))

/** A customer registered at kiosk 1 over HTTP buys the offer on paper: the coupon's code and value. */
export const couponBoughtOverHttp = (server: LiveServer, phone: string, orderName: string) =>
  Effect.gen(function* () {
    const backend = yield* kioskBackendOver(server.baseUrl, yield* server.issue("kiosk", deployment.kiosk1))
    const sent = yield* backend.requestCode(phone)
    const session = yield* backend.verifyCode(sent.challengeId, yield* codeSentFor(sent.challengeId).pipe(Effect.provide(server.context)))
    const catalog = yield* backend.catalog
    const orderId = OrderId.make(`ord_${orderName}`)
    yield* backend.place({ orderId, sessionId: session.sessionId, offerId: deployment.offer, quantity: 1, catalogVersion: catalog.version, medium: "paper" })
    return yield* backend.deliver(new DeliverOrder({ orderId, medium: { _tag: "paper" } }))
  }).pipe(Effect.orDie)
