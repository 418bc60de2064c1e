import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Exit, Fiber, Layer, Option, Random, Schema, Scope, type Tracer } from "effect"
import * as SqljsClient from "../adapters/store/sqljs-client.js"
import type { SqlValue } from "../adapters/store/sqljs-database.js"
import { runMigrations } from "../adapters/store/migrate.js"
import { AuditReport, formatReport } from "../core/domain/audit.js"
import { OrderId } from "../core/domain/ids.js"
import { defaultHousekeepingSettings, HousekeepingConfig } from "../core/housekeeping.js"
import { DbInt } from "../core/domain/points.js"
import { CatalogConfig, defaultCatalogSettings } from "../core/catalog-rules.js"
import { DAY_MS } from "./behaviour-customer.js"
import { type FleetConfig, horizonMs } from "./fleet-config.js"
import { scheduleArrivals, scheduleReports, runKiosk } from "./fleet-kiosk.js"
import { FleetCounters, type FleetKpis, type MoneyPoint, type Tally, bump } from "./fleet-kpis.js"
import { type EventSink, FleetLog, hashingSink } from "./fleet-log.js"
import { backOffice, drainOutbox, merchantDesk, outboxWorker, pullCatalog, retryDeadCharges, scheduleMerchantChanges } from "./fleet-office.js"
import { makeCardFactory, makeOutsideWorld, makeSimKiosk, planMerchants, regionIdOf, registerDeployment } from "./fleet-setup.js"
import { CoreServicesLive, type CoreServices, dayOf, type FleetWorld, servicesFrom, type SimKiosk } from "./fleet-world.js"
import { formatFaults, knobsOf, never } from "./faults.js"
import { deriveSeed, deviceRandom } from "./rng.js"
import { Mailbox, Nudge } from "./virtual-mailbox.js"
import { VirtualTime } from "./virtual-time.js"

/**
 * The fleet simulator (DESIGN §3, issue 4): N kiosks in regions, M merchants, D days, one seed. The
 * real core services run on an in-memory sql.js store; each kiosk runs the kiosk flow over its own sim
 * card unit and printer and the in-process backend; customers, operators and merchants follow the
 * behaviour models; everything happens on the deterministic virtual-time loop of `virtual-time.ts`.
 * Same seed and configuration, same event log, byte for byte.
 *
 * The run ends at the horizon: kiosks close (the queue goes home), the faults heal, each kiosk
 * reconciles its journal, the outbox is drained, and the auditor checks the invariants. Invariant 7
 * (every delivered order reached its provider, or was flagged for an operator) and 10 (no phone
 * number in the log) are checked here, where the providers' side and the log are at hand.
 */

export interface FleetRunOptions {
  /** Where the event log goes, line by line (the caller writes `events.ndjson`). */
  readonly sink?: EventSink
  /** Called as virtual time moves on (cheap calls only: progress bars). */
  readonly onTime?: (nowMs: number) => void
  /** Spans cost time and nobody collects them in a fleet run; on only when asked. */
  readonly tracing?: boolean
  /** With `tracing`: the tracer that gets the spans (e.g. one that times core operations). */
  readonly tracer?: Tracer.Tracer
  /** False skips the auditor at the end (invariant 7 is still checked): for benchmarks only. On by default. */
  readonly audit?: boolean
  /** Sees every SQL statement the store runs, with its values, the migrations' included (a benchmark's recorder). */
  readonly sqlObserver?: (sql: string, params: ReadonlyArray<SqlValue>) => void
  /**
   * Aborted, the run stops where it is (within a slice of wall time, see `VirtualTime.runSliced`) and
   * returns partial figures: no closing time, no final drain, no audit. The abort's reason (e.g.
   * "SIGINT") is kept in `kpis.interrupted`.
   */
  readonly stop?: AbortSignal
  /** The SQL store to run on, empty and unmigrated (the CLI's `--store native`); in-memory sql.js by default. */
  readonly store?: Layer.Layer<SqlClient.SqlClient>
}

export interface FleetResult {
  readonly kpis: FleetKpis
  readonly auditText: string
  /** The run ended at its horizon with every invariant holding; false for a partial run. */
  readonly ok: boolean
}

/** Outbox rounds at the end, with faults healed, before the run gives up on draining it. */
const FINAL_OUTBOX_ROUNDS_MAX = 500
/** Delivered orders checked against the providers per query. */
const ORDER_PAGE = 1_000

