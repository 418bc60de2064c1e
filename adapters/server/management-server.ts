import { HttpServer } from "@effect/platform"
import { Console, Effect, Layer, Option } from "effect"
import { CoreServicesLive } from "../../core/services.js"
import { runMigrations } from "../store/migrate.js"
import { describeStoreTarget, storeLayer, type StoreTarget } from "../store/store-target.js"
import { bootstrapAdminToken } from "./bootstrap-token.js"
import { ApiKeys } from "./credentials/api-keys.js"
import { masterKeyLayer } from "./credentials/master-key.js"
import { HTTP_DEFAULTS, httpServerLive } from "./http-server.js"
import { RATE_LIMIT_DEFAULTS, type RateLimitSettings } from "./rate-limit.js"
import { type WorkerSettings, workersLive } from "./workers.js"
import type { OrderFlowPorts } from "../../core/orders-outbox.js"
import type { SmsGateway } from "../../core/ports/sms-gateway.js"
import type { ProviderEndpoints } from "../gateways/provider-endpoints.js"
import { ProviderEndpointsLive } from "./provider-endpoints-live.js"

/**
 * `ecoupon serve`: the store (created and migrated on first start), the core services, the HTTP
 * server, and the work that runs by itself. Stops on interruption (SIGINT/SIGTERM through
 * `NodeRuntime.runMain`): the listener stops accepting and in-flight requests finish, the workers
 * stop, then the store flushes its journal and closes.
 */

export interface ManagementServerConfig {
  readonly target: StoreTarget
  readonly host: string
  readonly port: number
  readonly bodyLimitBytes?: number
  readonly requestTimeoutMs?: number
  /** Per-caller rate limits; absent, RATE_LIMIT_DEFAULTS. */
  readonly rateLimit?: RateLimitSettings
  /**
   * Where SMS, carrier charges, provider orders and payouts go. Provider servers are per merchant:
   * the server provides `ProviderEndpoints` from its store (provider-endpoints-live.ts).
   */
  readonly gateways: Layer.Layer<SmsGateway | OrderFlowPorts, { readonly message: string }, ProviderEndpoints>
  readonly workers?: WorkerSettings
}

/** The store, migrated before anything else uses it. */
const migratedStore = (target: StoreTarget) =>
  Layer.effectDiscard(runMigrations()).pipe(Layer.provideMerge(storeLayer(target)))

export const managementServerLive = (config: ManagementServerConfig) => {
  const storeDescription = describeStoreTarget(config.target)
  // The workers (and the gateways they send through) are built before the listener opens: a gateway
  // setting that is missing stops the server before it takes a request, and leaves no listener open.
  // Merged, not only provided: the HTTP side sees what the gateways offer beside their ports (the demo
  // gateways' controls, `/v1/demo`).
  const workers = workersLive(config.workers).pipe(Layer.provideMerge(config.gateways.pipe(Layer.provide(ProviderEndpointsLive))))
  return httpServerLive({
    host: config.host,
    port: config.port,
    bodyLimitBytes: config.bodyLimitBytes ?? HTTP_DEFAULTS.bodyLimitBytes,
    requestTimeoutMs: config.requestTimeoutMs ?? HTTP_DEFAULTS.requestTimeoutMs,
    storeDescription,
    accessLog: true,
    rateLimit: config.rateLimit ?? RATE_LIMIT_DEFAULTS
  }).pipe(Layer.provideMerge(workers)).pipe(
    Layer.provideMerge(CoreServicesLive),
    Layer.provideMerge(migratedStore(config.target)),
    Layer.provideMerge(
      masterKeyLayer({ environment: process.env["ECOUPON_MASTER_KEY"], directory: config.target._tag === "Embedded" ? config.target.directory : undefined })
    )
  )
}

/** Runs the server until interrupted; prints where it listens (and, once, a bootstrap admin token). */
export const serve = (config: ManagementServerConfig) =>
  Effect.gen(function* () {
    const token = yield* bootstrapAdminToken.pipe(Effect.provide(ApiKeys.Default))
    if (Option.isSome(token)) {
      yield* Console.log(
        `This store had no admin token; here is one, shown this once (keep it, then revoke it when you have made your own):\n  ${token.value}`
      )
    }
    const server = yield* HttpServer.HttpServer
    const address = server.address._tag === "TcpAddress" ? `http://${server.address.hostname}:${server.address.port}` : server.address.path
    yield* Console.log(`ecoupon serve: ${describeStoreTarget(config.target)}; listening on ${address} (docs at ${address}/docs); Ctrl-C stops`)
    return yield* Effect.never
  }).pipe(Effect.provide(managementServerLive(config)))
