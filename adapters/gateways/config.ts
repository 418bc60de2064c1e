import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Effect, Layer, Option, Redacted, Schema } from "effect"
import type { CarrierBilling } from "../../core/ports/carrier-billing.js"
import type { PayoutGateway } from "../../core/ports/payout-gateway.js"
import type { ProviderGateway } from "../../core/ports/provider-gateway.js"
import type { SmsGateway } from "../../core/ports/sms-gateway.js"
import { HttpCarrierLive } from "./carrier-http.js"
import type { HttpEndpoint } from "./http-endpoint.js"
import { CsvPayoutLive } from "./payout-csv.js"
import { HttpPayoutLive } from "./payout-http.js"
import type { ProviderEndpoints } from "./provider-endpoints.js"
import { HttpProviderLive } from "./provider-http.js"
import { HttpSmsLive } from "./sms-http.js"

/**
 * The real gateways' settings, read from the environment (Effect's `Config`, so a test or an
 * embedding program can give its own `ConfigProvider`). Every variable is checked at start-up and the
 * first one missing or wrong stops the server with one line that names it:
 *
 *   ECOUPON_SMS_URL, ECOUPON_SMS_TOKEN                SMS gateway
 *   ECOUPON_CARRIER_URL, ECOUPON_CARRIER_TOKEN        carrier billing
 *   ECOUPON_PAYOUT_URL, ECOUPON_PAYOUT_TOKEN          payouts over HTTP, or
 *   ECOUPON_PAYOUT_CSV_DIR                            payouts as CSV files (exactly one of the two)
 *   ECOUPON_GATEWAY_TIMEOUT_MS                        per call, default 8000
 *   ECOUPON_GATEWAY_RESPONSE_BYTES_MAX                per answer, default 1048576
 *
 * Provider servers are per merchant: their URLs and secrets come from `ProviderEndpoints`.
 */

export class GatewayConfigError extends Schema.TaggedError<GatewayConfigError>()("GatewayConfigError", {
  variable: Schema.String,
  problem: Schema.String
}) {
  override get message() {
    return `${this.variable} ${this.problem}`
  }
}

export type GatewayPorts = SmsGateway | CarrierBilling | ProviderGateway | PayoutGateway

export interface GatewaysConfig {
  readonly sms: HttpEndpoint
  readonly carrier: HttpEndpoint
  readonly payout: { readonly _tag: "Http"; readonly endpoint: HttpEndpoint } | { readonly _tag: "Csv"; readonly dir: string }
  readonly timeoutMs: number
  readonly responseBytesMax: number
}

// The outbox gives one send 30 s (core/outbox.ts) and a carrier charge makes up to three calls.
const timeoutMsDefault = 8_000
const timeoutMsMax = 60_000
const responseBytesMaxDefault = 1024 * 1024

const optional = (variable: string) =>
  Effect.map(
    Effect.orElseSucceed(Config.option(Config.string(variable)), () => Option.none<string>()),
    Option.filter((value) => value.trim().length > 0)
  )

const required = (variable: string, what: string) =>
  Effect.flatMap(optional(variable), (value) =>
    Option.isSome(value) ? Effect.succeed(value.value.trim()) : Effect.fail(new GatewayConfigError({ variable, problem: `is not set: give ${what} (or run with --gateways demo)` }))
  )

const url = (variable: string, what: string) =>
  Effect.flatMap(required(variable, what), (value) => {
    const parsed = URL.canParse(value) ? new URL(value) : undefined
    return parsed !== undefined && (parsed.protocol === "https:" || parsed.protocol === "http:")
      ? Effect.succeed(value)
      : Effect.fail(new GatewayConfigError({ variable, problem: `must be an http(s) URL like https://sms.example.com/v1, got ${JSON.stringify(value.slice(0, 80))}` }))
  })

