import { HttpApiError, HttpServerError, HttpServerRequest, HttpServerResponse, HttpIncomingMessage, type HttpApp } from "@effect/platform"
import { randomUUID } from "node:crypto"
import { Cause, Context, Duration, Effect, LogLevel, Option, Schema } from "effect"
import { BadRequest, Conflict, Forbidden, Gone, InternalError, makeProblem, NotFound, PayloadTooLarge, type Problem, PROBLEM_CONTENT_TYPE, TooManyRequests, Unauthorized, Unavailable, Unprocessable } from "../http-api/problem.js"
import { CurrentStoreTimings, newStoreTimings, type StoreTimings } from "../store/store-timings.js"
import type { RateLimiter } from "./rate-limit.js"
import { callerOf } from "./rate-limit.js"
import type { RouteNamer } from "./route-names.js"

/**
 * What every request goes through, around the API's router: a request id (the caller's
 * `X-Request-Id` when it is a sane one, else a fresh one; echoed in the response), the body size limit
 * and the time limit, every failure turned into a problem document (domain refusals, bad input,
 * unknown routes, and a defect as a bare 500 with the request id and nothing of its internals), a
 * `Server-Timing` header (W3C) saying where the server spent the request's time, and one observation
 * per request for whoever wants it (metrics, access logs).
 */

export interface RequestSample {
  readonly requestId: string
  /** The endpoint, as `group.endpoint`, or "unmatched". */
  readonly route: string
  readonly method: string
  readonly status: number
  readonly durationMs: number
}

/** Told about every request once it is answered. The default tells no one. */
export class RequestObserver extends Context.Reference<RequestObserver>()("ecoupon/server/RequestObserver", {
  defaultValue: () => ({ observe: (_sample: RequestSample): Effect.Effect<void> => Effect.void })
}) {}

/** The request id of the request being handled ("" outside one). */
export class CurrentRequestId extends Context.Reference<CurrentRequestId>()("ecoupon/server/CurrentRequestId", { defaultValue: () => "" }) {}

export interface PipelineOptions {
  readonly bodyLimitBytes: number
  readonly requestTimeoutMs: number
  readonly nameRoute: RouteNamer
  /** True once the server is stopping: answers then close their connection. */
  readonly draining: () => boolean
  /** The level of the one line logged per answered request (default Debug: tests stay quiet; serve says Info). */
  readonly accessLogLevel?: LogLevel.LogLevel
  /** Per-caller allowance (rate-limit.ts); health probes are not counted. None: no limit. */
  readonly rateLimiter?: RateLimiter
}

/** Routes a load balancer probes: never rate limited. */
const UNLIMITED_ROUTES: ReadonlySet<string> = new Set(["health.healthz", "health.readyz"])

export const REQUEST_ID_HEADER = "x-request-id"
export const SERVER_TIMING_HEADER = "server-timing"

const ms = (value: number) => value.toFixed(3)

/**
 * `app` is the whole request inside the server (from the pipeline's start to its answer); on the
 * embedded store, `db` is the time in statements, `dblock` waiting for other transactions to let the
 * database go, `fsync` waiting for the journal to make the commit durable (shared with the
 * transactions committed alongside). Durations in milliseconds; nothing else (no names, no ids).
 */
export const serverTimingOf = (appMs: number, store: StoreTimings): string =>
  store.statements === 0 && store.durableWaitMs === 0
    ? `app;dur=${ms(appMs)}`
    : `app;dur=${ms(appMs)}, db;dur=${ms(store.statementsMs)}, dblock;dur=${ms(store.lockWaitMs)}, fsync;dur=${ms(store.durableWaitMs)}`
const REQUEST_ID_FORMAT = /^[A-Za-z0-9._-]{8,64}$/
const DETAIL_LENGTH_MAX = 2_000

const isProblem = Schema.is(Schema.Union(BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Gone, PayloadTooLarge, Unprocessable, TooManyRequests, InternalError, Unavailable))

const render = (problem: Problem, requestId: string) =>
  HttpServerResponse.unsafeJson({ ...problem, requestId }, { status: problem.status, contentType: PROBLEM_CONTENT_TYPE })

const bounded = (text: string) => (text.length > DETAIL_LENGTH_MAX ? `${text.slice(0, DETAIL_LENGTH_MAX)}…` : text)

/** The problem for a failure that is not one of the API's own refusals. */
const problemOfFailure = (error: unknown, request: HttpServerRequest.HttpServerRequest, bodyLimitBytes: number): Problem | undefined => {
  if (isProblem(error)) return error
  if (error instanceof HttpApiError.HttpApiDecodeError) {
    return makeProblem(400, "invalid-input", "Invalid input", bounded(`the request does not read as one this endpoint takes: ${error.message}. See /docs for what it takes`))
  }
  if (HttpServerError.isServerError(error)) {
    if (error._tag === "RouteNotFound") {
      return makeProblem(404, "no-such-endpoint", "No such endpoint", bounded(`nothing answers ${request.method} ${request.url.split("?")[0] ?? ""}; the endpoints are listed at /docs`))
    }
    if (error._tag === "RequestError") {
      const tooLarge = String(error.cause ?? "").includes("maxBytes") || String(error.description ?? "").toLowerCase().includes("too large")
      return tooLarge
        ? makeProblem(413, "body-too-large", "Body too large", `the body is over ${bodyLimitBytes} bytes; send less`)
        : makeProblem(400, "unreadable-body", "Unreadable body", "the body could not be read as JSON; send a JSON document with Content-Type: application/json")
    }
  }
  if (typeof error === "object" && error !== null && "_tag" in error && error._tag === "MultipartError") return notJson()
  return undefined
}

