import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Duration, Effect, ParseResult, Schema, Stream } from "effect"
import { ServiceRejected, ServiceUnavailable } from "../../core/ports/service-errors.js"

/**
 * One call to an outside service, the same way for every gateway: one attempt (the outbox owns
 * retries and bounds them), one deadline over the whole exchange including the answer's body, a
 * bound on the body's size, and every way it can go wrong mapped onto the ports' two errors:
 *
 * - no connection, a reset, the deadline passed, HTTP 5xx, 429 or 408 -> `ServiceUnavailable`: the
 *   request may or may not have been acted on, and resending it under the same idempotency key is
 *   safe, so the outbox tries again later;
 * - any other 4xx -> `ServiceRejected` with the vendor's own reason from the body: the same request
 *   will be refused again;
 * - a 2xx whose body we cannot read -> `ServiceUnavailable`. The vendor may well have acted, so
 *   telling the core "rejected" could undo something that happened (void a charge that was made);
 *   a resend under the same key gets the first answer again, and if the vendor keeps answering
 *   garbage the outbox's bounded retries end in a dead letter an operator sees;
 * - a 1xx or 3xx -> `ServiceUnavailable`. Redirects are not followed: a signed or idempotent POST
 *   must go where the operator configured it, not where a response points.
 */

export interface GatewaySettings {
  /** The service's name in errors and docs ("sms gateway", "carrier billing", ...). */
  readonly service: string
  readonly timeoutMs: number
  readonly responseBytesMax: number
}

export interface GatewayRequest {
  readonly method: "GET" | "POST"
  readonly url: string
  /** Authorisation, idempotency key, signature: everything but the content type. */
  readonly headers: Readonly<Record<string, string>>
  /** JSON text, sent byte for byte as given (a signature covers exactly these bytes). */
  readonly body?: string
}

export type GatewayError = ServiceUnavailable | ServiceRejected

export const idempotencyKeyHeader = "idempotency-key"

/** `base` (with or without a trailing slash or a path of its own) joined with `path`. */
export const joinUrl = (base: string, path: string): string => `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`

const reasonTextMax = 300

/**
 * Vendors echo what they were sent; an SMS or carrier refusal can name the subscriber's number. Our
 * errors end up in the outbox's last_error and in logs, where no phone number may appear
 * (invariant 10), so every run of eight or more digits (with the usual separators) is blotted out.
 */
export const withoutNumbers = (text: string): string => text.replace(/\+?[0-9][0-9 ()./-]{6,}[0-9]/g, "[number]")

const firstLine = (text: string): string => (text.split(/\r?\n/).find((line) => line.trim().length > 0) ?? "").trim()

/** The vendor's reason from a refusal body: RFC 9457 `detail` or `title`, a `message`/`error`/`reason` field, or the text. */
export const reasonOf = (status: number, text: string): string => {
  let reason = ""
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed === "object" && parsed !== null) {
      const record = parsed as Record<string, unknown>
      const field = ["detail", "title", "message", "error", "reason"].map((key) => record[key]).find((v) => typeof v === "string" && v.length > 0)
      if (typeof field === "string") reason = field
    }
  } catch {
    reason = firstLine(text)
  }
  if (reason.length === 0) reason = firstLine(text)
  const clipped = reason.length > reasonTextMax ? `${reason.slice(0, reasonTextMax)}…` : reason
  return withoutNumbers(clipped.length > 0 ? `HTTP ${status}: ${clipped}` : `HTTP ${status}`)
}

const transportDetail = (cause: unknown): string => {
  if (typeof cause === "object" && cause !== null) {
    const { code, message } = cause as { code?: unknown; message?: unknown }
    if (typeof code === "string") return code === "ECONNREFUSED" ? "connection refused" : code === "ECONNRESET" ? "connection reset" : code
    if (typeof message === "string" && message.length > 0) return message
  }
  return "the connection failed"
}

class BodyTooLarge {
  readonly _tag = "BodyTooLarge"
}