const storeLayer = (options: FleetRunOptions): Layer.Layer<SqlClient.SqlClient> =>
  Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(
    Layer.provideMerge(options.store ?? Layer.orDie(SqljsClient.layer({ observer: options.sqlObserver })))
  )

const healFaults = (world: FleetWorld) =>
  Effect.gen(function* () {
    for (const kiosk of world.kiosks) {
      for (const knob of knobsOf("card")) yield* kiosk.unit.setFault(knob, never)
      for (const knob of knobsOf("printer")) yield* kiosk.printer.setFault(knob, never)
    }
    for (const knob of knobsOf("sms")) yield* world.outside.sms.setFault(knob, never)
    for (const knob of knobsOf("carrier")) yield* world.outside.carrier.setFault(knob, never)
    for (const knob of knobsOf("provider")) yield* world.outside.providers.setFault(knob, never)
    for (const knob of knobsOf("payout")) yield* world.outside.payouts.setFault(knob, never)
  })

const moneyByKind = (sql: SqlClient.SqlClient) =>
  sql`SELECT kind, SUM(credits_posted - debits_posted) AS posted FROM ledger_accounts GROUP BY kind ORDER BY kind`.pipe(
    Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ kind: Schema.String, posted: DbInt })))),
    Effect.orDie,
    Effect.map((rows) => Object.fromEntries(rows.map((row) => [row.kind, row.posted])))
  )

/** Pages the database holds, freed ones included, in bytes. */
const storeBytesOf = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    const pages = yield* sql`PRAGMA page_count`.pipe(Effect.orDie)
    const pageSize = yield* sql`PRAGMA page_size`.pipe(Effect.orDie)
    return Number(Object.values(pages[0] ?? {})[0] ?? 0) * Number(Object.values(pageSize[0] ?? {})[0] ?? 0)
  })

/** The run's configuration as the event log opens with it and `kpis.json` repeats it. */
const runSummary = (config: FleetConfig) => ({
  kiosks: config.kiosks,
  merchants: config.merchants,
  regions: config.regions,
  days: config.days,
  seed: config.seed,
  faults: formatFaults(config.faults),
  customersPerKioskPerDay: config.customers.customersPerKioskPerDay
})

/** Invariant 7: every delivered order was taken by its provider server, or flagged when it gave up. */
const providerDelivery = (world: FleetWorld) =>
  Effect.gen(function* () {
    const { sql } = world.services
    const decode = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: OrderId, state: Schema.String, flagged: DbInt })))
    let after = ""
    let checked = 0
    let missing = 0
    for (;;) {
      // Pages through every order by key and picks the delivered ones here: filtering on the state in
      // SQL makes SQLite read all delivered orders through the state index and sort them, every page.
      const rows = yield* sql`SELECT id, state, flagged FROM orders WHERE id > ${after} ORDER BY id LIMIT ${ORDER_PAGE}`.pipe(Effect.flatMap(decode), Effect.orDie)
      for (const row of rows) {
        if (row.state !== "delivered") continue
        checked++
        if (row.flagged === 0 && (yield* world.outside.providers.order(row.id)) === undefined) missing++
      }
      const last = rows.at(-1)
      if (last === undefined || rows.length < ORDER_PAGE) break
      after = last.id
    }
    return { ok: missing === 0, missing, checked }
  })

const faultsFired = (world: FleetWorld) =>
  Effect.gen(function* () {
    const fired: Tally = {}
    const add = (counts: Readonly<Partial<Record<string, number>>>) => {
      for (const [knob, n] of Object.entries(counts)) if (n !== undefined && n > 0) bump(fired, knob, n)
    }
    for (const kiosk of world.kiosks) {
      add((yield* kiosk.unit.snapshot).faultsFired)
      add((yield* kiosk.printer.snapshot).faultsFired)
    }
    add(yield* world.outside.sms.faultsFired)
    add(yield* world.outside.carrier.faultsFired)
    add(yield* world.outside.providers.faultsFired)
    add(yield* world.outside.payouts.faultsFired)
    return fired
  })

