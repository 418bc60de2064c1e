import { Effect, Layer, Option, Schema, Stream } from "effect"
import { BackendUnavailable } from "../../core/ports/kiosk-backend.js"
import { type KioskEvent, KioskEvents } from "../kiosk-agent/kiosk-events.js"
import { parseEventId } from "../server/kiosk-events.js"
import { makeSseParser, type ParsedSseEvent } from "../server/sse-encoding.js"

/**
 * The kiosk agent's `KioskEvents` over HTTP: the management server's `GET /v1/kiosk/events`
 * (adapters/server/kiosk-events.ts) with the kiosk's key. `connect` is one connection, as the port
 * says; the agent reconnects with bounded backoff (kiosk-agent.ts). What it makes of the wire:
 * - `ready` and `refetch` are `Connected`: the agent then reports its twin, and the answer carries
 *   the desired state and the catalog version, so whatever was missed is read again;
 * - `catalog` is `CatalogChanged` at the change's version; `desired` is `DesiredChanged`, a pinned
 *   catalog version taken as is, an unpinned one as the region's version in the event's id;
 * - `heartbeat` only proves the connection lives: with nothing at all for `silenceMs` (three missed
 *   heartbeats by default) the connection is taken for dead and the stream fails, so a connection a
 *   NAT box dropped without a word is noticed;
 * - a refused key (401/403) or any other answer than a stream fails the connection too; the agent
 *   keeps trying at its longest backoff, and its twin reports say the same thing louder.
 * The last event id is kept across connections and sent as `Last-Event-ID`, so the server replays
 * what this kiosk missed rather than only saying "refetch".
 */

export interface KioskEventsHttpOptions {
  readonly baseUrl: string
  readonly kioskKey: string
  /** Without a single byte for this long, the connection is dead (default 45 s: three heartbeats). */
  readonly silenceMs?: number
  /** To open the connection and see its status. */
  readonly connectTimeoutMs?: number
}

export const KIOSK_EVENTS_SILENCE_MS = 45_000
const CONNECT_TIMEOUT_MS = 10_000

const CatalogData = Schema.parseJson(Schema.Struct({ version: Schema.Int }))
const DesiredData = Schema.parseJson(
  Schema.Struct({ desiredVersion: Schema.Int, desired: Schema.Struct({ enabled: Schema.Boolean, catalogVersion: Schema.optional(Schema.NullOr(Schema.Int)) }) })
)
const decodeCatalog = Schema.decodeUnknownOption(CatalogData)
const decodeDesired = Schema.decodeUnknownOption(DesiredData)

/** One wire event as what the agent acts on; none for heartbeats and anything this client does not know. */
export const kioskEventOf = (event: ParsedSseEvent): Option.Option<KioskEvent> => {
  switch (event.event) {
    case "ready":
    case "refetch":
      return Option.some({ _tag: "Connected" })
    case "catalog":
      return Option.map(decodeCatalog(event.data), (change): KioskEvent => ({ _tag: "CatalogChanged", version: change.version }))
    case "desired":
      return Option.map(decodeDesired(event.data), (data): KioskEvent => {
        const regionVersion = Option.match(parseEventId(event.id ?? ""), { onNone: () => 0, onSome: (position) => position.catalogVersion })
        return {
          _tag: "DesiredChanged",
          desired: { version: data.desiredVersion, enabled: data.desired.enabled, catalogVersion: data.desired.catalogVersion ?? regionVersion }
        }
      })
    default:
      return Option.none()
  }
}

const unavailable = (detail: string) => new BackendUnavailable({ detail: detail.slice(0, 300) })

export const make = (options: KioskEventsHttpOptions) => {
  const url = `${options.baseUrl.replace(/\/+$/, "")}/v1/kiosk/events`
  const silenceMs = options.silenceMs ?? KIOSK_EVENTS_SILENCE_MS
  let lastEventId: string | undefined

  const open = Effect.tryPromise({
    try: (signal) =>
      fetch(url, {
        headers: { accept: "text/event-stream", authorization: `Bearer ${options.kioskKey}`, ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }) },
        signal
      }),
    catch: (cause) => unavailable(`cannot open the event stream: ${cause instanceof Error ? `${cause.message}${cause.cause instanceof Error ? `: ${cause.cause.message}` : ""}` : String(cause)}`)
  }).pipe(
    Effect.timeoutFail({ duration: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, onTimeout: () => unavailable("the event stream did not open in time") }),
    Effect.flatMap((response) => {
      if (response.ok && response.body !== null) return Effect.succeed(response.body)
      void response.body?.cancel().catch(() => undefined)
      return Effect.fail(unavailable(`the server answered ${response.status} to the event stream${response.status === 401 || response.status === 403 ? " (the kiosk key was refused)" : ""}`))
    })
  )

  const connect: Stream.Stream<KioskEvent, BackendUnavailable> = Stream.unwrap(
    Effect.map(open, (body) => {
      const parse = makeSseParser()
      return Stream.fromReadableStream({ evaluate: () => body, onError: (cause) => unavailable(`the event stream broke: ${String(cause)}`) }).pipe(
        Stream.decodeText(),
        Stream.timeoutFail(() => unavailable(`nothing on the event stream for ${silenceMs} ms`), silenceMs),
        Stream.mapConcat(parse),
        Stream.tap((event) => Effect.sync(() => void (event.id !== undefined && event.event !== "heartbeat" ? (lastEventId = event.id) : undefined))),
        Stream.filterMap(kioskEventOf),
        // A stream the server ends (it stops, the kiosk was removed) is one the agent reconnects to.
        Stream.concat(Stream.fail(unavailable("the server ended the event stream")))
      )
    })
  )
  return { connect }
}

export const KioskEventsHttp = {
  layer: (options: KioskEventsHttpOptions): Layer.Layer<KioskEvents> => Layer.sync(KioskEvents, () => make(options)),
  make
} as const
