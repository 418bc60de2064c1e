import { Context, Effect, Exit, Layer, Random, Scope } from "effect"
import { CarrierBilling } from "../core/ports/carrier-billing.js"
import { PayoutGateway } from "../core/ports/payout-gateway.js"
import { ProviderGateway } from "../core/ports/provider-gateway.js"
import { SmsGateway } from "../core/ports/sms-gateway.js"
import { CoreServicesLive } from "../core/services.js"
import type { SqljsDatabase } from "../adapters/store/sqljs-database.js"
import * as SqljsClient from "../adapters/store/sqljs-client.js"
import { type CardFactory, makeCardFactory, type SimCard } from "../sim/card-memory.js"
import { instantCardUnitTiming, makeSimCardUnit } from "../sim/card-unit.js"
import { makeSimCarrier } from "../sim/carrier.js"
import { always, never } from "../sim/faults.js"
import { type OutsideWorld, servicesFrom, type Services } from "../sim/fleet-world.js"
import { makeSimPayouts } from "../sim/payouts.js"
import { makeSimPrinter } from "../sim/printer.js"
import { makeSimProviders } from "../sim/providers.js"
import { deriveSeed } from "../sim/rng.js"
import { makeSimSms } from "../sim/sms.js"
import { VirtualTime } from "../sim/virtual-time.js"
import type { KioskId } from "../core/domain/ids.js"
import { deployment, deploymentNames } from "./deployment.js"
import { localServerSide } from "./server-side.js"
import { deploymentImage, openDeploymentStore, providerCatalogs } from "./deployment-store.js"
import { officeOf } from "./office.js"
import { makeStation, type StationParts } from "./station.js"
import type { OpenOptions, Registry, ScenarioEnv, ScenarioLayer, Station, System } from "./system.js"

/**
 * The `sim` layer: the real core services on a fresh in-memory sql.js database, every port on its sim
 * layer (card units and printers per kiosk, SMS, carrier, provider servers, payouts), all on the
 * fleet's deterministic virtual-time loop. A run costs milliseconds of real time however many days
 * it lets pass, and one seed gives one run, byte for byte.
 */

/** The outside services every layer shares: the sim SMS gateway, carrier, provider servers and payouts. */
export const makeOutside = (seed: number) =>
  Effect.gen(function* () {
    const device = (name: string) => ({ seed: deriveSeed(seed, name) })
    const sms = yield* makeSimSms({ ...device("sms"), inboxKeptMax: 3 })
    const carrier = yield* makeSimCarrier(device("carrier"))
    const providers = yield* makeSimProviders({ ...device("providers"), merchants: providerCatalogs() })
    const payouts = yield* makeSimPayouts(device("payouts"))
    const outside: OutsideWorld = {
      context: Context.make(SmsGateway, sms.port).pipe(Context.add(CarrierBilling, carrier.port), Context.add(ProviderGateway, providers.port), Context.add(PayoutGateway, payouts.port)),
      sms: sms.control,
      carrier: carrier.control,
      providers: providers.control,
      payouts: payouts.control
    }
    return outside
  })

export const emptyRegistry = (): Registry => ({ users: deployment.phones.map(() => undefined), coupons: [], cards: [], redemptions: [], orders: [] })

/** How a kiosk's sim devices move: on virtual time their mechanics cost nothing; in real time (the http layer) they are instant. */
export interface SimStationOptions {
  /** The card unit's and printer's mechanics take no time at all. */
  readonly instant: boolean
  /** How long the customer takes to pick a card from the gate. */
  readonly takeAfterMs: number
  /** The kiosk's backend, when not the in-process one. */
  readonly backend?: StationParts["backend"]
}

const virtualStation: SimStationOptions = { instant: false, takeAfterMs: 1_000 }

/** One kiosk's sim card unit and printer, the customer's hand through the unit's control. */
export const simStation = (index: number, seed: number, cards: CardFactory, services: Services | undefined, options: SimStationOptions = virtualStation, id: KioskId = deployment.kiosks[index] ?? deployment.kiosks[0]) =>
  Effect.gen(function* () {
    // Seeded by the deployment's own name of the kiosk, whatever this run calls it: the same devices on every layer.
    const named = deployment.kiosks[index] ?? deployment.kiosks[0]
    const unit = yield* makeSimCardUnit({
      seed: deriveSeed(seed, `kiosk:${named}:card`),
      cards,
      stackerCards: deployment.stackerCards,
      stackerCapacity: 250,
      binCapacity: deployment.binCapacity,
      takeAfterMs: options.takeAfterMs,
      takenKeptMax: 16,
      ...(options.instant ? { timing: instantCardUnitTiming } : {})
    })
    const printer = yield* makeSimPrinter({ seed: deriveSeed(seed, `kiosk:${named}:printer`), pagesKeptMax: 4, ...(options.instant ? { printMsPerMm: 0 } : {}) })
    return yield* makeStation(
      {
        index,
        id,
        cardUnit: unit.port,
        printer: printer.port,
        hand: {
          willTake: (take) => unit.control.planHandOver(take ? { _tag: "Take", afterMs: options.takeAfterMs } : { _tag: "Leave" }),
          takeLast: Effect.map(unit.control.drainTaken, (taken) => taken.at(-1)),
          offer: (card) => unit.control.insertAtGate(card as SimCard)
        },
        // The operator clears a jam: the knob off, then the unit initialised again.
        setJam: (on) =>
          on ? unit.control.setFault("card.jam", always) : Effect.zipRight(unit.control.setFault("card.jam", never), Effect.ignore(unit.port.initialise("hold"))),
        ...(options.backend !== undefined ? { backend: options.backend } : {})
      },
      services
    )
  })

