import { Context, Effect, Layer } from "effect"
import { Cards } from "../core/cards.js"
import { Catalog } from "../core/catalog.js"
import type { KioskId } from "../core/domain/ids.js"
import { KioskBackendLocal } from "../core/kiosk-backend-local.js"
import { KioskFlow, KioskFlowConfig } from "../core/kiosk-flow.js"
import { Kiosks } from "../core/kiosks.js"
import { Orders } from "../core/orders.js"
import { CardUnit, type CardUnitService } from "../core/ports/card-unit.js"
import { CouponPrinter, type CouponPrinterService } from "../core/ports/coupon-printer.js"
import type { KioskBackendService } from "../core/ports/kiosk-backend.js"
import { KioskBackend } from "../core/ports/kiosk-backend.js"
import { KioskJournal, type KioskJournalService } from "../core/ports/kiosk-journal.js"
import { KioskTwins } from "../core/twin.js"
import { Users } from "../core/users.js"
import type { Services } from "../sim/fleet-world.js"
import { makeSimKioskJournal } from "../sim/kiosk-journal.js"
import type { CutStage } from "./commands.js"
import type { Hand, Station } from "./system.js"

/**
 * One kiosk of the scenario deployment: the core kiosk flow over a layer's card unit and printer, a
 * journal that survives restarts, and a backend (in-process by default). The journal is where a power
 * cut is staged: armed for a stage, its write of that stage is the kiosk's last act (the flow's fiber
 * is interrupted right after), which is exactly what a kiosk PC losing power after its journal write
 * leaves behind.
 */

/** A card left at the gate is captured after this long (the flow's default is 30 s; scenarios need not wait that long). */
export const CARD_TAKE_TIMEOUT_MS = 2_000

export interface StationParts {
  readonly index: number
  readonly id: KioskId
  readonly cardUnit: CardUnitService
  readonly printer: CouponPrinterService
  readonly hand: Hand
  readonly setJam: (on: boolean) => Effect.Effect<void>
  /** The kiosk's backend; the in-process one over `services` when not given (sim and serial layers). */
  readonly backend?: Effect.Effect<KioskBackendService>
}

/** The services a kiosk's in-process backend talks to, from the (possibly defect-wrapped) services. */
const backendContext = (services: Services) =>
  Context.make(Users, services.users).pipe(
    Context.add(Orders, services.orders),
    Context.add(Cards, services.cards),
    Context.add(Catalog, services.catalog),
    Context.add(Kiosks, services.kiosks),
    Context.add(KioskTwins, services.twins)
  )

export const makeStation = (parts: StationParts, services: Services | undefined): Effect.Effect<Station> =>
  Effect.gen(function* () {
    const memory = makeSimKioskJournal()
    let cutAt: CutStage | undefined
    const journal: KioskJournalService = {
      ...memory.service,
      put: (entry) =>
        Effect.zipRight(
          memory.service.put(entry),
          Effect.suspend(() => {
            if (cutAt === undefined || entry.stage !== cutAt) return Effect.void
            cutAt = undefined
            return Effect.interrupt
          })
        )
    }
    const backend =
      parts.backend ?? (services === undefined ? Effect.dieMessage(`kiosk ${parts.id} has neither a backend nor core services to talk to`) : KioskBackendLocal.make(parts.id).pipe(Effect.provide(backendContext(services))))
    const build = Effect.gen(function* () {
      const service = yield* backend
      const devices = Context.make(CardUnit, parts.cardUnit).pipe(
        Context.add(CouponPrinter, parts.printer),
        Context.add(KioskJournal, journal),
        Context.add(KioskBackend, service)
      )
      return yield* Effect.provide(KioskFlow, KioskFlow.Default.pipe(Layer.provide(Layer.succeedContext(devices))))
    }).pipe(Effect.provideService(KioskFlowConfig, { ...KioskFlowConfig.defaultValue(), cardTakeTimeoutMs: CARD_TAKE_TIMEOUT_MS }))
    const station: Station = {
      index: parts.index,
      id: parts.id,
      cardUnit: parts.cardUnit,
      hand: parts.hand,
      flow: yield* build,
      cutPowerAt: (stage) => {
        cutAt = stage
      },
      restart: Effect.gen(function* () {
        cutAt = undefined
        station.flow = yield* build
        return station.flow
      }),
      setJam: parts.setJam
    }
    return station
  })
