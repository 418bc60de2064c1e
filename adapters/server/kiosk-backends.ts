import { Effect } from "effect"
import type { KioskId } from "../../core/domain/ids.js"
import { KioskBackendLocal } from "../../core/kiosk-backend-local.js"
import type { KioskBackendService } from "../../core/ports/kiosk-backend.js"

/** Kiosks whose backend state the server keeps in memory; the least recently used is dropped beyond. */
export const KIOSK_BACKENDS_MAX = 10_000

/**
 * The kiosks group is the in-process `KioskBackend` (core/kiosk-backend-local.ts) behind HTTP: one
 * instance per kiosk, kept as long as the kiosk is among the most recently active, so a kiosk over
 * HTTP gets exactly the outcomes it would in-process. What an instance keeps is a cache the core
 * re-derives when it is lost (the purpose of a code is looked up both ways, the catalog view is
 * rebuilt, the twin is read back), so dropping one, a restart, or a second server is safe.
 */
export class KioskBackends extends Effect.Service<KioskBackends>()("ecoupon/server/KioskBackends", {
  effect: Effect.gen(function* () {
    const context = yield* Effect.context<Effect.Effect.Context<ReturnType<typeof KioskBackendLocal.make>>>()
    const backends = new Map<KioskId, KioskBackendService>()
    const forKiosk = (kioskId: KioskId): Effect.Effect<KioskBackendService> =>
      Effect.suspend(() => {
        const known = backends.get(kioskId)
        if (known !== undefined) {
          // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
          backends.delete(kioskId)
          backends.set(kioskId, known)
          return Effect.succeed(known)
        }
        return KioskBackendLocal.make(kioskId).pipe(
          Effect.provide(context),
          Effect.tap((made) =>
            Effect.sync(() => {
              backends.set(kioskId, made)
              if (backends.size > KIOSK_BACKENDS_MAX) backends.delete(backends.keys().next().value ?? kioskId)
            })
          )
        )
      })
    return { forKiosk } as const
  })
}) {}
