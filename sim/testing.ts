import { Effect, Fiber, TestClock } from "effect"

/**
 * For tests on `TestClock` (`it.effect`): runs `effect` in a fiber and moves virtual time on until it
 * is done, so the sim layers' mechanical times and latencies pass instantly and in order. The result
 * (success or failure) comes back as an `Exit`-like `Either` through `Effect.either` at the call site.
 */
export const advancing = <A, E, R>(effect: Effect.Effect<A, E, R>, horizonMs = 86_400_000): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(horizonMs)
    return yield* Fiber.join(fiber)
  })
