import { HttpClient, HttpServer } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Exit, Layer, Random, Scope } from "effect"
import { Auditor } from "../core/audit.js"
import { Cards } from "../core/cards.js"
import { Catalog } from "../core/catalog.js"
import type { MerchantId } from "../core/domain/ids.js"
import { Housekeeping } from "../core/housekeeping.js"
import { Institutions } from "../core/institutions.js"
import { Kiosks } from "../core/kiosks.js"
import { Merchants } from "../core/merchants.js"
import { OrderFlowHandlers } from "../core/orders-outbox.js"
import { Orders } from "../core/orders.js"
import { Outbox } from "../core/outbox.js"
import { Redemptions } from "../core/redemption.js"
import { Regions } from "../core/regions.js"
import { CoreServicesLive } from "../core/services.js"
import { Settlements } from "../core/settlement.js"
import { KioskTwins } from "../core/twin.js"
import { Users } from "../core/users.js"
import { KioskBackendHttp } from "../adapters/http-client/kiosk-backend-http.js"
import { ApiKeys } from "../adapters/server/credentials/api-keys.js"
import { MasterKey, masterKeyOf } from "../adapters/server/credentials/master-key.js"
import { MerchantSecrets } from "../adapters/server/credentials/merchant-secrets.js"
import { HTTP_DEFAULTS, httpServerLive } from "../adapters/server/http-server.js"
import * as DurableStore from "../adapters/store/durable-store.js"
import { storeFiles } from "../adapters/store/recovery.js"
import { writeSnapshot } from "../adapters/store/snapshot-file.js"
import { makeCardFactory } from "../sim/card-memory.js"
import { servicesFrom, type Services } from "../sim/fleet-world.js"
import { deployment, deploymentNames } from "./deployment.js"
import { localServerSide } from "./server-side.js"
import { deploymentImage } from "./deployment-store.js"
import { emptyRegistry, makeOutside, simStation } from "./layer-sim.js"
import { makeHttpOffice } from "./office-http.js"
import { offsetClock } from "./offset-clock.js"
import type { OpenOptions, ScenarioEnv, ScenarioLayer, Station, System } from "./system.js"

/**
 * The `http` layer: the runner starts the management server (the same HTTP stack `ecoupon serve`
 * runs: adapters/server/http-server.ts over the core services) in this process, on 127.0.0.1 and a
 * port the OS chooses, on a temporary embedded store (the durable store in a fresh directory under the
 * system's temporary directory, seeded with the scenario deployment's image, removed on close). Then:
 * - each kiosk's flow runs here over sim devices and talks to the server through the kiosk agent's
 *   HTTP `KioskBackend` (adapters/http-client/kiosk-backend-http.ts) with its own kiosk key;
 * - merchants redeem and roll back through the merchants API with their keys, an operator grants,
 *   settles and audits through the operators API, provider servers push their catalogs through the
 *   providers webhook, signed with the merchant's secret (`office-http.ts`);
 * - the server's own work (the outbox worker's rounds, the back office's expiry and overdue sweeps)
 *   is run by the runner between steps, at the points the scenario needs it, instead of on the
 *   server's timers: the model says what must be true after each step, so the step cannot race a
 *   timer. The runner also reads the server's store to compare balances with the model.
 *
 * Time: the server runs on a clock it takes from the runner when the runner starts it (in process,
 * the server is built under the runner's clock): the real clock plus an offset, as on the serial
 * layer. Requests take real time; letting days pass moves the offset for the kiosks and the server
 * alike. (In a separate process the server would need a test clock of its own; in process it is
 * the same clock object, so the two can never disagree.)
 */

/** How long the customer waits before taking a card presented at the gate (real time). */
const TAKE_AFTER_MS = 20

/** The core services as a context, so a defect-wrapped set replaces the real one under the server's handlers. */
const contextOfServices = (services: Services) =>
  Context.make(Users, services.users).pipe(
    Context.add(Orders, services.orders),
    Context.add(Cards, services.cards),
    Context.add(Catalog, services.catalog),
    Context.add(Merchants, services.merchants),
    Context.add(Kiosks, services.kiosks),
    Context.add(KioskTwins, services.twins),
    Context.add(Regions, services.regions),
    Context.add(Institutions, services.institutions),
    Context.add(Redemptions, services.redemptions),
    Context.add(Settlements, services.settlements),
    Context.add(Outbox, services.outbox),
    Context.add(OrderFlowHandlers, services.orderHandlers),
    Context.add(Auditor, services.auditor),
    Context.add(Housekeeping, services.housekeeping),
    Context.add(SqlClient.SqlClient, services.sql)
  )

