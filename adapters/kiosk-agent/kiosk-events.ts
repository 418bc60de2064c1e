import { Context, Effect, Layer, Stream } from "effect"
import { Catalog } from "../../core/catalog.js"
import type { KioskId } from "../../core/domain/ids.js"
import { Kiosks } from "../../core/kiosks.js"
import { KioskTwins } from "../../core/twin.js"
import type { BackendUnavailable, DesiredState } from "../../core/ports/kiosk-backend.js"

/**
 * What the management server tells a kiosk unasked (DESIGN §7, real time): its region's catalog
 * moved, or what its operators want of it changed. `connect` is one connection: it ends or fails
 * when the connection does, and the agent's follower (event-follower.ts) connects again with
 * bounded backoff. After every (re)connection the agent re-reads what it may have missed, so a
 * source need not replay history.
 */
export type KioskEvent =
  /** The connection is open: whatever happened while it was not is re-read now. */
  | { readonly _tag: "Connected" }
  | { readonly _tag: "CatalogChanged"; readonly version: number }
  | { readonly _tag: "DesiredChanged"; readonly desired: DesiredState }

export interface KioskEventsService {
  readonly connect: Stream.Stream<KioskEvent, BackendUnavailable>
}

export class KioskEvents extends Context.Tag("ecoupon/kiosk-agent/KioskEvents")<KioskEvents, KioskEventsService>() {}

/**
 * In-process events for a kiosk whose backend is the core in the same process (tests, a one-process
 * demo): the catalog's and the twins' own change streams.
 */
export const KioskEventsLocal = (kioskId: KioskId): Layer.Layer<KioskEvents, never, Catalog | Kiosks | KioskTwins> =>
  Layer.effect(
    KioskEvents,
    Effect.gen(function* () {
      const catalog = yield* Catalog
      const kiosks = yield* Kiosks
      const twins = yield* KioskTwins
      return {
        connect: Stream.unwrap(
          Effect.map(Effect.orDie(kiosks.get(kioskId)), (kiosk) =>
            Stream.concat(
              Stream.make<Array<KioskEvent>>({ _tag: "Connected" }),
              Stream.merge(
                Stream.map(catalog.changes(kiosk.regionId), (change): KioskEvent => ({ _tag: "CatalogChanged", version: change.version })),
                Stream.map(twins.desiredChanges(kioskId), (twin): KioskEvent => ({
                  _tag: "DesiredChanged",
                  desired: { version: twin.desiredVersion, enabled: twin.desired.enabled, catalogVersion: twin.desired.catalogVersion ?? twin.regionCatalogVersion }
                }))
              )
            )
          )
        )
      }
    })
  )
