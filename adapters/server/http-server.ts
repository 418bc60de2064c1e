import { HttpApiBuilder, HttpApiScalar, type HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { createServer, type Server } from "node:http"
import { Effect, Layer, LogLevel } from "effect"
import { type Drain, DRAIN_GRACE_MS, drainLayer, makeDrain } from "./drain.js"
import type { CoreServices } from "../../core/services.js"
import { EcouponApi } from "../http-api/api.js"
import { AuthLive } from "./auth.js"
import * as ChangeSignals from "./change-signals.js"
import { ApiKeys } from "./credentials/api-keys.js"
import { healthHttpLive } from "./health-http.js"
import { KioskBackends } from "./kiosk-backends.js"
import { KiosksHttpLive } from "./kiosks-http.js"
import { MerchantsHttpLive } from "./merchants-http.js"
import { OperatorsHttpLive } from "./operators-http.js"
import { CredentialsHttpLive } from "./credentials-http.js"
import { ProvidersHttpLive } from "./providers-http.js"
import { FleetHttpLive } from "./fleet-http.js"
import { dashboardLive, dashboardRouteNames } from "./dashboard-http.js"
import { MerchantSecrets } from "./credentials/merchant-secrets.js"
import type { MasterKey } from "./credentials/master-key.js"
import { MetricsHttpLive } from "./metrics-http.js"
import { DemoHttpLive } from "./demo-http.js"
import { ServerMetrics } from "./metrics/server-metrics.js"
import { makeRateLimiter, type RateLimitSettings } from "./rate-limit.js"
import { RequestObserver, requestPipeline } from "./request-pipeline.js"
import { routeNamer } from "./route-names.js"

/**
 * THE place where the management server's HTTP side is composed: the API's handlers, its security,
 * the request pipeline (request ids, limits, problem documents, observation), OpenAPI and the docs,
 * and the Node listener. Whatever else the server answers (an event stream, /metrics) or does around
 * each request (rate limits, access logs) is added here: a route beside the API with
 * `HttpApiBuilder.Router.use`, a wrapper around every request with `HttpApiBuilder.middleware`, an
 * observer of every answered request by providing `RequestObserver` (request-pipeline.ts).
 */

export interface HttpServerConfig {
  readonly host: string
  /** 0 lets the OS choose (tests). */
  readonly port: number
  readonly bodyLimitBytes: number
  readonly requestTimeoutMs: number
  /** Said by /readyz: which store the server runs on (no password). */
  readonly storeDescription: string
  /** Log one line per answered request at Info (serve) rather than Debug (tests). */
  readonly accessLog?: boolean
  /** Per-caller rate limits (rate-limit.ts); absent, none. */
  readonly rateLimit?: RateLimitSettings
}

export const HTTP_DEFAULTS = { bodyLimitBytes: 64 * 1024, requestTimeoutMs: 15_000 } as const

/** Routes beside the API, named for metrics and logs. */
const extraRoutes = { "/docs": "docs", "/openapi.json": "openapi", ...dashboardRouteNames } as const

/** The API's handlers with what they need of the server itself; the core services come from below. */
const apiLive = (config: HttpServerConfig) =>
  HttpApiBuilder.api(EcouponApi).pipe(
    Layer.provide([healthHttpLive(config.storeDescription), KiosksHttpLive, MerchantsHttpLive, ProvidersHttpLive, OperatorsHttpLive, CredentialsHttpLive, FleetHttpLive, MetricsHttpLive, DemoHttpLive]),
    Layer.provide(AuthLive),
    Layer.provide([KioskBackends.Default, ApiKeys.Default, MerchantSecrets.Default, ChangeSignals.layer()])
  )

/** Every answered request counted and timed in the server's metrics (served at /metrics). */
const metricsObserverLive = Layer.effect(RequestObserver, Effect.map(ServerMetrics, (metrics) => ({ observe: metrics.observe })))

/** Everything the server answers, without a listener: what tests and the serve command share. */
export const httpAppLive = (config: HttpServerConfig, drain?: Drain) =>
  Layer.mergeAll(
    HttpApiScalar.layer({ path: "/docs" }),
    HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" }),
    dashboardLive,
    HttpApiBuilder.middleware(
      requestPipeline({
        bodyLimitBytes: config.bodyLimitBytes,
        requestTimeoutMs: config.requestTimeoutMs,
        nameRoute: routeNamer(EcouponApi, extraRoutes),
        draining: () => drain?.draining === true,
        accessLogLevel: config.accessLog === true ? LogLevel.Info : LogLevel.Debug,
        ...(config.rateLimit === undefined ? {} : { rateLimiter: makeRateLimiter(config.rateLimit) })
      })
    ),
    metricsObserverLive
  ).pipe(Layer.provideMerge(apiLive(config)), Layer.provideMerge(ServerMetrics.Default))

/** The Node listener on host:port. Node's own timeouts bound a slow client before the API sees it. */
const nodeListener = (server: Server, config: HttpServerConfig) =>
  NodeHttpServer.layer(() => server, { host: config.host, port: config.port }).pipe(Layer.orDie)

/** The management server's HTTP side, listening, over the core services and the store. */
export const httpServerLive = (config: HttpServerConfig): Layer.Layer<HttpServer.HttpServer, never, CoreServices | SqlClient.SqlClient | MasterKey> =>
  Layer.unwrapEffect(
    Effect.sync(() => {
      const server = createServer({ requestTimeout: config.requestTimeoutMs, headersTimeout: Math.min(config.requestTimeoutMs, 10_000), keepAliveTimeout: 5_000 })
      const drain = makeDrain(server, DRAIN_GRACE_MS)
      // Built last, so released first: the drain finishes before the handler is taken off the server.
      return drainLayer(drain).pipe(
        Layer.provideMerge(HttpApiBuilder.serve()),
        Layer.provide(httpAppLive(config, drain)),
        Layer.provideMerge(nodeListener(server, config))
      )
    })
  )
