import { Effect, Hash, Random } from "effect"
import { PCGRandom } from "effect/Utils"

/**
 * Each simulated device draws from its own generator, seeded once from Effect's `Random` service when
 * the device is built (or from an explicit seed). Two reasons:
 * - determinism does not depend on how the fleet's fibers interleave: a kiosk's card unit draws the
 *   same numbers whatever the other kiosks do in between;
 * - a draw is a plain synchronous call, so a fault check on a hot path costs nanoseconds, not an
 *   Effect. The generator is Effect's own PCG (`effect/Utils`), the one behind `Random.make`.
 */
export interface DeviceRandom {
  /** A uniform double in [0, 1). */
  readonly next: () => number
  /** A uniform integer in [0, max), max <= 2^32. */
  readonly int: (max: number) => number
}

const fromPcg = (pcg: PCGRandom): DeviceRandom => ({
  next: () => pcg.number(),
  int: (max) => pcg.integer(max)
})

/** A generator for one device: from `seed` when given, else two 32-bit draws from the `Random` service. */
export const deviceRandom = (seed?: number): Effect.Effect<DeviceRandom> =>
  seed === undefined
    ? Effect.map(
        Effect.all([Random.nextIntBetween(0, 2 ** 31), Random.nextIntBetween(0, 2 ** 31)]),
        ([hi, lo]) => fromPcg(new PCGRandom(hi, lo))
      )
    : Effect.sync(() => fromPcg(new PCGRandom(Math.floor(seed / 2 ** 32), seed >>> 0)))

/**
 * A device's own seed from a run's seed and the device's name (`"kiosk:ksk_12:card"`), so a device's
 * draws do not depend on how many devices were built before it, or in what order.
 */
export const deriveSeed = (seed: number, label: string): number => Hash.string(`${seed}:${label}`) >>> 0
