import { describe, expect, it } from "vitest"
import { Clock, Deferred, Effect, Exit, Fiber } from "effect"
import { Mailbox, Nudge } from "./virtual-mailbox.js"
import { VirtualTime, VirtualTimeStalled } from "./virtual-time.js"

const succeeded = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) throw new Error(`expected success, got ${String(exit.cause)}`)
  return exit.value
}

describe("VirtualTime", () => {
  it("jumps to each timer in (time, creation) order, with Clock reading virtual time", () => {
    const time = new VirtualTime(1_000)
    const seen: Array<string> = []
    const sleeper = (name: string, ms: number) =>
      Effect.gen(function* () {
        yield* Effect.sleep(ms)
        seen.push(`${name}@${yield* Clock.currentTimeMillis}`)
      })
    const exit = time.run(Effect.all([sleeper("b", 500), sleeper("a", 200), sleeper("c", 500), sleeper("z", 0)], { concurrency: "unbounded" }))
    succeeded(exit)
    expect(seen).toEqual(["z@1000", "a@1200", "b@1500", "c@1500"])
    expect(time.nowMs).toBe(1_500)
  })

  it("runs sliced with turns for Node's event loop in between, to the same result as in one stretch", async () => {
    // Busy fibers whose order of events shows any change in scheduling.
    const program = (time: VirtualTime, order: Array<string>) =>
      Effect.all(
        Array.from({ length: 4 }, (_, f) =>
          Effect.gen(function* () {
            for (let i = 0; i < 300; i++) {
              let spin = 0
              for (let k = 0; k < 500; k++) spin += k % 7
              order.push(`${f}:${i}:${time.nowMs}:${spin % 3}`)
              yield* Effect.sleep(i % 3 === 0 ? 1_000 : 0)
            }
          })
        ),
        { concurrency: "unbounded" }
      )
    const whole: Array<string> = []
    const once = new VirtualTime(0)
    succeeded(once.run(program(once, whole)))
    const sliced: Array<string> = []
    const inSlices = new VirtualTime(0)
    let turns = 0
    const counting = setInterval(() => turns++, 0)
    try {
      succeeded(await inSlices.runSliced(program(inSlices, sliced), { sliceMs: 1 }))
    } finally {
      clearInterval(counting)
    }
    expect(sliced).toEqual(whole)
    expect(inSlices.nowMs).toBe(once.nowMs)
    // Node's timers ran while the simulation did.
    expect(turns).toBeGreaterThan(0)
  })

  it("runs a day of sleeps without real waiting, and timers set by plain callbacks", () => {
    const time = new VirtualTime(0)
    const fired: Array<number> = []
    const exit = time.run(
      Effect.gen(function* () {
        time.at(5_000, () => fired.push(time.nowMs))
        time.at(-1, () => fired.push(time.nowMs))
        const cancelled = time.at(7_000, () => fired.push(-7))
        cancelled.cancel()
        for (let i = 0; i < 1_440; i++) yield* Effect.sleep("1 minute")
        return yield* Clock.currentTimeMillis
      })
    )
    expect(succeeded(exit)).toBe(86_400_000)
    expect(fired).toEqual([0, 5_000])
  })

  it("cancels the timer of an interrupted sleep and keeps going", () => {
    const time = new VirtualTime(0)
    const exit = time.run(
      Effect.gen(function* () {
        const long = yield* Effect.fork(Effect.sleep("10 days"))
        yield* Effect.sleep("1 second")
        yield* Fiber.interrupt(long)
        return yield* Effect.timeoutOption(Effect.never, "30 seconds")
      })
    )
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(time.nowMs).toBe(31_000)
  })

  it("does not count an interrupted sleep's timer as fired, even when time reaches it", () => {
    const time = new VirtualTime(0)
    const exit = time.run(
      Effect.gen(function* () {
        const long = yield* Effect.fork(Effect.sleep("10 seconds"))
        yield* Effect.sleep("1 second")
        yield* Fiber.interrupt(long)
        yield* Effect.sleep("20 seconds")
        return time.timersFired
      })
    )
    // The 1 s and the 20 s sleeps; the 10 s one was cancelled, though time passed it.
    expect(succeeded(exit)).toBe(2)
    expect(time.nowMs).toBe(21_000)
  })

  it("counts a sleep an interruption cannot cut short, and wakes from it", () => {
    const time = new VirtualTime(0)
    const woke: Array<number> = []
    const exit = time.run(
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(Effect.uninterruptible(Effect.zipRight(Effect.sleep("5 seconds"), Effect.sync(() => woke.push(time.nowMs)))))
        yield* Effect.sleep("1 second")
        yield* Fiber.interrupt(fiber)
        return time.timersFired
      })
    )
    expect(succeeded(exit)).toBe(2)
    expect(woke).toEqual([5_000])
  })

  it("reports a program that waits on nothing it can get as stalled, instead of hanging", () => {
    const time = new VirtualTime(42)
    const exit = time.run(Effect.flatMap(Deferred.make<void>(), Deferred.await))
    expect(Exit.isFailure(exit) && String(exit.cause)).toContain("stalled at 42 ms")
    expect(Exit.isFailure(exit) && Exit.causeOption(exit)._tag === "Some" && JSON.stringify(exit)).toBeTruthy()
    expect(new VirtualTimeStalled(1).message).toContain("real I/O")
  })

  it("gives the same interleaving every run", () => {
    const trace = () => {
      const time = new VirtualTime(0)
      const log: Array<string> = []
      const worker = (id: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < 20; i++) {
            yield* Effect.sleep(((id * 7 + i * 13) % 5) * 100)
            log.push(`${id}:${i}@${time.nowMs}`)
          }
        })
      succeeded(time.run(Effect.forEach([1, 2, 3, 4], worker, { concurrency: "unbounded", discard: true })))
      return log.join(",")
    }
    expect(trace()).toBe(trace())
  })
})

describe("Mailbox and Nudge", () => {
  it("hands items to the one consumer in order, waking it from plain callbacks, and refuses past capacity", () => {
    const time = new VirtualTime(0)
    const box = new Mailbox<string>(2)
    const got: Array<string> = []
    const exit = time.run(
      Effect.gen(function* () {
        time.at(1_000, () => void box.offer("first"))
        time.at(1_000, () => void box.offer("second"))
        time.at(2_000, () => {
          // The consumer waits: the first goes straight to it, the next two fill the box.
          box.offer("third")
          box.offer("fourth")
          box.offer("fifth")
          expect(box.offer("refused")).toBe(false)
          box.offerFirst("urgent")
        })
        for (let i = 0; i < 6; i++) got.push(`${yield* box.take}@${time.nowMs}`)
      })
    )
    succeeded(exit)
    expect(got).toEqual(["first@1000", "second@1000", "third@2000", "urgent@2000", "fourth@2000", "fifth@2000"])
  })

  it("wakes a resting fiber early when nudged, else after its rest; remembers a nudge nobody waited for", () => {
    const time = new VirtualTime(0)
    const nudge = new Nudge(time)
    const woke: Array<string> = []
    const exit = time.run(
      Effect.gen(function* () {
        time.at(300, () => nudge.nudge())
        woke.push(`${yield* nudge.rest(1_000)}@${time.nowMs}`)
        woke.push(`${yield* nudge.rest(1_000)}@${time.nowMs}`)
        nudge.nudge()
        woke.push(`${yield* nudge.rest(1_000)}@${time.nowMs}`)
      })
    )
    succeeded(exit)
    expect(woke).toEqual(["true@300", "false@1300", "true@1300"])
  })
})
