import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Layer, Option, Schema } from "effect"
import { BackendRefused, BackendUnavailable, KioskBackend, type KioskBackendService, RefusalReason } from "../../core/ports/kiosk-backend.js"
import { EcouponApi } from "../http-api/api.js"
import type { Problem } from "../http-api/problem.js"

/**
 * The kiosk agent's `KioskBackend`: the management server's kiosks group over HTTP, through the typed
 * client of the same `HttpApi` the server implements. What the kiosk flow sees:
 * - a problem document that carries a refusal `reason` is that `BackendRefused`, detail and current
 *   catalog version included: the same refusal the in-process layer gives;
 * - other problems: 400/413/422 `invalid-request`, 401/403 `kiosk-disabled` (the key was refused:
 *   an operator must issue a new one), 404 `invalid-request`; 429 and 5xx are `BackendUnavailable`
 *   (try again later), as is anything the transport says (refused connection, reset, timeout, an
 *   answer that does not decode).
 * `order` answers none for the server's `order-not-found`.
 */

export interface KioskBackendHttpOptions {
  /** The server, e.g. https://ecoupon.example.org (no trailing path). */
  readonly baseUrl: string
  /** The kiosk's key as an operator issued it (`ek_...`). */
  readonly kioskKey: string
  /** Per request, connection to answer. */
  readonly timeoutMs?: number
}

export const KIOSK_REQUEST_TIMEOUT_MS = 10_000

const isReason = Schema.is(RefusalReason)

const isProblem = (error: unknown): error is Problem =>
  typeof error === "object" && error !== null && "type" in error && "status" in error && "detail" in error && typeof (error as { readonly status: unknown }).status === "number"

const statusReason = (status: number): RefusalReason | undefined =>
  status === 401 || status === 403 ? "kiosk-disabled" : status === 429 || status >= 500 ? undefined : "invalid-request"

/** Any failure of a call as the kiosk flow's error. */
export const backendErrorOf = (error: unknown): BackendRefused | BackendUnavailable => {
  if (isProblem(error)) {
    const reason = error.reason !== undefined && isReason(error.reason) ? error.reason : statusReason(error.status)
    if (reason === undefined) return new BackendUnavailable({ detail: `the server answered ${error.status}: ${error.detail}` })
    return new BackendRefused({ reason, detail: error.detail, ...(error.currentCatalogVersion !== undefined ? { currentCatalogVersion: error.currentCatalogVersion } : {}) })
  }
  if (error instanceof BackendUnavailable) return error
  const message = error instanceof Error ? error.message : String(error)
  // A transport error's own message names the request; its cause says what went wrong (refused, reset).
  const cause = typeof error === "object" && error !== null && "cause" in error && error.cause instanceof Error ? `: ${error.cause.message}` : ""
  return new BackendUnavailable({ detail: `${message}${cause}`.slice(0, 300) })
}

export const make = (options: KioskBackendHttpOptions) =>
  Effect.gen(function* () {
    const client = yield* HttpApiClient.make(EcouponApi, {
      baseUrl: options.baseUrl,
      transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(options.kioskKey))
    })
    const timeout = Duration.millis(options.timeoutMs ?? KIOSK_REQUEST_TIMEOUT_MS)
    const call = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, BackendRefused | BackendUnavailable> =>
      effect.pipe(
        Effect.timeoutFail({ duration: timeout, onTimeout: () => new BackendUnavailable({ detail: `no answer within ${Duration.toMillis(timeout)} ms` }) }),
        Effect.mapError(backendErrorOf)
      )
    const kiosks = client.kiosks
    const service: KioskBackendService = {
      requestCode: (phone) => call(kiosks.requestCode({ payload: { phone } })),
      verifyCode: (challengeId, code) => call(kiosks.verifyCode({ path: { challengeId }, payload: { code } })),
      endSession: (sessionId) => call(kiosks.endSession({ path: { sessionId } })),
      catalog: call(kiosks.catalog()),
      place: (request) => call(kiosks.place({ payload: request })),
      beginDispense: (orderId, cardUid) => call(kiosks.beginDispense({ path: { orderId }, payload: { cardUid } })),
      deliver: (request) => call(kiosks.deliver({ path: { orderId: request.orderId }, payload: { medium: request.medium } })),
      abort: (request) =>
        call(kiosks.abort({ path: { orderId: request.orderId }, payload: { reason: request.reason, ...(request.retainedCardUid !== undefined ? { retainedCardUid: request.retainedCardUid } : {}) } })),
      order: (orderId) =>
        kiosks.order({ path: { orderId } }).pipe(
          Effect.map(Option.some),
          Effect.catchIf(
            (error) => isProblem(error) && error.status === 404 && error.type.endsWith(":order-not-found"),
            () => Effect.succeed(Option.none())
          ),
          call
        ),
      returnCard: (cardUid) => call(kiosks.returnCard({ payload: { cardUid } })),
      reportState: (reported) => call(kiosks.reportState({ payload: reported }))
    }
    return service
  })

export const KioskBackendHttp = {
  /** The kiosk's backend over HTTP, on the HttpClient the caller provides. */
  layerWithoutClient: (options: KioskBackendHttpOptions): Layer.Layer<KioskBackend, never, HttpClient.HttpClient> => Layer.effect(KioskBackend, make(options)),
  /** The kiosk's backend over HTTP, on Node's HTTP client with keep-alive. */
  layer: (options: KioskBackendHttpOptions): Layer.Layer<KioskBackend> => Layer.effect(KioskBackend, make(options)).pipe(Layer.provide(NodeHttpClient.layerUndici)),
  make
} as const
