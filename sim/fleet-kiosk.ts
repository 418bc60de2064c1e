import { Effect, Either } from "effect"
import { StockMovementId } from "../core/domain/kiosk.js"
import { chance, nextArrivalMs, phoneOfCustomer } from "./behaviour-customer.js"
import { arrive, customerVisit, returnVisit, scheduleReturn } from "./behaviour-journey.js"
import { maintenanceNeeds, responseDelayMs } from "./behaviour-operator.js"
import { bump } from "./fleet-kpis.js"
import type { Customer, FleetWorld, SimKiosk, Visit } from "./fleet-world.js"

/**
 * One simulated kiosk's life: it starts up (the flow's Init and reconcile), then serves what comes to
 * it one at a time, as a kiosk does: customers from its queue, card returns, the field operator when
 * an alert called one, and its periodic twin report. Arrivals are plain timers on virtual time that
 * put visits in the kiosk's mailbox; only the kiosk itself is a fiber.
 */

/** Card stock samples kept per kiosk: one per report, so a month of hourly reports fits. */
export const STOCK_SAMPLES_MAX = 2_000

/** Starts the arrival process of `kiosk`: each arrival sets the timer of the next. */
export const scheduleArrivals = (world: FleetWorld, kiosk: SimKiosk): void => {
  const next = (fromMs: number) => {
    const atMs = nextArrivalMs(kiosk.random, fromMs, world.config.customers)
    if (atMs === undefined || atMs >= world.horizonMs) return
    world.time.at(atMs, () => {
      arrive(world, kiosk, { _tag: "Customer", arrivedAtMs: atMs, customer: pickCustomer(world, kiosk) })
      next(atMs)
    })
  }
  next(world.time.nowMs)
}

/** A registered customer of the region (returning), or a new one. */
const pickCustomer = (world: FleetWorld, kiosk: SimKiosk): Customer => {
  const registered = world.registered[kiosk.regionIndex] ?? []
  if (registered.length > 0 && chance(kiosk.random, world.config.customers.returningShare)) {
    return registered[kiosk.random.int(registered.length)] as Customer
  }
  const n = world.nextCustomer++
  return { n, phone: phoneOfCustomer(n), regionIndex: kiosk.regionIndex, homeKiosk: kiosk.index, userId: undefined, cards: 0 }
}

/** The periodic twin report, as a visit in the kiosk's own queue (it never interrupts a customer). */
export const scheduleReports = (world: FleetWorld, kiosk: SimKiosk): void => {
  const next = (atMs: number) => {
    if (atMs >= world.horizonMs) return
    world.time.at(atMs, () => {
      arrive(world, kiosk, { _tag: "Report", arrivedAtMs: atMs })
      next(atMs + world.config.twinReportEveryMs)
    })
  }
  next(world.time.nowMs + world.config.twinReportEveryMs)
}

const sampleStock = (world: FleetWorld, kiosk: SimKiosk) =>
  Effect.map(kiosk.unit.snapshot, (card) => {
    if (kiosk.stock.length < STOCK_SAMPLES_MAX) kiosk.stock.push([world.time.nowMs, card.stackerCards, card.binCards])
  })

const report = (world: FleetWorld, kiosk: SimKiosk) =>
  Effect.gen(function* () {
    const answered = yield* Effect.either(kiosk.flow.reportState())
    if (Either.isLeft(answered)) bump(world.counters.office, `twin-report-refused:${answered.left._tag}`)
    yield* sampleStock(world, kiosk)
  })