const notJson = () => makeProblem(400, "not-json", "Not JSON", "this API reads JSON bodies only; send Content-Type: application/json")

/**
 * Whether the request carries a body in another type than JSON (form, multipart, text...): refused
 * before anything parses it. A multipart type is refused even with no body: the platform's multipart
 * reader would wait for a boundary that never comes (the request timing out as a 503), or fail on a
 * type without one (a 500).
 */
const hasNonJsonBody = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const type = request.headers["content-type"]
  if (type === undefined) return false
  const mediaType = type.split(";")[0]?.trim().toLowerCase() ?? ""
  if (mediaType.startsWith("multipart/")) return true
  const hasBody = (request.headers["content-length"] !== undefined && request.headers["content-length"] !== "0") || request.headers["transfer-encoding"] !== undefined
  return hasBody && mediaType !== "application/json"
}

export const requestPipeline = (options: PipelineOptions) => (app: HttpApp.Default): HttpApp.Default =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const startedMs = performance.now()
    const offered = request.headers[REQUEST_ID_HEADER]
    const requestId = offered !== undefined && REQUEST_ID_FORMAT.test(offered) ? offered : randomUUID()
    const path = request.url.split("?")[0] ?? ""
    const route = options.nameRoute(request.method, path)
    const decision = options.rateLimiter === undefined || UNLIMITED_ROUTES.has(route) ? undefined : options.rateLimiter.take(callerOf(request), Date.now())
    const handled: HttpApp.Default<unknown> =
      decision !== undefined && !decision.allowed
        ? Effect.fail(
            makeProblem(429, "rate-limited", "Too many requests", `this caller sent more than the server allows (${options.rateLimiter?.settings.perSecond ?? 0} a second, ${options.rateLimiter?.settings.burst ?? 0} at once); retry after ${decision.retryAfterSeconds} s`)
          )
        : hasNonJsonBody(request)
          ? Effect.fail(notJson())
          : app
    const storeTimings = newStoreTimings()
    const response = yield* handled.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(options.bodyLimitBytes)),
      Effect.provideService(CurrentStoreTimings, storeTimings),
      Effect.timeoutFail({
        duration: Duration.millis(options.requestTimeoutMs),
        onTimeout: () => makeProblem(503, "request-timeout", "Request timed out", `the server did not answer within ${options.requestTimeoutMs} ms; retry with the same ids (every write is idempotent)`)
      }),
      Effect.provideService(CurrentRequestId, requestId),
      Effect.annotateLogs("requestId", requestId),
      Effect.catchAllCause((cause) => {
        // A body that does not parse reaches here as a defect of the router's payload decoding: squash
        // finds the error either way.
        const problem = Cause.isInterruptedOnly(cause) ? undefined : problemOfFailure(Cause.squash(cause), request, options.bodyLimitBytes)
        if (problem !== undefined) return Effect.succeed(render(problem, requestId))
        // Interrupted (the server is stopping) or a defect: the operator finds it in the log by request id.
        return Effect.as(
          Cause.isInterruptedOnly(cause)
            ? Effect.void
            : Effect.logError("request failed", Cause.pretty(cause)).pipe(Effect.annotateLogs({ requestId, method: request.method })),
          render(
            Cause.isInterruptedOnly(cause)
              ? makeProblem(503, "stopping", "Server stopping", "the server is stopping; retry shortly (every write is idempotent)")
              : makeProblem(500, "internal-error", "Internal error", `the server failed on this request; quote request id ${requestId} to the operator`),
            requestId
          )
        )
      })
    )
    const observer = yield* RequestObserver
    const sample = { requestId, route, method: request.method, status: response.status, durationMs: performance.now() - startedMs }
    yield* observer.observe(sample)
    // The route's name, never the path or the body: neither may carry a phone number into a log (invariant 10).
    yield* Effect.logWithLevel(options.accessLogLevel ?? LogLevel.Debug, "answered").pipe(Effect.annotateLogs({ ...sample, durationMs: Math.round(sample.durationMs * 10) / 10 }))
    const limited = decision !== undefined && !decision.allowed ? HttpServerResponse.setHeader(response, "retry-after", String(decision.retryAfterSeconds)) : response
    const identified = HttpServerResponse.setHeaders(limited, {
      [REQUEST_ID_HEADER]: requestId,
      [SERVER_TIMING_HEADER]: serverTimingOf(sample.durationMs, storeTimings)
    })
    return options.draining() ? HttpServerResponse.setHeader(identified, "connection", "close") : identified
  })
