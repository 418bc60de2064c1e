import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Duration, Effect, Schedule, Schema, Stream } from "effect"
import { FleetOverview } from "../../core/domain/fleet-overview.js"
import { FleetOverviews } from "../../core/fleet-overview.js"
import { EcouponApi } from "../http-api/api.js"

/** How often a connected dashboard's overview is recomputed, and how often a quiet stream says it lives. */
export const FLEET_EVENTS_POLL = Duration.seconds(2)
export const FLEET_EVENTS_HEARTBEAT = Duration.seconds(15)

const encodeOverview = Schema.encodeSync(FleetOverview)
const encoder = new TextEncoder()

/**
 * The overview as server-sent events. The overview is derived from many tables that change through
 * every service, so rather than hook each write the stream recomputes it every couple of seconds and
 * sends it only when something other than its timestamp changed: cheap for the handful of operators
 * watching, and nothing is missed. A heartbeat comment keeps proxies from closing a quiet stream.
 */
export const fleetEvents = (overviews: FleetOverviews) => {
  const overviews$ = Stream.repeatEffectWithSchedule(overviews.snapshot(), Schedule.spaced(FLEET_EVENTS_POLL)).pipe(
    Stream.map((overview) => {
      const encoded = encodeOverview(overview)
      return { key: JSON.stringify({ ...encoded, atMs: 0 }), data: JSON.stringify(encoded) }
    }),
    Stream.changesWith((a, b) => a.key === b.key),
    Stream.zipWithIndex,
    Stream.map(([event, index]) => `id: ${index + 1}\nevent: overview\ndata: ${event.data}\n\n`)
  )
  const heartbeats = Stream.tick(FLEET_EVENTS_HEARTBEAT).pipe(Stream.drop(1), Stream.as(": heartbeat\n\n"))
  return Stream.merge(overviews$, heartbeats, { haltStrategy: "left" }).pipe(Stream.map((text) => encoder.encode(text)))
}

export const FleetHttpLive = HttpApiBuilder.group(EcouponApi, "fleet", (handlers) =>
  Effect.gen(function* () {
    const overviews = yield* FleetOverviews
    return handlers
      .handle("overview", () => overviews.snapshot())
      .handle("events", () =>
        Effect.succeed(
          HttpServerResponse.stream(fleetEvents(overviews), {
            contentType: "text/event-stream",
            headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
          })
        )
      )
  })
)