const openHttp = async (options: OpenOptions): Promise<System> => {
  const scope = Effect.runSync(Scope.make())
  const time = offsetClock()
  time.startAt(deployment.startMs)
  const random = Random.make(options.seed)
  const provide = <A, E>(effect: Effect.Effect<A, E>) => effect.pipe(Effect.withClock(time.clock), Effect.withRandom(random), Effect.withTracerEnabled(false))
  const directory = await mkdtemp(join(tmpdir(), "ecoupon-scenario-store-"))
  const closeAll = async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await rm(directory, { recursive: true, force: true })
  }
  try {
    await writeSnapshot(storeFiles(directory).snapshot, { seq: 0, image: await deploymentImage() })
    const env = await Effect.runPromise(
      provide(
        Effect.gen(function* () {
          const store = yield* Layer.buildWithScope(DurableStore.layer({ directory, snapshotOnClose: false }), scope)
          const core = yield* Layer.buildWithScope(CoreServicesLive, scope).pipe(Effect.provide(store))
          const real = yield* Effect.provide(servicesFrom, Context.merge(core, store))
          const services = options.wrap === undefined ? real : options.wrap(real)
          const below = Context.merge(Context.merge(store, core), contextOfServices(services)).pipe(Context.add(MasterKey, masterKeyOf(randomBytes(32))))
          const server = yield* Layer.buildWithScope(
            Layer.mergeAll(
              httpServerLive({ host: "127.0.0.1", port: 0, storeDescription: `temporary embedded store in ${directory}`, ...HTTP_DEFAULTS }),
              ApiKeys.Default,
              MerchantSecrets.Default
            ).pipe(Layer.provide(Layer.succeedContext(below))),
            scope
          )
          const address = Context.get(server, HttpServer.HttpServer).address
          const baseUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
          const keys = Context.get(server, ApiKeys)
          const secrets = Context.get(server, MerchantSecrets)
          const merchants = new Map<MerchantId, { readonly key: string; readonly secret: string }>()
          for (const merchantId of deployment.merchants) {
            merchants.set(merchantId, { key: (yield* keys.issue("merchant", merchantId)).credential, secret: (yield* Effect.orDie(secrets.issue(merchantId))).secret })
          }
          const operatorToken = (yield* keys.issue("operator", "scenario runner", "operator")).credential
          const client = Context.get(yield* Layer.buildWithScope(NodeHttpClient.layerUndici, scope), HttpClient.HttpClient)
          const office = yield* makeHttpOffice({ baseUrl, operatorToken, merchants }).pipe(Effect.provideService(HttpClient.HttpClient, client), Scope.extend(scope))
          const outside = yield* makeOutside(options.seed)
          const cards = makeCardFactory()
          const stations: Array<Station> = []
          for (let k = 0; k < deployment.kiosks.length; k++) {
            const kioskKey = (yield* keys.issue("kiosk", deployment.kiosks[k] ?? deployment.kiosks[0])).credential
            const backend = KioskBackendHttp.make({ baseUrl, kioskKey }).pipe(Effect.provideService(HttpClient.HttpClient, client))
            stations.push(yield* simStation(k, options.seed, cards, services, { instant: true, takeAfterMs: TAKE_AFTER_MS, backend }))
          }
          for (const station of stations) yield* station.flow.startup
          const env: ScenarioEnv = { layer: "http", names: deploymentNames, server: localServerSide(services, outside, time.advance), office, stations, registry: emptyRegistry(), advance: time.advance, handMs: TAKE_AFTER_MS }
          return env
        })
      )
    )
    return { layer: "http", run: (step) => Effect.runPromise(provide(step(env))), close: closeAll }
  } catch (error) {
    await closeAll()
    throw error
  }
}

export const httpLayer: ScenarioLayer = { name: "http", open: openHttp }
