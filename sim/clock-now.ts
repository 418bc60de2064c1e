import { Duration, Effect } from "effect"

/**
 * The current time of the fiber's `Clock`, read in one run-loop step.
 *
 * `Effect.flatMap(Clock.currentTimeMillis, f)` takes three steps (the flatMap's frame, the clock's
 * look-up, the clock's own `sync`); the simulator reads the time dozens of times a journey, so its
 * devices read it here instead: the same `Clock` (the virtual time's in a fleet, `TestClock` in tests),
 * through its `unsafeCurrentTimeMillis`, inside the look-up's one step.
 */

/** `Effect.flatMap(Clock.currentTimeMillis, f)` in one step. */
export const withNowMs = <A, E, R>(f: (nowMs: number) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.clockWith((clock) => f(clock.unsafeCurrentTimeMillis()))

/** `Effect.map(Clock.currentTimeMillis, f)` in two steps (the look-up, the value's `succeed`). */
export const mapNowMs = <A>(f: (nowMs: number) => A): Effect.Effect<A> => Effect.clockWith((clock) => Effect.succeed(f(clock.unsafeCurrentTimeMillis())))

/** `Effect.sleep(ms)` without decoding a `Duration` input: the fiber's own `Clock` sleeps. */
export const sleepMs = (ms: number): Effect.Effect<void> => Effect.clockWith((clock) => clock.sleep(Duration.millis(ms)))
