import { HttpRouter, HttpServerRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Random } from "effect"
import { Catalog } from "../../core/catalog.js"
import { KioskId, MerchantId, OfferId, RegionId } from "../../core/domain/ids.js"
import { Kiosks } from "../../core/kiosks.js"
import { CoreServicesLive } from "../../core/services.js"
import { registerApprovedMerchant, registerRegions } from "../../core/testing/parties.js"
import { KioskTwins } from "../../core/twin.js"
import { sqljsTestLayer } from "../store/testing.js"
import * as ChangeSignals from "./change-signals.js"
import { KioskEventsConfig, kioskEventsResponse, parseEventId } from "./kiosk-events.js"
import { openEventStream } from "./sse-client.js"
import type { ParsedSseEvent } from "./sse-encoding.js"
import { serveForTest } from "./test-http.js"

const seoul = RegionId.make("reg_seoul")
const busan = RegionId.make("reg_busan")
const kiosk = KioskId.make("ksk_1")
const merchant = MerchantId.make("mer_1")

const offer = (n: number, regionId: RegionId = seoul) =>
  Effect.flatMap(Catalog, (catalog) =>
    catalog.upsertOffer({ offerId: OfferId.make(`off_${n}`), merchantId: merchant, title: `Tea ${n}`, pricePoints: 100, stock: 5, validFromMs: 0, validUntilMs: 4e12, couponValidityMs: 1e9, regions: [regionId] })
  )

// The kiosk's identity comes from its key once the server's auth is in front; here from the path.
const app = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/kiosks/:kioskId/events",
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const { kioskId } = yield* HttpRouter.params
      return yield* kioskEventsResponse(KioskId.make(kioskId ?? ""), seoul, request.headers["last-event-id"])
    })
  )
)

const world = ChangeSignals.layer().pipe(Layer.provideMerge(CoreServicesLive), Layer.provideMerge(sqljsTestLayer))

const setup = Effect.gen(function* () {
  yield* registerRegions([[seoul, "Seoul"], [busan, "Busan"]])
  yield* (yield* Kiosks).register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 10 })
  yield* registerApprovedMerchant({ id: merchant, name: "Cafe" })
})

const data = (event: ParsedSseEvent): unknown => JSON.parse(event.data)
const named = (name: string) => (event: ParsedSseEvent) => event.event === name
/** Anything but a heartbeat, which may come between any two events. */
const notBeat = (event: ParsedSseEvent) => event.event !== "heartbeat"

describe("a kiosk's event stream over HTTP (embedded store)", () => {
  it.live("sends catalog and desired-state changes with ids, heartbeats, and resumes from Last-Event-ID", () =>
    Effect.gen(function* () {
      yield* setup
      const base = yield* serveForTest(app)
      const url = `${base}/kiosks/${kiosk}/events`

      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const stream = yield* openEventStream(url, {})
          expect(stream.status).toBe(200)
          const ready = yield* stream.next(notBeat, 5_000)
          expect([ready.event, ready.id, data(ready)]).toEqual(["ready", "0.1", { catalogVersion: 0, desiredVersion: 1 }])
          yield* offer(1, busan) // another region's change is not this kiosk's business
          yield* offer(2)
          const change = yield* stream.next(notBeat, 5_000)
          expect([change.event, change.id]).toEqual(["catalog", "1.1"])
          expect(data(change)).toMatchObject({ regionId: seoul, version: 1, change: "upsert", offerId: "off_2" })
          yield* (yield* KioskTwins).setDesired(kiosk, { enabled: false })
          const desired = yield* stream.next(notBeat, 5_000)
          expect([desired.event, desired.id]).toEqual(["desired", "1.2"])
          expect(data(desired)).toMatchObject({ kioskId: kiosk, desiredVersion: 2, desired: { enabled: false } })
          const beat = yield* stream.next(named("heartbeat"), 5_000)
          expect(typeof (data(beat) as { atMs: unknown }).atMs).toBe("number")
          return desired.id
        })
      )

      // While the kiosk is away: two catalog changes and a desired-state change.
      yield* offer(3)
      yield* offer(4)
      yield* (yield* KioskTwins).setDesired(kiosk, { enabled: true })
      yield* Effect.scoped(
        Effect.gen(function* () {
          const stream = yield* openEventStream(url, { "last-event-id": first ?? "" })
          const replayed = [yield* stream.next(notBeat, 5_000), yield* stream.next(notBeat, 5_000), yield* stream.next(notBeat, 5_000), yield* stream.next(notBeat, 5_000)]
          expect(replayed.map((event) => [event.event, event.id])).toEqual([["catalog", "2.2"], ["catalog", "3.2"], ["desired", "3.3"], ["ready", "3.3"]])
          expect(replayed.slice(0, 2).map((event) => (data(event) as { offerId: string }).offerId)).toEqual(["off_3", "off_4"])
        })
      )

      // Too far behind for the bounded replay, or an id never issued: refetch.
      yield* Effect.scoped(
        Effect.gen(function* () {
          // A server whose replay covers two changes.
          const tight = yield* serveForTest(app)
          const stream = yield* openEventStream(`${tight}/kiosks/${kiosk}/events`, { "last-event-id": "0.1" })
          const refetch = yield* stream.next(notBeat, 5_000)
          expect([refetch.event, refetch.id]).toEqual(["refetch", "3.3"])
          expect(data(refetch)).toMatchObject({ catalogVersion: 3, desiredVersion: 3 })
          expect((yield* stream.next(notBeat, 5_000)).event).toBe("ready")
        })
      ).pipe(Effect.provideService(KioskEventsConfig, { heartbeatMs: 100, replayMax: 2, reconnectMs: 1000 }))
      for (const id of ["garbage", "9.1", "1.9"]) {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const stream = yield* openEventStream(url, { "last-event-id": id })
            expect((yield* stream.next(notBeat, 5_000)).event).toBe("refetch")
          })
        )
      }
    }).pipe(
      Effect.scoped,
      Effect.provideService(KioskEventsConfig, { heartbeatMs: 100, replayMax: 100, reconnectMs: 1000 }),
      Effect.provide(world),
      Effect.withRandom(Random.make(9))
    ))

  it("parses only the ids it issues", () => {
    expect(Option.getOrNull(parseEventId("12.3"))).toEqual({ catalogVersion: 12, desiredVersion: 3 })
    for (const bad of ["", "12", "1.2.3", "-1.2", "1e3.1", "99999999999999999.1"]) expect(parseEventId(bad)._tag).toBe("None")
  })
})