/**
 * The core services over one in-memory store, built once and lent to one run at a time. A run starts
 * by replacing the store's database with a fresh copy of the deployment's image
 * (`SqljsDatabase.reopen`), so it sees nothing an earlier run wrote; what it is spared is building the
 * nineteen services again, which was most of what opening a system cost. The services keep nothing
 * of their own between calls (their state is the store's); their two change streams (catalog, twins'
 * desired state) have no subscriber here. The kiosks, devices, outside services, registry, clock and
 * randomness stay the run's own. Built with a fixed seed and clock, so a run is the same whichever
 * core it gets, fresh or lent before (the determinism check compares exactly that).
 */
interface SharedCore {
  readonly scope: Scope.CloseableScope
  readonly store: SqljsClient.SqljsStoreService
  readonly services: Services
}

/** Cores between two runs; more are built when runs overlap. */
const idleCores: Array<SharedCore> = []
const IDLE_CORES_MAX = 4

const buildCore = async (): Promise<SharedCore> => {
  const scope = Effect.runSync(Scope.make())
  try {
    const store = await openDeploymentStore(scope)
    const exit = new VirtualTime(deployment.startMs).run(
      Effect.gen(function* () {
        const core = yield* Layer.buildWithScope(CoreServicesLive, scope).pipe(Effect.provide(store))
        return yield* Effect.provide(servicesFrom, Context.merge(core, store))
      }).pipe(Effect.withRandom(Random.make("scenarios-core")), Effect.withTracerEnabled(false))
    )
    if (Exit.isFailure(exit)) throw new Error(`could not build the core services for the sim layer: ${String(exit.cause)}`)
    return { scope, store: Context.get(store, SqljsClient.SqljsStore), services: exit.value }
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
}

/**
 * Runs `use` on the core's database holding the store's lock, in a moment of virtual time of its own;
 * false if the lock cannot be had (a fiber a run abandoned mid-transaction still holds it).
 */
const withDatabase = (core: SharedCore, use: (db: SqljsDatabase) => void): boolean =>
  Exit.isSuccess(new VirtualTime(deployment.startMs).run(core.store.exclusive((db) => Effect.sync(() => use(db)))))

const lendCore = async (observer: OpenOptions["sqlObserver"]): Promise<SharedCore> => {
  const image = await deploymentImage()
  for (;;) {
    const core = idleCores.pop() ?? (await buildCore())
    const fresh = withDatabase(core, (db) => {
      db.reopen(image)
      db.observer = observer
    })
    if (fresh) return core
    // Never the case for a core that was returned healthy (see `returnCore`); dropped, not closed: closing waits for the lock.
  }
}

/** Back to the pool once nothing holds its lock; otherwise dropped (closing it would wait for the lock forever). */
const returnCore = async (core: SharedCore): Promise<void> => {
  const free = withDatabase(core, (db) => {
    db.observer = undefined
  })
  if (!free) return
  if (idleCores.length < IDLE_CORES_MAX) idleCores.push(core)
  else await Effect.runPromise(Scope.close(core.scope, Exit.void))
}

const openSim = async (options: OpenOptions): Promise<System> => {
  const core = await lendCore(options.sqlObserver)
  let returned = false
  const giveBack = async () => {
    if (returned) return
    returned = true
    await returnCore(core)
  }
  try {
    const time = new VirtualTime(deployment.startMs)
    const random = Random.make(options.seed)
    const inTime = <A>(effect: Effect.Effect<A>): A => {
      const exit = time.run(effect.pipe(Effect.withRandom(random), Effect.withTracerEnabled(false)))
      if (Exit.isFailure(exit)) throw new Error(`the sim layer failed at virtual ${new Date(time.nowMs).toISOString()}: ${String(exit.cause)}`)
      return exit.value
    }
    const env = inTime(
      Effect.gen(function* () {
        const services = options.wrap === undefined ? core.services : options.wrap(core.services)
        const outside = yield* makeOutside(options.seed)
        const cards = makeCardFactory()
        const stations: Array<Station> = []
        for (let k = 0; k < deployment.kiosks.length; k++) stations.push(yield* simStation(k, options.seed, cards, services))
        for (const station of stations) yield* station.flow.startup
        const advance = (ms: number) => Effect.sleep(ms)
        const env: ScenarioEnv = { layer: "sim", names: deploymentNames, server: localServerSide(services, outside, advance), office: officeOf(services), stations, registry: emptyRegistry(), advance, handMs: 0 }
        return env
      })
    )
    return {
      layer: "sim",
      run: (step) => {
        if (returned) return Promise.reject(new Error("this sim system is closed"))
        return Promise.resolve().then(() => inTime(step(env)))
      },
      close: giveBack
    }
  } catch (error) {
    await giveBack()
    throw error
  }
}

export const simLayer: ScenarioLayer = { name: "sim", open: openSim }
