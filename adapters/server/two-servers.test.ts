import { randomUUID } from "node:crypto"
import { HttpRouter, HttpServerRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, Effect, Layer, Random, Schema } from "effect"
import { Catalog } from "../../core/catalog.js"
import { KioskId, MerchantId, OfferId, RegionId } from "../../core/domain/ids.js"
import { Kiosks } from "../../core/kiosks.js"
import { outboxHandler } from "../../core/outbox-handlers.js"
import { Outbox } from "../../core/outbox.js"
import { CoreServicesLive } from "../../core/services.js"
import { registerApprovedMerchant, registerRegions } from "../../core/testing/parties.js"
import { KioskTwins } from "../../core/twin.js"
import { runMigrations } from "../store/migrate.js"
import * as PostgresStore from "../store/postgres.js"
import * as ChangeSignals from "./change-signals.js"
import { kioskEventsResponse } from "./kiosk-events.js"
import { openEventStream } from "./sse-client.js"
import type { ParsedSseEvent } from "./sse-encoding.js"
import { serveForTest } from "./test-http.js"

const databaseUrl = process.env["ECOUPON_TEST_DATABASE_URL"] ?? ""

const seoul = RegionId.make("reg_seoul")
const kiosk = KioskId.make("ksk_1")
const merchant = MerchantId.make("mer_1")

const app = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/kiosks/:kioskId/events",
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      return yield* kioskEventsResponse(kiosk, seoul, request.headers["last-event-id"])
    })
  )
)

const SqlClientTag = SqlClient.SqlClient

class SharedUrl extends Context.Tag("test/SharedUrl")<SharedUrl, string>() {}

/** One schema for the run, dropped at the end; each "server" is its own pool, core and fan-out on it. */
const sharedSchema = Layer.scoped(
  SharedUrl,
  Effect.gen(function* () {
    const schema = `ecoupon_test_${process.pid}_${randomUUID().slice(0, 8)}`
    yield* Effect.acquireRelease(
      PostgresStore.withAdminClient(databaseUrl, (sql) => sql`CREATE SCHEMA ${sql(schema)}`),
      () => PostgresStore.withAdminClient(databaseUrl, (sql) => sql`DROP SCHEMA ${sql(schema)} CASCADE`).pipe(Effect.ignore)
    ).pipe(Effect.orDie)
    const url = PostgresStore.withSearchPath(databaseUrl, schema)
    yield* PostgresStore.withAdminClient(url, (sql) => Effect.provideService(runMigrations(), SqlClientTag, sql)).pipe(Effect.orDie)
    return url
  })
)

const server = (url: string) =>
  ChangeSignals.layer().pipe(Layer.provideMerge(CoreServicesLive), Layer.provideMerge(Layer.orDie(PostgresStore.layer({ url, maxConnections: 4 }))))

type World = Layer.Layer.Success<ReturnType<typeof server>>

/** Builds a server's services in the current scope and answers a runner for effects on it. */
const startServer = (url: string) =>
  Effect.map(Layer.build(server(url)), (context) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, World>> => Effect.provide(effect, context))

const notBeat = (event: ParsedSseEvent) => event.event !== "heartbeat"

describe.skipIf(databaseUrl === "")("two servers on one PostgreSQL", () => {
  it.live("a kiosk's stream on one server sees a catalog change and a desired-state change made on the other within a second", () =>
    Effect.gen(function* () {
      const url = yield* SharedUrl
      const onA = yield* startServer(url)
      const onB = yield* startServer(url)
      yield* onB(
        Effect.gen(function* () {
          yield* registerRegions([[seoul, "Seoul"]])
          yield* (yield* Kiosks).register({ id: kiosk, regionId: seoul, name: "Station", binCapacity: 10 })
          yield* registerApprovedMerchant({ id: merchant, name: "Cafe" })
        })
      )
      expect(yield* onA(Effect.map(ChangeSignals.ChangeSignals, (signals) => signals.fanOut))).toBe("postgres")
      const base = yield* serveForTest(app).pipe(onA)
      const stream = yield* openEventStream(`${base}/kiosks/${kiosk}/events`, {})
      expect((yield* stream.next(notBeat, 5_000)).event).toBe("ready")

      // Registering the merchant bumped nothing yet (it had no offers); the offer is version 1.
      const postedAt = yield* Clock.currentTimeMillis
      yield* onB(Effect.flatMap(Catalog, (catalog) =>
        catalog.upsertOffer({ offerId: OfferId.make("off_1"), merchantId: merchant, title: "Tea", pricePoints: 100, stock: 5, validFromMs: 0, validUntilMs: 4e12, couponValidityMs: 1e9, regions: [seoul] })
      ))
      const change = yield* stream.next(notBeat, 1_000)
      expect([change.event, JSON.parse(change.data).offerId]).toEqual(["catalog", "off_1"])
      yield* onB(Effect.flatMap(KioskTwins, (twins) => twins.setDesired(kiosk, { enabled: false })))
      const desired = yield* stream.next(notBeat, 1_000)
      expect([desired.event, desired.id]).toEqual(["desired", `${JSON.parse(change.data).version}.2`])
      expect((yield* Clock.currentTimeMillis) - postedAt).toBeLessThan(2_000)
    }).pipe(Effect.scoped, Effect.provide(sharedSchema), Effect.withRandom(Random.make(3))))

  it.live("outbox workers on both servers racing over the same rows send every message once in all", () =>
    Effect.gen(function* () {
      const url = yield* SharedUrl
      const onA = yield* startServer(url)
      const onB = yield* startServer(url)
      const messagesCount = 200
      yield* onA(
        Effect.flatMap(Outbox, (outbox) =>
          Effect.forEach(Array.from({ length: messagesCount }, (_, i) => i), (i) => outbox.enqueue({ kind: "test.ping", idempotencyKey: `ping-${i}`, payload: { n: i } }), { discard: true })
        )
      )
      const sent = new Map<number, number>()
      const handler = outboxHandler({
        payload: Schema.Struct({ n: Schema.Int }),
        // Yields, so the other server's claims interleave with this one's sends.
        send: ({ n }) => Effect.zipRight(Effect.yieldNow(), Effect.sync(() => void sent.set(n, (sent.get(n) ?? 0) + 1)))
      })
      const drain = Effect.flatMap(Outbox, (outbox) =>
        outbox.dispatchDue({ handlers: { "test.ping": handler }, limit: 10, concurrency: 4 }).pipe(Effect.repeat({ until: (summary) => summary.claimed === 0 }))
      )
      const [, , a, b] = yield* Effect.all([onA(drain), onB(drain), onA(drain), onB(drain)], { concurrency: "unbounded" })
      expect([a.claimed, b.claimed]).toEqual([0, 0])
      expect(sent.size).toBe(messagesCount)
      expect([...sent.values()].every((times) => times === 1)).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(sharedSchema), Effect.withRandom(Random.make(4))))
})
