import { createHash, randomUUID } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Context, Deferred, Duration, Effect, Layer, Option, PubSub, Schedule, Schema, type Scope, Stream } from "effect"
import { Catalog } from "../../core/catalog.js"
import type { CatalogChange } from "../../core/domain/catalog.js"
import { KioskId, RegionId } from "../../core/domain/ids.js"
import type { Twin } from "../../core/domain/twin.js"
import { KioskTwins } from "../../core/twin.js"

/**
 * What a kiosk's event stream wakes up for. A signal says only that something moved to `version`;
 * the stream reads what it needs from the database, so a signal lost or repeated does no harm. A
 * signal from this process carries the change itself (`change`/`twin`), which spares that read when it
 * is the very next version.
 */
export type ChangeSignal =
  | { readonly _tag: "Catalog"; readonly regionId: RegionId; readonly version: number; readonly change: CatalogChange | undefined }
  | { readonly _tag: "Desired"; readonly kioskId: KioskId; readonly version: number; readonly twin: Twin | undefined }
  /** Something may have been missed (the fan-out reconnected, or its periodic check): read everything again. */
  | { readonly _tag: "Resync" }

export interface ChangeSignalsService {
  /** Subscribes now; nothing signalled after this returns is missed (unless the subscriber falls `bufferMax` behind). */
  readonly subscribe: Effect.Effect<Stream.Stream<ChangeSignal>, never, Scope.Scope>
  /** "local": this process's changes only (the embedded store has one server). "postgres": LISTEN/NOTIFY across servers. */
  readonly fanOut: "local" | "postgres"
}

export class ChangeSignals extends Context.Tag("ecoupon/ChangeSignals")<ChangeSignals, ChangeSignalsService>() {}

export interface ChangeSignalsSettings {
  /** Signals a slow subscriber may fall behind before the oldest are dropped (it catches up on the next one). */
  readonly bufferMax: number
  /** PostgreSQL: how often every stream re-reads its state, which heals a notification lost with a server that died between commit and NOTIFY. */
  readonly resyncIntervalMs: number
  /** PostgreSQL: the longest wait between attempts to listen again after the connection broke. */
  readonly reconnectMaxMs: number
}

export const defaultChangeSignalsSettings: ChangeSignalsSettings = { bufferMax: 4_096, resyncIntervalMs: 30_000, reconnectMaxMs: 5_000 }

/** What crosses between servers in a NOTIFY payload (well under PostgreSQL's 8000 bytes). */
const Notification = Schema.Union(
  Schema.Struct({ k: Schema.Literal("c"), o: Schema.String, r: RegionId, v: Schema.Int }),
  Schema.Struct({ k: Schema.Literal("d"), o: Schema.String, id: KioskId, v: Schema.Int }),
  Schema.Struct({ k: Schema.Literal("hello"), o: Schema.String, t: Schema.String })
)
const decodeNotification = Schema.decodeUnknownOption(Schema.parseJson(Notification))
const encodeNotification = Schema.encodeSync(Schema.parseJson(Notification))

/**
 * One channel per schema, so deployments (and test runs) sharing a database do not hear each other.
 * Channel names are identifiers of at most 63 bytes, hence the hash.
 */
const channelFor = (schema: string): string => `ecoupon_changes_${createHash("sha256").update(schema).digest("hex").slice(0, 24)}`

const CurrentSchema = Schema.Array(Schema.Struct({ schema: Schema.String }))

const LISTEN_CONFIRM_TIMEOUT_MS = 10_000
const HELLO_INTERVAL_MS = 100

/**
 * The hub every kiosk event stream of this server subscribes to. The core publishes each committed
 * catalog or desired-state change in-process; on the embedded store that is all there is (one server
 * per store). On PostgreSQL several servers share the database, so each also NOTIFYs its changes on a
 * channel of the schema and LISTENs for the others' (DESIGN §6). Which of the two is decided by whether
 * a `PgClient` is in the context: the PostgreSQL store layer provides one, the embedded one does not.
 */