const program = (
  config: FleetConfig,
  time: VirtualTime,
  sink: EventSink & { readonly digest: () => string },
  options: FleetRunOptions
): Effect.Effect<FleetResult, never, CoreServices | SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const services = yield* servicesFrom
    const log = new FleetLog(time, sink)
    const counters = new FleetCounters()
    log.emit("run.start", runSummary(config))
    // Stopped from outside (Ctrl-C): the main fiber wakes up at once, wherever virtual time is.
    const stopRequested = yield* Deferred.make<void>()
    const requestStop = () => void Deferred.unsafeDone(stopRequested, Exit.void)
    if (options.stop?.aborted === true) requestStop()
    else options.stop?.addEventListener("abort", requestStop, { once: true })
    const stopped = Effect.as(Deferred.await(stopRequested), Option.none())

    // The world, built step by step so that a stop during set-up still reports what exists.
    let built: FleetWorld | undefined
    const kiosks: Array<SimKiosk> = []
    const money: Array<MoneyPoint> = []
    const simulate = Effect.gen(function* () {
      const regionIds = Array.from({ length: config.regions }, (_, r) => regionIdOf(r))
      const merchants = yield* planMerchants(config, regionIds)
      yield* registerDeployment(config, services, merchants)
      const outside = yield* makeOutsideWorld(config, merchants)
      const cards = makeCardFactory()
      for (let k = 0; k < config.kiosks; k++) kiosks.push(yield* makeSimKiosk(config, k, regionIds, cards))
      const world: FleetWorld = {
        config,
        time,
        log,
        counters,
        services,
        outside,
        regionIds,
        kiosks,
        kiosksByRegion: regionIds.map((_, r) => kiosks.filter((kiosk) => kiosk.regionIndex === r)),
        merchants,
        registered: regionIds.map(() => []),
        nextCustomer: 0,
        nextRedemption: 0,
        nextMovement: 0,
        cardsOut: 0,
        outboxNudge: new Nudge(time),
        // Bounded by what customers plan (a few redemptions per coupon) within the run.
        merchantDesk: new Mailbox(1_000_000),
        random: yield* deviceRandom(deriveSeed(config.seed, "world")),
        horizonMs: horizonMs(config)
      }
      built = world
      for (const merchant of merchants) yield* pullCatalog(world, merchant, 0)

      const kioskFibers = yield* Effect.forEach(kiosks, (kiosk) => Effect.fork(runKiosk(world, kiosk)))
      const workers = yield* Effect.forEach([outboxWorker(world), backOffice(world), merchantDesk(world)], (worker) => Effect.fork(worker))
      for (const kiosk of kiosks) {
        scheduleArrivals(world, kiosk)
        scheduleReports(world, kiosk)
      }
      for (const merchant of merchants) scheduleMerchantChanges(world, merchant)
      // The day's figures at each midnight, and the money by account kind.
      const dayEnds = Effect.forever(
        Effect.gen(function* () {
          const nowMs = time.nowMs
          const nextMidnight = nowMs - ((nowMs - config.startMs) % DAY_MS) + DAY_MS
          yield* Effect.sleep(nextMidnight - nowMs)
          const day = dayOf(world, time.nowMs) - 1
          const figures = counters.today(day)
          money.push({ day, byKind: yield* moneyByKind(services.sql) })
          figures.storeBytes = yield* storeBytesOf(services.sql)
          log.emit("day", { day, journeys: figures.journeys, coupons: figures.coupons, couponPoints: figures.couponPoints, redemptions: figures.redemptions, redeemedPoints: figures.redeemedPoints, cardReturns: figures.cardReturns, deviceFailures: figures.deviceFailures })
        })
      )
      const dayFiber = yield* Effect.fork(dayEnds)

      // Closing time: the kiosks finish the visit in hand and send the queue home; the faults heal, each
      // kiosk reconciles, the outbox drains and the auditor checks everything.
      const closing = Effect.gen(function* () {
        for (const kiosk of kiosks) kiosk.mailbox.offerFirst({ _tag: "Stop", arrivedAtMs: time.nowMs })
        yield* Fiber.joinAll(kioskFibers)
        yield* Fiber.interruptAll([...workers, dayFiber])
        if (money.length < config.days) money.push({ day: config.days - 1, byKind: yield* moneyByKind(services.sql) })
        yield* healFaults(world)
        let reconciled = 0
        for (const kiosk of kiosks) reconciled += (yield* kiosk.flow.reconcile).length
        yield* retryDeadCharges(world)
        const drained = yield* drainOutbox(world, FINAL_OUTBOX_ROUNDS_MAX)
        const delivery = yield* providerDelivery(world)
        const report = options.audit === false ? new AuditReport({ checkedAtMs: time.nowMs, checks: [] }) : yield* services.auditor.run
        return Option.some({ reconciled, drained, delivery, report })
      })
      yield* Effect.sleep(horizonMs(config) - time.nowMs)
      return yield* closing
    })
    // A stop during set-up or closing time interrupts it too (a transaction in flight rolls back).
    const ended = yield* Effect.raceFirst(simulate, stopped)
    options.stop?.removeEventListener("abort", requestStop)
    // A partial run leaves the kiosks, workers and their timers where they stand: the loop ends with
    // this fiber and nothing else of the world runs again.
    const partialAtMs = time.nowMs
    const world = built
    const interrupted = Option.isNone(ended)
      ? {
        reason: options.stop?.reason === undefined ? "stopped" : String(options.stop.reason),
        atMs: partialAtMs,
        day: Math.min(config.days, Math.floor((partialAtMs - config.startMs) / DAY_MS) + 1),
        days: config.days,
        journeys: counters.journeys,
        phase: partialAtMs >= horizonMs(config) ? "closing" as const : "simulation" as const
      }
      : undefined
    if (interrupted !== undefined && money.length < config.days) money.push({ day: interrupted.day - 1, byKind: yield* moneyByKind(services.sql) })
    const { reconciled, drained, delivery, report } = Option.getOrElse(ended, () => ({
      reconciled: 0,
      drained: false,
      delivery: { ok: true, missing: 0, checked: 0 },
      report: new AuditReport({ checkedAtMs: partialAtMs, checks: [] })
    }))
    const audited = options.audit !== false && interrupted === undefined
    // Stopped during set-up, the world may not exist yet: no faults fired, no card handed out.
    const fired = world === undefined ? {} : yield* faultsFired(world)
    const charges = yield* services.sql`
      SELECT charge_state, COUNT(*) AS cards, COALESCE(SUM(deposit_points), 0) AS points FROM cards GROUP BY charge_state`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ charge_state: Schema.String, cards: DbInt, points: DbInt })))),
      Effect.orDie
    )
    const charged = (state: string) => charges.find((row) => row.charge_state === state) ?? { cards: 0, points: 0 }
    const settlementRows = yield* services.sql`
      SELECT COUNT(*) AS statements, COALESCE(SUM(total_points), 0) AS points,
        COALESCE(SUM(CASE WHEN state = 'paid' AND total_points > 0 THEN 1 ELSE 0 END), 0) AS paid,
        COALESCE(SUM(CASE WHEN state = 'payout_failed' THEN 1 ELSE 0 END), 0) AS failed
      FROM settlements`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ statements: DbInt, points: DbInt, paid: DbInt, failed: DbInt })))),
      Effect.orDie
    )
    const settled = settlementRows[0] ?? { statements: 0, points: 0, paid: 0, failed: 0 }
    const drift: Tally = {}
    let kiosksWithDelta = 0
    // Comparing every twin takes a while at fleet scale (~5 ms each under load); a stopped run skips it.
    for (const kiosk of interrupted === undefined ? kiosks : []) {
      const twin = yield* Effect.orDie(services.twins.get(kiosk.id))
      if (twin.delta.length > 0) kiosksWithDelta++
      for (const difference of twin.delta) bump(drift, difference.field)
    }
    const finalMoney = yield* moneyByKind(services.sql)
    const storeBytes = yield* storeBytesOf(services.sql)
    if (money.length > 0) money[money.length - 1] = { day: money[money.length - 1]?.day ?? 0, byKind: finalMoney }
    log.emit("run.end", {
      ...(interrupted === undefined ? {} : { partial: true, interrupted: interrupted.reason, day: interrupted.day, journeys: interrupted.journeys }),
      audit: !audited ? "skipped" : report.ok ? "clean" : "violations",
      violations: report.violationCount,
      providerDelivery: delivery.ok,
      outboxDrained: drained,
      reconciled,
      cardsOut: world?.cardsOut ?? 0
    })
    const auditText = interrupted !== undefined
      ? `audit not run: the run was stopped (${interrupted.reason}) at day ${interrupted.day} of ${interrupted.days}`
      : options.audit === false ? "audit skipped (asked for)" : formatReport(report)
    const kpis: FleetKpis = {
      partial: interrupted !== undefined,
      ...(interrupted === undefined ? {} : { interrupted }),
      config: { ...runSummary(config), startMs: config.startMs },
      journeys: {
        total: counters.journeys,
        outcomes: counters.journeyOutcomes,
        walkedAway: counters.walkedAway,
        registrations: counters.registrations,
        codeMistypes: counters.codeMistypes,
        codeResends: counters.codeResends
      },
      orders: { outcomes: counters.orderOutcomes, byMedium: counters.ordersByMedium, refusals: counters.refusals },
      coupons: { issued: counters.coupons, points: counters.couponPoints },
      redemptions: { count: counters.redemptions, points: counters.redeemedPoints, refusals: counters.redemptionRefusals, rollbacks: counters.rollbacks },
      cards: {
        dispensed: counters.cardsDispensed,
        notTaken: counters.cardsNotTaken,
        returns: counters.cardReturns,
        swallowed: counters.cardsSwallowed,
        overdue: counters.office["cards-overdue"] ?? 0,
        outstandingAtEnd: world?.cardsOut ?? 0
      },
      carrier: {
        chargesQueued: counters.office["deposit-charges-queued"] ?? 0,
        confirmed: charged("confirmed").cards,
        declined: charged("declined").cards,
        pending: charged("pending").cards,
        confirmedPoints: charged("confirmed").points
      },
      settlements: { statements: settled.statements, points: settled.points, payoutsPaid: settled.paid, payoutsFailed: settled.failed },
      deviceFailures: counters.deviceFailures,
      faultsFired: fired,
      stockOuts: counters.stockOuts,
      maintenance: { visits: counters.maintenanceVisits, actions: counters.maintenanceActions },
      office: counters.office,
      outbox: counters.outbox,
      catalog: counters.catalog,
      twinDrift: { kiosksWithDelta, fields: drift },
      invariants: { providerDelivery: delivery, phoneNumbersLogged: 0 },
      audit: {
        ok: audited && report.ok,
        skipped: !audited,
        violations: report.violationCount,
        text: auditText,
        checks: report.checks.map((check) => ({ invariant: check.invariant, name: check.name, checked: check.checked, violations: check.violationCount }))
      },
      days: counters.days.slice(0, config.days),
      money,
      cardStock: Object.fromEntries(kiosks.map((kiosk) => [kiosk.id, kiosk.stock])),
      eventLog: { lines: log.lines, sha256: sink.digest() },
      run: { simulatedMs: time.nowMs - config.startMs, timersFired: time.timersFired, storeBytes }
    }
    return { kpis, auditText, ok: interrupted === undefined && report.ok && delivery.ok }
  })