const wholeNumber = (variable: string, fallback: number, min: number, max: number) =>
  Effect.flatMap(optional(variable), (value) => {
    if (Option.isNone(value)) return Effect.succeed(fallback)
    const n = Number(value.value)
    return /^[0-9]+$/.test(value.value.trim()) && n >= min && n <= max
      ? Effect.succeed(n)
      : Effect.fail(new GatewayConfigError({ variable, problem: `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value.value.slice(0, 40))}` }))
  })

const endpoint = (prefix: "SMS" | "CARRIER" | "PAYOUT", what: string, timeoutMs: number, responseBytesMax: number) =>
  Effect.gen(function*() {
    const base = yield* url(`ECOUPON_${prefix}_URL`, `the ${what}'s base URL`)
    const token = yield* required(`ECOUPON_${prefix}_TOKEN`, `the API token the ${what} issued us`)
    return { url: base, token: Redacted.make(token), timeoutMs, responseBytesMax } satisfies HttpEndpoint
  })

/** Reads and checks every gateway variable; fails with the first one missing or wrong. */
export const loadGatewaysConfig: Effect.Effect<GatewaysConfig, GatewayConfigError> = Effect.gen(function*() {
  const timeoutMs = yield* wholeNumber("ECOUPON_GATEWAY_TIMEOUT_MS", timeoutMsDefault, 1, timeoutMsMax)
  const responseBytesMax = yield* wholeNumber("ECOUPON_GATEWAY_RESPONSE_BYTES_MAX", responseBytesMaxDefault, 1024, 64 * 1024 * 1024)
  const sms = yield* endpoint("SMS", "SMS gateway", timeoutMs, responseBytesMax)
  const carrier = yield* endpoint("CARRIER", "carrier billing service", timeoutMs, responseBytesMax)
  const payoutUrl = yield* optional("ECOUPON_PAYOUT_URL")
  const csvDir = yield* optional("ECOUPON_PAYOUT_CSV_DIR")
  if (Option.isSome(payoutUrl) && Option.isSome(csvDir)) {
    return yield* new GatewayConfigError({ variable: "ECOUPON_PAYOUT_URL", problem: "and ECOUPON_PAYOUT_CSV_DIR are both set: payouts go either to an HTTP service or to files, set only one" })
  }
  const payout: GatewaysConfig["payout"] = Option.isSome(csvDir)
    ? { _tag: "Csv", dir: csvDir.value.trim() }
    : Option.isSome(payoutUrl)
    ? { _tag: "Http", endpoint: yield* endpoint("PAYOUT", "payout service", timeoutMs, responseBytesMax) }
    : yield* new GatewayConfigError({
      variable: "ECOUPON_PAYOUT_URL",
      problem: "is not set: give the payout service's base URL with ECOUPON_PAYOUT_TOKEN, or ECOUPON_PAYOUT_CSV_DIR for payout files (or run with --gateways demo)"
    })
  return { sms, carrier, payout, timeoutMs, responseBytesMax }
})

/** The four ports over HTTP (and files), from a checked config, on the given HTTP client. */
export const httpGatewaysFrom = (config: GatewaysConfig): Layer.Layer<GatewayPorts, never, HttpClient.HttpClient | ProviderEndpoints> =>
  Layer.mergeAll(
    HttpSmsLive(config.sms),
    HttpCarrierLive(config.carrier),
    HttpProviderLive({ timeoutMs: config.timeoutMs, responseBytesMax: config.responseBytesMax }),
    config.payout._tag === "Csv" ? CsvPayoutLive(config.payout.dir) : HttpPayoutLive(config.payout.endpoint)
  )

/**
 * What `serve --gateways http` uses: the environment's settings, checked at once, on Node's HTTP
 * client. The server provides `ProviderEndpoints` (where each merchant's server and secret live).
 */
export const httpGatewaysLayer: Layer.Layer<GatewayPorts, GatewayConfigError, ProviderEndpoints> = Layer.unwrapEffect(
  Effect.map(loadGatewaysConfig, httpGatewaysFrom)
).pipe(Layer.provide(NodeHttpClient.layer))
