import { type Context, type Duration, Effect, Exit, Fiber, Runtime } from "effect"

/**
 * `Effect.timeoutTo(self, options)` for an effect that usually completes without waiting, as most
 * sends of the outbox do (a gateway that answers at once, in the simulator every send without a fault).
 *
 * `timeoutTo` forks two fibers, the effect and a sleep, and races them: about 90 run-loop steps even
 * when the effect needs no time at all. Here the effect starts at once on a fiber of its own (the
 * caller's context, fiber refs and runtime flags, so the same clock and scheduler); if it has already
 * ended when it first stops, its result is used as it is and no timer is armed. Otherwise it is raced
 * against the timeout as `timeoutTo` would: on timeout it is interrupted (and awaited) before
 * `onTimeout`'s value is returned; if the caller is interrupted, so is the effect. A success hands the
 * effect's fiber refs back to the caller, as `timeoutTo` does.
 *
 * No time passes while the effect runs without waiting, so a timeout could not have fired then.
 */
export const timeoutUnlessImmediate = <A, E, R, B, C>(
  self: Effect.Effect<A, E, R>,
  options: { readonly duration: Duration.DurationInput; readonly onSuccess: (a: A) => B; readonly onTimeout: () => C }
): Effect.Effect<B | C, E, R> =>
  Effect.withFiberRuntime<B | C, E, R>((parent, status) => {
    // The fiber runs inside this effect, whose context provides R.
    const runtime = Runtime.make({ context: parent.currentContext as Context.Context<R>, runtimeFlags: status.runtimeFlags, fiberRefs: parent.getFiberRefs() })
    const fiber = Runtime.runFork(runtime)(self)
    const exit = fiber.unsafePoll()
    if (exit !== null) {
      return Exit.isSuccess(exit) ? Effect.as(fiber.inheritAll, options.onSuccess(exit.value)) : Effect.failCause(exit.cause)
    }
    return Fiber.join(fiber).pipe(
      Effect.timeoutTo({
        duration: options.duration,
        onSuccess: (a): Effect.Effect<B | C> => Effect.succeed(options.onSuccess(a)),
        onTimeout: (): Effect.Effect<B | C> => Effect.as(Fiber.interrupt(fiber), options.onTimeout())
      }),
      Effect.flatten,
      Effect.onInterrupt(() => Fiber.interrupt(fiber))
    )
  })
