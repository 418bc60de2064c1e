import { Context, Effect, Layer, Option, Queue, Stream, SubscriptionRef } from "effect"
import { KioskFlow } from "../../core/kiosk-flow.js"
import type { CardUnit } from "../../core/ports/card-unit.js"
import type { CouponPrinter } from "../../core/ports/coupon-printer.js"
import type { AppliedDesired, DesiredState, KioskBackend } from "../../core/ports/kiosk-backend.js"
import { KioskJournal } from "../../core/ports/kiosk-journal.js"
import { type Journey, type JourneySettings, makeJourney } from "./journey.js"
import { type KioskEvent, KioskEvents } from "./kiosk-events.js"
import { makeProgressBoard, reportingCardUnit, reportingJournal } from "./progress.js"
import { type CustomerHands, serveKioskUi, type UiServerSettings } from "./ui-server.js"

/**
 * The kiosk agent (`ecoupon kiosk`, DESIGN §7): the kiosk flow on this kiosk's hardware and backend,
 * its touchscreen, and the work it does by itself:
 * - at start, the flow's start-up (the card unit's Init, a card left in it, orders left in flight);
 * - its twin report on a timer and after every sale, return, reconnection, desired state applied
 *   and catalog read; the answer (the desired state) can put the kiosk out of service or back;
 * - following the server's events (catalog, desired state), reconnecting with bounded backoff; a
 *   catalog change is read at once even when nobody looks at the offers, so the twin shows the
 *   kiosk on the region's catalog;
 * - reconciling orders the journal still holds (the server was unreachable when they ended) every
 *   `reconcileIntervalMs` until the server takes them, never during a sale.
 * It is a layer with parameters, so one process can run one agent (the CLI) or many (a demo fleet).
 */

export interface KioskAgentSettings {
  readonly ui: UiServerSettings
  readonly journey: Omit<JourneySettings, "simulatedHardware">
  readonly reportIntervalMs: number
  readonly reconcileIntervalMs: number
  readonly reconnectMinMs: number
  readonly reconnectMaxMs: number
}

export const defaultKioskAgentSettings: KioskAgentSettings = {
  ui: { port: 8081, host: "127.0.0.1", heartbeatMs: 15_000 },
  journey: { idleTimeoutMs: 60_000, returnWaitMs: 30_000, countryCode: "82" },
  reportIntervalMs: 30_000,
  reconcileIntervalMs: 5_000,
  reconnectMinMs: 500,
  reconnectMaxMs: 15_000
}

export interface KioskAgentService {
  /** Where the touchscreen is served. */
  readonly uiUrl: string
  readonly journey: Journey
  readonly flow: KioskFlow
}

export class KioskAgent extends Context.Tag("ecoupon/kiosk-agent/KioskAgent")<KioskAgent, KioskAgentService>() {}

/** Doubles from `minMs` up to `maxMs`; back to `minMs` once a connection delivers. */
export const nextBackoffMs = (previousMs: number, minMs: number, maxMs: number): number => Math.min(maxMs, Math.max(minMs, previousMs * 2))