export const layer = (settings: ChangeSignalsSettings = defaultChangeSignalsSettings): Layer.Layer<ChangeSignals, never, Catalog | KioskTwins | SqlClient.SqlClient> =>
  Layer.scoped(
    ChangeSignals,
    Effect.gen(function* () {
      const catalog = yield* Catalog
      const twins = yield* KioskTwins
      const hub = yield* Effect.acquireRelease(PubSub.sliding<ChangeSignal>(Math.max(1, settings.bufferMax)), PubSub.shutdown)
      const publish = (signal: ChangeSignal) => PubSub.publish(hub, signal)
      const pg = yield* Effect.serviceOption(PgClient.PgClient)
      const origin = randomUUID()
      const sql = yield* SqlClient.SqlClient
      const channel = Option.isSome(pg) ? yield* channelOfSchema : ""
      const notify = (payload: typeof Notification.Type) =>
        Option.isNone(pg)
          ? Effect.void
          : pgNotify(sql, channel, payload).pipe(
              Effect.catchAll((error) => Effect.logWarning(`could not notify other servers of a change (they catch up at their next resync): ${error.message}`))
            )

      const catalogChanges = yield* catalog.subscribeAll
      yield* catalogChanges.pipe(
        Stream.runForEach((change) =>
          Effect.zipRight(
            publish({ _tag: "Catalog", regionId: change.regionId, version: change.version, change }),
            notify({ k: "c", o: origin, r: change.regionId, v: change.version })
          )
        ),
        Effect.forkScoped
      )
      const desiredChanges = yield* twins.subscribeAllDesired
      yield* desiredChanges.pipe(
        Stream.runForEach((twin) =>
          Effect.zipRight(
            publish({ _tag: "Desired", kioskId: twin.kioskId, version: twin.desiredVersion, twin }),
            notify({ k: "d", o: origin, id: twin.kioskId, v: twin.desiredVersion })
          )
        ),
        Effect.forkScoped
      )

      if (Option.isSome(pg)) {
        yield* listenAcrossServers(pg.value, sql, channel, origin, settings, publish)
        yield* publish({ _tag: "Resync" }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(settings.resyncIntervalMs))), Effect.forkScoped)
      }

      return {
        subscribe: Effect.map(PubSub.subscribe(hub), (queue) => Stream.fromQueue(queue)),
        fanOut: Option.isSome(pg) ? "postgres" : "local"
      } satisfies ChangeSignalsService
    })
  )

/**
 * `pg_notify` rather than the client's `notify`: @effect/sql-pg 0.53 sends `NOTIFY channel, $1`, which
 * PostgreSQL refuses (NOTIFY takes no bind parameters).
 */
const pgNotify = (sql: SqlClient.SqlClient, channel: string, payload: typeof Notification.Type) =>
  Effect.asVoid(sql`SELECT pg_notify(${channel}, ${encodeNotification(payload)})`)

const channelOfSchema = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql`SELECT current_schema() AS schema`.pipe(Effect.flatMap(Schema.decodeUnknown(CurrentSchema)), Effect.orDie)
  return channelFor(rows[0]?.schema ?? "public")
})

/**
 * LISTENs on the channel for as long as the scope lives, listening again (with backoff) whenever the
 * connection breaks. Each time it listens it NOTIFYs itself a hello until one comes back: only then is
 * the LISTEN known to be in place, and a Resync tells every stream to read what it may have missed
 * meanwhile. The layer is ready once the first hello is back, so a change made anywhere after that is
 * heard here.
 */
const listenAcrossServers = (
  pg: PgClient.PgClient,
  sql: SqlClient.SqlClient,
  channel: string,
  origin: string,
  settings: ChangeSignalsSettings,
  publish: (signal: ChangeSignal) => Effect.Effect<boolean>
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const firstListen = yield* Deferred.make<void>()
    const session = Effect.gen(function* () {
      const token = randomUUID()
      const heard = yield* Deferred.make<void>()
      const hello = pgNotify(sql, channel, { k: "hello", o: origin, t: token }).pipe(
        Effect.ignore,
        Effect.zipRight(Deferred.isDone(heard)),
        Effect.repeat({ until: (done) => done, schedule: Schedule.spaced(Duration.millis(HELLO_INTERVAL_MS)) }),
        Effect.timeout(Duration.millis(LISTEN_CONFIRM_TIMEOUT_MS)),
        Effect.ignore
      )
      yield* Effect.forkScoped(hello)
      yield* pg.listen(channel).pipe(
        Stream.runForEach((payload) => {
          const notification = decodeNotification(payload)
          if (Option.isNone(notification)) return Effect.logWarning(`ignored a notification on ${channel} that is not ours`)
          const message = notification.value
          if (message.k === "hello") {
            if (message.o !== origin || message.t !== token) return Effect.void
            return Effect.zipRight(Deferred.succeed(heard, undefined), Effect.zipRight(Deferred.succeed(firstListen, undefined), publish({ _tag: "Resync" })))
          }
          // Our own changes went to the hub already, with their contents.
          if (message.o === origin) return Effect.void
          return message.k === "c"
            ? publish({ _tag: "Catalog", regionId: message.r, version: message.v, change: undefined })
            : publish({ _tag: "Desired", kioskId: message.id, version: message.v, twin: undefined })
        })
      )
      return yield* Effect.fail(new Error("the LISTEN connection closed"))
    }).pipe(Effect.scoped)
    yield* session.pipe(
      Effect.tapError((error) => Effect.logWarning(`listening for other servers' changes failed; listening again: ${error.message}`)),
      Effect.retry(Schedule.exponential(Duration.millis(100)).pipe(Schedule.union(Schedule.spaced(Duration.millis(settings.reconnectMaxMs))))),
      Effect.forkScoped
    )
    yield* Deferred.await(firstListen).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(LISTEN_CONFIRM_TIMEOUT_MS),
        onTimeout: () => new Error(`LISTEN on ${channel} was not confirmed within ${LISTEN_CONFIRM_TIMEOUT_MS} ms`)
      }),
      Effect.orDie
    )
  })
