import type { SqlClient } from "@effect/sql"
import { Effect, type Layer, Random } from "effect"

export interface FreshStoreOptions<S, E0> {
  /** Runs before each body, with the same services (registering the parties the tests start from). */
  readonly setup?: Effect.Effect<unknown, E0, NoInfer<S> | SqlClient.SqlClient>
  /** Seeds the `Random` the services draw their ids from, so a run repeats itself. */
  readonly seed: string | number
}

/**
 * Runs each test body on a fresh store (any of `testStores`: every run builds a new database), after
 * `setup`, with `services` over the store and a seeded `Random`. The test's own TestClock (from
 * `it.effect`) is the only clock.
 */
export const onFreshStore = <S, LE, E0 = never>(
  storeLayer: Layer.Layer<SqlClient.SqlClient>,
  services: Layer.Layer<S, LE, SqlClient.SqlClient>,
  options: FreshStoreOptions<S, E0>
) =>
  <A, E>(body: Effect.Effect<A, E, S | SqlClient.SqlClient>): Effect.Effect<A, E | E0 | LE> =>
    Effect.zipRight(options.setup ?? Effect.void, body).pipe(
      Effect.provide(services),
      Effect.provide(storeLayer),
      Effect.withRandom(Random.make(options.seed))
    )
