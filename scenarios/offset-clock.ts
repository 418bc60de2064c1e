import { Clock, Duration, Effect } from "effect"

/**
 * The deployment's clock on the layers where things move in real time (serial devices, an HTTP
 * server): the real clock plus an offset. Sleeping takes real time; letting days pass moves the
 * offset, not the wall clock. One clock is shared by everything the layer runs in this process, the
 * server it starts included, so the kiosks, the server and the model agree on the date.
 */
export const offsetClock = () => {
  const base = Clock.make()
  let offsetMs = 0
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis() + offsetMs,
    currentTimeMillis: Effect.sync(() => base.unsafeCurrentTimeMillis() + offsetMs),
    unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos() + BigInt(offsetMs) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => base.unsafeCurrentTimeNanos() + BigInt(offsetMs) * 1_000_000n),
    sleep: (duration: Duration.DurationInput) => base.sleep(Duration.decode(duration))
  }
  return {
    clock,
    /** Starts the deployment's time at `startMs`. */
    startAt: (startMs: number) => {
      offsetMs = startMs - base.unsafeCurrentTimeMillis()
    },
    advance: (ms: number) =>
      Effect.sync(() => {
        offsetMs += ms
      })
  }
}

export type OffsetClock = ReturnType<typeof offsetClock>
