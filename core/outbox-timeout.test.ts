import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Effect, Exit, Fiber, FiberRef, Option, Ref, TestClock } from "effect"
import { timeoutUnlessImmediate } from "./outbox-timeout.js"

const options = { duration: 1_000, onSuccess: (a: number) => `ok ${a}`, onTimeout: () => "timed out" }

class Answer extends Context.Tag("Answer")<Answer, number>() {}

describe("timeoutUnlessImmediate", () => {
  it.effect("an effect that needs no time: its result, with the caller's context, no timer armed", () =>
    Effect.gen(function* () {
      const result = yield* timeoutUnlessImmediate(Answer, options).pipe(Effect.provideService(Answer, 7))
      expect(result).toBe("ok 7")
      // Nothing waits on the clock: a timer armed and left behind would show as a sleep.
      expect(Chunk.size(yield* TestClock.sleeps())).toBe(0)
    }))

  it.effect("its failures and defects pass through unchanged", () =>
    Effect.gen(function* () {
      expect(yield* Effect.exit(timeoutUnlessImmediate(Effect.fail("no"), options))).toEqual(Exit.fail("no"))
      const died = yield* Effect.exit(timeoutUnlessImmediate(Effect.die("bug"), options))
      expect(died).toEqual(Exit.die("bug"))
    }))

  it.effect("a success hands its fiber refs back, as timeoutTo does", () =>
    Effect.gen(function* () {
      const ref = FiberRef.unsafeMake(0)
      yield* timeoutUnlessImmediate(Effect.as(FiberRef.set(ref, 5), 1), options)
      expect(yield* FiberRef.get(ref)).toBe(5)
    }))

  it.effect("an effect that waits: its result if it comes in time", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(timeoutUnlessImmediate(Effect.as(Effect.sleep(999), 3), options))
      yield* TestClock.adjust(999)
      expect(yield* Fiber.join(fiber)).toBe("ok 3")
    }))

  it.effect("an effect that waits too long: interrupted at the timeout, onTimeout's value", () =>
    Effect.gen(function* () {
      const interrupted = yield* Ref.make(false)
      const slow = Effect.as(Effect.sleep(5_000), 1).pipe(Effect.onInterrupt(() => Ref.set(interrupted, true)))
      const fiber = yield* Effect.fork(timeoutUnlessImmediate(slow, options))
      yield* TestClock.adjust(999)
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust(1)
      expect(yield* Fiber.join(fiber)).toBe("timed out")
      expect(yield* Ref.get(interrupted)).toBe(true)
    }))

  it.effect("the caller interrupted while it waits: the effect is interrupted too", () =>
    Effect.gen(function* () {
      const interrupted = yield* Ref.make(false)
      const fiber = yield* Effect.fork(timeoutUnlessImmediate(Effect.never.pipe(Effect.onInterrupt(() => Ref.set(interrupted, true))), options))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      expect(yield* Ref.get(interrupted)).toBe(true)
    }))
})
