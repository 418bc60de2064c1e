import { HttpServerResponse } from "@effect/platform"
import { Context, Duration, Effect, Option, Schedule, Schema, Stream } from "effect"
import { Catalog } from "../../core/catalog.js"
import { CatalogChange } from "../../core/domain/catalog.js"
import type { KioskId, RegionId } from "../../core/domain/ids.js"
import type { KioskNotFound } from "../../core/domain/kiosk.js"
import { DesiredState, type Twin } from "../../core/domain/twin.js"
import { KioskTwins } from "../../core/twin.js"
import { type ChangeSignal, ChangeSignals } from "./change-signals.js"
import { encodeSseEvent, type SseEvent } from "./sse-encoding.js"

/**
 * A kiosk's server-sent events (DESIGN §7): its region's catalog changes and its own desired-state
 * changes, on one stream.
 *
 * Event ids are the kiosk's position in both sequences, `<catalogVersion>.<desiredVersion>`, both
 * versions kept by the database. So a kiosk may resume with `Last-Event-ID` on any server of a
 * deployment, after any restart, and the replay is read from `catalog_changes` rather than from a
 * buffer in one server's memory. The replay is bounded: a kiosk more than `replayMax` catalog changes
 * behind gets one `refetch` event instead (fetch the whole catalog and the twin, then carry on from the
 * event's id), and so does an id this deployment never issued.
 *
 * Events, each with its `data` as JSON:
 * - `ready` {catalogVersion, desiredVersion}: the stream is caught up (sent once, after any replay).
 * - `catalog`: one `CatalogChange` (apply it as core/domain/catalog.ts says).
 * - `desired` {kioskId, desiredVersion, desired}: the kiosk's desired state changed; apply it.
 * - `refetch` {reason, catalogVersion, desiredVersion}: what the kiosk has cannot be brought up to
 *   date by replay.
 * - `heartbeat` {atMs}: every `heartbeatMs`, with no id, so a kiosk can tell a quiet stream from a
 *   dead one.
 */

export interface KioskEventsSettings {
  readonly heartbeatMs: number
  /** Most catalog changes replayed on resume; further behind, the kiosk is told to refetch. */
  readonly replayMax: number
  /** Sent as the stream's `retry:` field: how long a client waits to reconnect. */
  readonly reconnectMs: number
}

export const defaultKioskEventsSettings: KioskEventsSettings = { heartbeatMs: 15_000, replayMax: 500, reconnectMs: 2_000 }

export class KioskEventsConfig extends Context.Reference<KioskEventsConfig>()("ecoupon/KioskEventsConfig", {
  defaultValue: (): KioskEventsSettings => defaultKioskEventsSettings
}) {}

export interface StreamPosition {
  readonly catalogVersion: number
  readonly desiredVersion: number
}

export const formatEventId = (position: StreamPosition): string => `${position.catalogVersion}.${position.desiredVersion}`

/** `Last-Event-ID` as we issue it; anything else is None (and the kiosk is told to refetch). */
export const parseEventId = (text: string): Option.Option<StreamPosition> => {
  const match = /^(\d{1,15})\.(\d{1,15})$/.exec(text.trim())
  if (match === null) return Option.none()
  return Option.some({ catalogVersion: Number(match[1]), desiredVersion: Number(match[2]) })
}

const encodeChange = Schema.encodeSync(CatalogChange)
const encodeDesired = Schema.encodeSync(DesiredState)

const desiredEvent = (twin: Twin, position: StreamPosition): SseEvent => ({
  id: formatEventId(position),
  event: "desired",
  data: JSON.stringify({ kioskId: twin.kioskId, desiredVersion: twin.desiredVersion, desired: encodeDesired(twin.desired) })
})

/**
 * The event stream of one kiosk, resuming after `lastEventId` when given. It subscribes to the change
 * signals before it reads anything, so nothing committed after it starts can fall between the read and
 * the subscription. Ends when the kiosk is gone.
 */