const make = (settings: KioskAgentSettings, hands: Option.Option<CustomerHands>) =>
  Effect.gen(function* () {
    const board = yield* makeProgressBoard
    const flowContext = yield* Layer.build(KioskFlow.Default.pipe(Layer.provide(Layer.merge(reportingJournal(board), reportingCardUnit(board)))))
    const flow = Context.get(flowContext, KioskFlow)
    const journal = yield* KioskJournal
    const events = yield* KioskEvents

    const started = yield* flow.startup
    yield* Effect.logInfo("kiosk started").pipe(
      Effect.annotateLogs({ cardUnitInitialised: started.initialised, cardLeftInUnit: started.leftCard, ordersReconciled: started.reconciled.length })
    )

    const journey = yield* makeJourney(flow, board.changes, { ...settings.journey, simulatedHardware: Option.isSome(hands) })

    // --- twin reports: on a timer and whenever something worth reporting happened -------------------
    const reportNow = yield* Queue.sliding<void>(1)
    const reportSoon = Queue.offer(reportNow, undefined)
    // The desired version the server's last answer carried. A report says what the kiosk had applied
    // when it was sent, so an answer that moved the desired state is followed at once by another
    // report, and the twin's delta clears without waiting for the timer. Bounded: a second answer
    // with the same version asks for nothing more.
    let answeredDesiredVersion: number | undefined
    // What the kiosk has put into effect, as its reports say (the twin's "reported" side): selling
    // unless the screen shows "out of service", and the newest desired version whose `enabled` the
    // screen matches. A kiosk disabled while a customer is at it keeps selling to them, and says so,
    // until their journey ends and the screen turns "out of service".
    let latestDesired: DesiredState | undefined
    let appliedVersion = 0
    const applied: Effect.Effect<AppliedDesired> = Effect.map(SubscriptionRef.get(journey.view), (view) => {
      const selling = view.screen !== "out-of-service"
      if (latestDesired !== undefined && latestDesired.enabled === selling) appliedVersion = latestDesired.version
      return { desiredVersion: appliedVersion, enabled: selling }
    })
    const follow = (desired: DesiredState) =>
      Effect.zipRight(
        Effect.sync(() => {
          if (latestDesired === undefined || desired.version >= latestDesired.version) latestDesired = desired
        }),
        journey.desiredChanged(desired)
      )
    const report = Effect.gen(function* () {
      const desired = yield* Effect.either(Effect.flatMap(applied, flow.reportState))
      if (desired._tag === "Left") return yield* Effect.logWarning("twin report not sent").pipe(Effect.annotateLogs("reason", desired.left.message))
      yield* follow(desired.right)
      const moved = answeredDesiredVersion !== desired.right.version
      answeredDesiredVersion = desired.right.version
      // A catalog event missed while disconnected, or a read that failed, shows up here as a newer
      // version; a catalog read now goes out in the report that follows.
      const read = yield* journey.catalogChanged(desired.right.catalogVersion)
      if (moved || read) yield* reportSoon
    })
    yield* Effect.forkScoped(
      Effect.forever(Effect.zipRight(report, Effect.race(Queue.take(reportNow), Effect.sleep(settings.reportIntervalMs))))
    )
    yield* Effect.forkScoped(
      journey.view.changes.pipe(
        Stream.map((view) => view.screen),
        Stream.changes,
        Stream.zipWithPrevious,
        // After a sale or a return, and when the kiosk goes out of service or back into it.
        Stream.filter(([previous, screen]) => screen === "receipt" || screen === "return-result" || screen === "out-of-service" || previous._tag === "Some" && previous.value === "out-of-service"),
        Stream.runForEach(() => reportSoon)
      )
    )

    // --- the server's events, followed through disconnections -----------------------------------------
    const onEvent = (event: KioskEvent) => {
      switch (event._tag) {
        case "Connected":
          // The server may have restarted since the last connection and lost what it knew of this
          // kiosk's catalog and desired state: read and report both again.
          answeredDesiredVersion = undefined
          return Effect.zipRight(journey.forgetCatalogRead, reportSoon)
        case "CatalogChanged":
          return Effect.flatMap(journey.catalogChanged(event.version), (read) => (read ? reportSoon : Effect.void))
        case "DesiredChanged":
          return Effect.zipRight(follow(event.desired), reportSoon)
      }
    }
    yield* Effect.forkScoped(
      Effect.gen(function* () {
        let delayMs = settings.reconnectMinMs
        while (true) {
          let delivered = false
          const ended = yield* events.connect.pipe(
            Stream.runForEach((event) => Effect.zipRight(Effect.sync(() => void (delivered = true)), onEvent(event))),
            Effect.either
          )
          delayMs = delivered ? settings.reconnectMinMs : nextBackoffMs(delayMs, settings.reconnectMinMs, settings.reconnectMaxMs)
          yield* Effect.logInfo("event stream closed; reconnecting").pipe(
            Effect.annotateLogs({ reason: ended._tag === "Left" ? ended.left.message : "the server ended it", retryInMs: delayMs })
          )
          yield* Effect.sleep(delayMs)
        }
      })
    )

    // --- orders the server could not be told about ---------------------------------------------------
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          yield* Effect.sleep(settings.reconcileIntervalMs)
          if ((yield* journal.all).length === 0) return
          const results = yield* journey.exclusive(flow.reconcile)
          const settled = results.filter((r) => r._tag !== "Kept").length
          if (settled > 0) {
            yield* Effect.logInfo("orders in flight reconciled").pipe(Effect.annotateLogs({ settled, kept: results.length - settled }))
            yield* reportSoon
          }
        })
      )
    )

    const uiUrl = yield* serveKioskUi(journey, hands, settings.ui)
    return { uiUrl, journey, flow } satisfies KioskAgentService
  })

export type KioskAgentRequirements = KioskBackend | CardUnit | CouponPrinter | KioskJournal | KioskEvents

export const KioskAgentLive = (settings: KioskAgentSettings, hands: Option.Option<CustomerHands> = Option.none()): Layer.Layer<KioskAgent, Error, KioskAgentRequirements> =>
  Layer.scoped(KioskAgent, make(settings, hands))
