import { Effect, Fiber, TestClock } from "effect"

/**
 * For tests on `TestClock` (`it.effect`): runs `effect` in a fiber and moves virtual time on by
 * `horizonMs` (a day by default), so the sim layers' mechanical times, latencies and timeouts pass
 * at once and in order. The effect must finish within the horizon; its success or failure is the
 * result. TestClock steps every sleep one by one, so keep the number of sleeps in a test modest.
 */
export const advancing = <A, E, R>(effect: Effect.Effect<A, E, R>, horizonMs = 86_400_000): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(horizonMs)
    return yield* Fiber.join(fiber)
  })
