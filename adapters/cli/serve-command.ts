import { Command, Options } from "@effect/cli"
import { integerOption } from "./option-values.js"
import { Config, Console, Effect, Logger, LogLevel, Option } from "effect"
import { HTTP_DEFAULTS } from "../server/http-server.js"
import { RATE_LIMIT_DEFAULTS } from "../server/rate-limit.js"
import { jsonLogger } from "../server/json-logger.js"
import { gatewaysLayer } from "./gateways-layer.js"
import { serve } from "../server/management-server.js"
import type { StoreError } from "../store/store-error.js"
import { databaseOption, storeTargetOf } from "./db-options.js"

const host = Options.text("host").pipe(
  Options.withDescription("the address to listen on (default: $ECOUPON_HOST, else 127.0.0.1; 0.0.0.0 for every interface)"),
  Options.withFallbackConfig(Config.string("ECOUPON_HOST")),
  Options.withDefault("127.0.0.1")
)

const port = integerOption("port").pipe(
  Options.withDescription("the TCP port (default: $ECOUPON_PORT, else 8080; 0 lets the system choose)"),
  Options.withFallbackConfig(Config.integer("ECOUPON_PORT")),
  Options.withDefault(8080)
)

const gateways = Options.choice("gateways", ["http", "demo"]).pipe(
  Options.withDescription(
    "where one-time codes, carrier charges, provider orders and payouts go. http: the real services, configured from the environment (ECOUPON_SMS_URL, ECOUPON_CARRIER_URL, ECOUPON_PAYOUT_URL or ECOUPON_PAYOUT_CSV_DIR, with their tokens: adapters/gateways/README.md); each merchant's provider server is the URL and secret the operators gave it. demo: simulated inside this process, nothing leaves the machine (for trying the server out)"
  )
)

const logLevels = { debug: LogLevel.Debug, info: LogLevel.Info, warning: LogLevel.Warning, error: LogLevel.Error, none: LogLevel.None } as const

const logLevel = Options.choice("log-level", ["debug", "info", "warning", "error", "none"] as const).pipe(
  Options.withDescription(
    "the least severe log line written to stderr, one JSON object per line (default: $ECOUPON_LOG_LEVEL, else info: one line per answered request, and warnings and errors)"
  ),
  Options.withFallbackConfig(Config.literal("debug", "info", "warning", "error", "none")("ECOUPON_LOG_LEVEL")),
  Options.withDefault("info" as const)
)

const rateLimit = integerOption("rate-limit").pipe(
  Options.withDescription(
    "requests a second each caller may sustain: each kiosk, merchant and operator credential, and each address for callers without one (default: $ECOUPON_RATE_LIMIT, else 50; 0 turns the limit off). Over it: 429 with Retry-After"
  ),
  Options.withFallbackConfig(Config.integer("ECOUPON_RATE_LIMIT")),
  Options.withDefault(RATE_LIMIT_DEFAULTS.perSecond)
)

const rateBurst = integerOption("rate-burst").pipe(
  Options.withDescription("requests a caller may send at once after a quiet spell (default: $ECOUPON_RATE_BURST, else twice --rate-limit)"),
  Options.withFallbackConfig(Config.integer("ECOUPON_RATE_BURST")),
  Options.optional
)

const bodyLimit = integerOption("body-limit").pipe(
  Options.withDescription(`the largest request body taken, in bytes; larger ones are answered 413 (default: $ECOUPON_BODY_LIMIT, else ${HTTP_DEFAULTS.bodyLimitBytes})`),
  Options.withFallbackConfig(Config.integer("ECOUPON_BODY_LIMIT")),
  Options.withDefault(HTTP_DEFAULTS.bodyLimitBytes)
)

const requestTimeout = integerOption("request-timeout-ms").pipe(
  Options.withDescription(`how long a request may take before it is answered 503 (default: $ECOUPON_REQUEST_TIMEOUT_MS, else ${HTTP_DEFAULTS.requestTimeoutMs})`),
  Options.withFallbackConfig(Config.integer("ECOUPON_REQUEST_TIMEOUT_MS")),
  Options.withDefault(HTTP_DEFAULTS.requestTimeoutMs)
)

/** A refusal on stderr with exit status 1, without a stack trace: the message says what to do. */
const reportFailure = <A, R>(effect: Effect.Effect<A, StoreError | { readonly message: string }, R>) =>
  Effect.catchAll(effect, (error) => Effect.zipRight(Console.error(`ecoupon serve: ${error.message}`), Effect.sync(() => void (process.exitCode = 1))))

/** `ecoupon serve`: the management server (adapters/server). */
export const serveCommand = Command.make("serve" as string, { database: databaseOption, host, port, gateways, logLevel, rateLimit, rateBurst, bodyLimit, requestTimeout },
  ({ database, gateways, host, port, logLevel, rateLimit, rateBurst, bodyLimit, requestTimeout }) => {
  const refuse = (line: string) => Effect.zipRight(Console.error(`ecoupon serve: ${line}`), Effect.sync(() => void (process.exitCode = 2)))
  if (port < 0 || port > 65_535) return refuse(`--port ${port} is not a TCP port; give 0 to 65535`)
  if (rateLimit < 0) return refuse(`--rate-limit ${rateLimit} is negative; give requests a second per caller, or 0 for no limit`)
  const burst = Option.getOrElse(rateBurst, () => Math.max(1, rateLimit * 2))
  if (burst < 1) return refuse(`--rate-burst ${burst} must be at least 1`)
  if (bodyLimit < 1024) return refuse(`--body-limit ${bodyLimit} is under 1024 bytes; the API's own requests need more`)
  if (requestTimeout < 100) return refuse(`--request-timeout-ms ${requestTimeout} is under 100 ms`)
  return serve({
    target: storeTargetOf(database),
    host,
    port,
    gateways: gatewaysLayer(gateways),
    rateLimit: { perSecond: rateLimit, burst },
    bodyLimitBytes: bodyLimit,
    requestTimeoutMs: requestTimeout
  }).pipe(
    Logger.withMinimumLogLevel(logLevels[logLevel]),
    Effect.provide(Logger.replace(Logger.defaultLogger, jsonLogger)),
    reportFailure
  )
}).pipe(
  Command.withDescription(
    "Run the management server: the HTTP API for kiosks, merchants, provider servers and operators (docs at /docs), and the outbox and back office. Embedded store by default (created and migrated on first start), PostgreSQL with --database postgres://..."
  )
)