export const kioskEvents = (
  kioskId: KioskId,
  regionId: RegionId,
  lastEventId: string | undefined
): Stream.Stream<SseEvent, never, Catalog | KioskTwins | ChangeSignals> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const catalog = yield* Catalog
      const twins = yield* KioskTwins
      const settings = yield* KioskEventsConfig
      const signals = yield* (yield* ChangeSignals).subscribe

      let position: StreamPosition = { catalogVersion: 0, desiredVersion: 0 }

      /** Reads the twin (it carries the region's catalog version) and emits what the kiosk has not seen. */
      const catchUp = (events: Array<SseEvent>) =>
        Effect.gen(function* () {
          const twin = yield* twins.get(kioskId)
          const behind = twin.regionCatalogVersion - position.catalogVersion
          if (behind > settings.replayMax) {
            position = { catalogVersion: twin.regionCatalogVersion, desiredVersion: twin.desiredVersion }
            events.push(refetchEvent(`${behind} catalog changes behind; replay covers ${settings.replayMax}`, position))
            return
          }
          while (position.catalogVersion < twin.regionCatalogVersion) {
            const page = yield* catalog.changesSince(regionId, position.catalogVersion).pipe(Effect.orDie)
            if (page.length === 0) break
            for (const change of page) {
              position = { ...position, catalogVersion: change.version }
              events.push({ id: formatEventId(position), event: "catalog", data: JSON.stringify(encodeChange(change)) })
            }
          }
          if (twin.desiredVersion > position.desiredVersion) {
            position = { ...position, desiredVersion: twin.desiredVersion }
            events.push(desiredEvent(twin, position))
          }
        })

      const refetchEvent = (reason: string, at: StreamPosition): SseEvent => ({
        id: formatEventId(at),
        event: "refetch",
        data: JSON.stringify({ reason, catalogVersion: at.catalogVersion, desiredVersion: at.desiredVersion })
      })

      const react = (signal: ChangeSignal): Effect.Effect<ReadonlyArray<SseEvent>, KioskNotFound> =>
        Effect.gen(function* () {
          const events: Array<SseEvent> = []
          switch (signal._tag) {
            case "Catalog": {
              if (signal.regionId !== regionId || signal.version <= position.catalogVersion) return events
              if (signal.change !== undefined && signal.version === position.catalogVersion + 1) {
                position = { ...position, catalogVersion: signal.version }
                events.push({ id: formatEventId(position), event: "catalog", data: JSON.stringify(encodeChange(signal.change)) })
                return events
              }
              break
            }
            case "Desired": {
              if (signal.kioskId !== kioskId || signal.version <= position.desiredVersion) return events
              if (signal.twin !== undefined) {
                position = { ...position, desiredVersion: signal.version }
                events.push(desiredEvent(signal.twin, position))
                return events
              }
              break
            }
            case "Resync":
              break
          }
          yield* catchUp(events)
          return events
        })

      const opening: Array<SseEvent> = []
      const now = yield* twins.get(kioskId).pipe(Effect.option)
      if (Option.isNone(now)) return Stream.empty
      const resumeFrom = lastEventId === undefined ? Option.none() : parseEventId(lastEventId)
      if (lastEventId === undefined) {
        position = { catalogVersion: now.value.regionCatalogVersion, desiredVersion: now.value.desiredVersion }
      } else if (
        Option.isNone(resumeFrom) ||
        resumeFrom.value.catalogVersion > now.value.regionCatalogVersion ||
        resumeFrom.value.desiredVersion > now.value.desiredVersion
      ) {
        position = { catalogVersion: now.value.regionCatalogVersion, desiredVersion: now.value.desiredVersion }
        opening.push(refetchEvent("the Last-Event-ID was not issued by this deployment", position))
      } else {
        position = resumeFrom.value
        yield* catchUp(opening).pipe(Effect.orDie)
      }
      opening.push({ id: formatEventId(position), event: "ready", data: JSON.stringify(position) })
      const live = signals.pipe(
        Stream.mapEffect(react),
        Stream.catchTag("KioskNotFound", () => Stream.empty),
        Stream.mapConcat((events) => events)
      )
      const heartbeats = Stream.fromSchedule(Schedule.spaced(Duration.millis(settings.heartbeatMs))).pipe(
        Stream.mapEffect(() => Effect.map(Effect.clockWith((clock) => clock.currentTimeMillis), (atMs): SseEvent => ({ event: "heartbeat", data: JSON.stringify({ atMs }) })))
      )
      // The first event also tells the client how soon to reconnect.
      const start = opening.map((event, index): SseEvent => (index === 0 ? { ...event, retryMs: settings.reconnectMs } : event))
      return Stream.concat(Stream.fromIterable(start), Stream.merge(live, heartbeats, { haltStrategy: "left" }))
    })
  )

/** The stream as an HTTP response: `text/event-stream`, never cached, not buffered by proxies. */
export const kioskEventsResponse = (
  kioskId: KioskId,
  regionId: RegionId,
  lastEventId: string | undefined
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, Catalog | KioskTwins | ChangeSignals> =>
  Effect.map(Effect.context<Catalog | KioskTwins | ChangeSignals>(), (context) =>
    HttpServerResponse.stream(
      kioskEvents(kioskId, regionId, lastEventId).pipe(Stream.map(encodeSseEvent), Stream.encodeText, Stream.provideContext(context)),
      { contentType: "text/event-stream", headers: { "cache-control": "no-store", "x-accel-buffering": "no" } }
    )
  )