const readBounded = (response: HttpClientResponse.HttpClientResponse, bytesMax: number) =>
  Stream.runFoldEffect(response.stream, [] as Array<Uint8Array>, (chunks, chunk) => {
    const bytes = chunks.reduce((sum, c) => sum + c.length, chunk.length)
    if (bytes > bytesMax) return Effect.fail(new BodyTooLarge())
    chunks.push(chunk)
    return Effect.succeed(chunks)
  }).pipe(Effect.map((chunks) => Buffer.concat(chunks).toString("utf8")))

interface Answer {
  readonly status: number
  readonly text: string
}

/** Sends the request and reads the answer's status and body; only transport trouble fails here. */
const exchange = (client: HttpClient.HttpClient, settings: GatewaySettings, request: GatewayRequest): Effect.Effect<Answer, GatewayError> => {
  const unavailable = (detail: string) => new ServiceUnavailable({ service: settings.service, detail })
  const base = request.method === "GET" ? HttpClientRequest.get(request.url) : HttpClientRequest.post(request.url)
  const withHeaders = HttpClientRequest.setHeaders(base, request.headers)
  const outgoing = request.body === undefined ? withHeaders : HttpClientRequest.bodyText(withHeaders, request.body, "application/json")
  return client.execute(outgoing).pipe(
    Effect.flatMap((response) => Effect.map(readBounded(response, settings.responseBytesMax), (text) => ({ status: response.status, text }))),
    Effect.catchAll((error): Effect.Effect<never, GatewayError> => {
      if (error instanceof BodyTooLarge) return Effect.fail(unavailable(`the answer was larger than ${settings.responseBytesMax} bytes`))
      if (error._tag === "RequestError" && error.reason !== "Transport") {
        // A URL that cannot be parsed or a body that cannot be encoded is refused the same way every time.
        return Effect.fail(new ServiceRejected({ service: settings.service, reason: `the request could not be sent (${error.reason}): check the configured URL` }))
      }
      return Effect.fail(unavailable(transportDetail(error.cause)))
    }),
    Effect.timeoutFail({ duration: Duration.millis(settings.timeoutMs), onTimeout: () => unavailable(`no answer within ${settings.timeoutMs} ms`) })
  )
}

/** Maps a non-2xx answer onto the ports' errors (see the module comment). */
const refusal = (settings: GatewaySettings, answer: Answer): GatewayError => {
  const { status } = answer
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new ServiceRejected({ service: settings.service, reason: reasonOf(status, answer.text) })
  }
  const why = status >= 500 || status === 408 || status === 429 ? reasonOf(status, answer.text) : `unexpected HTTP ${status} (redirects are not followed)`
  return new ServiceUnavailable({ service: settings.service, detail: why })
}

const isSuccess = (status: number) => status >= 200 && status < 300

/** One call whose 2xx answer must decode with `schema` (JSON). */
export const callForJson = <A, I>(
  client: HttpClient.HttpClient,
  settings: GatewaySettings,
  request: GatewayRequest,
  schema: Schema.Schema<A, I>
): Effect.Effect<A, GatewayError> => {
  const decode = Schema.decodeUnknown(Schema.parseJson(schema))
  return Effect.flatMap(exchange(client, settings, request), (answer) =>
    isSuccess(answer.status)
      ? decode(answer.text).pipe(
        Effect.mapError((error) =>
          new ServiceUnavailable({
            service: settings.service,
            detail: `HTTP ${answer.status} with an answer we cannot read (${withoutNumbers(firstLine(ParseResult.TreeFormatter.formatErrorSync(error)).slice(0, reasonTextMax))}); the call is idempotent and will be resent`
          })
        )
      )
      : Effect.fail(refusal(settings, answer))
  )
}

/** One call whose 2xx answer carries nothing we need: any body is accepted. */
export const callForAcknowledgement = (client: HttpClient.HttpClient, settings: GatewaySettings, request: GatewayRequest): Effect.Effect<void, GatewayError> =>
  Effect.flatMap(exchange(client, settings, request), (answer) => (isSuccess(answer.status) ? Effect.void : Effect.fail(refusal(settings, answer))))