/** The operator at the kiosk: bin, card unit, stacker, printer, in that order; then a report. */
const maintain = (world: FleetWorld, kiosk: SimKiosk) =>
  Effect.gen(function* () {
    const c = world.counters
    const { kiosks } = world.services
    kiosk.maintenancePending = false
    const card = yield* kiosk.unit.snapshot
    const printer = yield* kiosk.printer.snapshot
    const actions = maintenanceNeeds(card, printer, world.config.operators)
    c.maintenanceVisits++
    const movement = (kind: string) => StockMovementId.make(`${kind}:${kiosk.id}:${world.nextMovement++}`)
    let loaded = 0
    let emptied = 0
    for (const action of actions) {
      bump(c.maintenanceActions, action)
      switch (action) {
        case "empty-bin": {
          emptied = (yield* kiosk.unit.emptyBin).length
          yield* kiosks.emptyBin(kiosk.id, movement("empty")).pipe(Effect.orDie)
          break
        }
        case "reinitialise": {
          const started = yield* kiosk.flow.startup
          if (!started.initialised) bump(c.maintenanceActions, "reinitialise-failed")
          if (started.leftCard !== "none") bump(c.maintenanceActions, `left-card-${started.leftCard}`)
          break
        }
        case "restock": {
          const now = yield* kiosk.unit.snapshot
          const room = now.stackerCapacity - now.stackerCards
          if (room <= 0) break
          const recorded = yield* Effect.either(kiosks.loadCards(kiosk.id, room, movement("load")))
          if (Either.isLeft(recorded)) {
            // The server's count is higher than the stacker's (cards it never heard of left the
            // stacker): the operator records what fits and reports the rest.
            bump(c.maintenanceActions, `restock-refused:${recorded.left._tag}`)
            if (recorded.left._tag === "StackerOverfilled") {
              const fits = recorded.left.stackerCardsMax - recorded.left.stackerCards
              if (fits > 0) yield* kiosks.loadCards(kiosk.id, Math.min(fits, room), movement("load")).pipe(Effect.orDie)
            }
          }
          loaded = yield* kiosk.unit.loadStacker(room)
          break
        }
        case "printer-service":
          yield* kiosk.printer.service
          break
        case "printer-paper":
          yield* kiosk.printer.loadPaper()
          break
      }
    }
    world.log.emit("maintenance", { kiosk: kiosk.id, actions: actions.join("+"), loaded, emptied })
    yield* report(world, kiosk)
  })

/** After every visit: does the kiosk need an operator? One call-out at a time. */
const checkAlerts = (world: FleetWorld, kiosk: SimKiosk) =>
  Effect.gen(function* () {
    if (kiosk.maintenancePending || kiosk.stopped) return
    const card = yield* kiosk.unit.snapshot
    const printer = yield* kiosk.printer.snapshot
    const needs = maintenanceNeeds(card, printer, world.config.operators)
    if (needs.length === 0) return
    kiosk.maintenancePending = true
    if (card.stackerCards === 0) bump(world.counters.stockOuts, "card-stacker-empty")
    const atMs = world.time.nowMs + responseDelayMs(kiosk.random, world.config.operators)
    world.log.emit("alert", { kiosk: kiosk.id, needs: needs.join("+") })
    world.time.at(atMs, () => kiosk.mailbox.offerFirst({ _tag: "Maintenance", arrivedAtMs: atMs }))
  })

const serve = (world: FleetWorld, kiosk: SimKiosk, visit: Visit): Effect.Effect<void> => {
  const waitedMs = world.time.nowMs - visit.arrivedAtMs
  const patient = waitedMs <= world.config.customers.patienceMs
  switch (visit._tag) {
    case "Customer":
      if (patient) return customerVisit(world, kiosk, visit.customer)
      world.counters.walkedAway++
      return Effect.void
    case "Return":
      if (patient) return returnVisit(world, kiosk, visit.held)
      world.counters.walkedAway++
      if (visit.held.tries < 3) {
        visit.held.tries++
        scheduleReturn(world, kiosk, visit.held, { _tag: "Return", atMs: world.time.nowMs + 86_400_000, where: "same" })
      }
      return Effect.void
    case "Maintenance":
      return maintain(world, kiosk)
    case "Report":
      return report(world, kiosk)
    case "Stop":
      return Effect.void
  }
}

/** The kiosk's fiber: start-up, then one visit at a time until `Stop`. */
export const runKiosk = (world: FleetWorld, kiosk: SimKiosk): Effect.Effect<void> =>
  Effect.gen(function* () {
    const started = yield* kiosk.flow.startup
    world.log.emit("kiosk.startup", { kiosk: kiosk.id, initialised: started.initialised, reconciled: started.reconciled.length })
    yield* report(world, kiosk)
    for (;;) {
      const visit = yield* kiosk.mailbox.take
      if (visit._tag === "Stop") {
        kiosk.stopped = true
        for (const left of kiosk.mailbox.drain()) if (left._tag === "Customer" || left._tag === "Return") world.counters.walkedAway++
        // A last report, so the twin shows the kiosk as it closed.
        yield* report(world, kiosk)
        return
      }
      yield* serve(world, kiosk, visit)
      yield* checkAlerts(world, kiosk)
    }
  })