/**
 * Runs the fleet. The store is built first, on Node's own loop (it loads WebAssembly); the simulation
 * then runs in virtual time, giving Node's loop a turn every few tens of milliseconds of wall time (so
 * a signal handler can abort `options.stop`), and this returns once the run is over or stopped.
 */
export const runFleet = async (config: FleetConfig, options: FleetRunOptions = {}): Promise<FleetResult> => {
  const scope = Effect.runSync(Scope.make())
  try {
    const store = await Effect.runPromise(Layer.buildWithScope(storeLayer(options), scope))
    const time = new VirtualTime(config.startMs)
    const sink = hashingSink(options.sink)
    const run = program(config, time, sink, options).pipe(
      Effect.provide(CoreServicesLive),
      Effect.provideService(HousekeepingConfig, { ...defaultHousekeepingSettings, retentionMs: config.operators.retentionMs }),
      Effect.provideService(CatalogConfig, { ...defaultCatalogSettings, couponValidityMsDefault: config.couponValidityMs }),
      Effect.provide(store),
      Effect.withRandom(Random.make(config.seed)),
      Effect.withTracerEnabled(options.tracing ?? false),
      (effect) => (options.tracer === undefined ? effect : Effect.withTracer(effect, options.tracer))
    )
    const exit = await time.runSliced(run, options.onTime === undefined ? {} : { onAdvance: options.onTime })
    if (Exit.isFailure(exit)) throw new Error(`the fleet simulation failed at virtual ${new Date(time.nowMs).toISOString()}: ${String(exit.cause)}`)
    return exit.value
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
