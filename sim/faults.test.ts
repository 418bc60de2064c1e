import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import {
  always,
  at,
  every,
  Fault,
  faultKnobNames,
  type FaultSpec,
  formatFaults,
  never,
  parseDurationMs,
  parseFaults,
  probability,
  window
} from "./faults.js"
import { deviceRandom } from "./rng.js"

const problemsOf = (input: string) =>
  Either.match(parseFaults(input), { onLeft: (e) => e.problems, onRight: () => [] as ReadonlyArray<string> })

describe("fault knobs: parsing", () => {
  it("reads every value form", () => {
    const parsed = parseFaults(
      " card.jam=0.01, sms.outage=window:2h-2h30m/1d ,printer.coverOpen=at:7+3,carrier.decline=every:5,payout.outage=always,sms.loss=never"
    )
    expect(parsed).toEqual(
      Either.right({
        "card.jam": probability(0.01),
        "sms.outage": window(7_200_000, 9_000_000, 86_400_000),
        "printer.coverOpen": at(3, 7),
        "carrier.decline": every(5),
        "payout.outage": always,
        "sms.loss": never
      })
    )
  })

  it("an empty string is no faults", () => {
    expect(parseFaults("")).toEqual(Either.right({}))
  })

  it("round-trips through formatFaults", () => {
    const text = "card.jam=0.25,card.sensor=at:1+5,sms.delay=every:3,carrier.outage=window:1h30m-2h,provider.slow=window:0ms-10m/1h"
    const parsed = parseFaults(text)
    expect(Either.map(parsed, formatFaults)).toEqual(Either.right(text))
  })

  it("names every unknown knob and every bad value in one error", () => {
    const problems = problemsOf("card.jamm=0.1,jam=0.2,card.jam=1.5,sms.loss=every:0,sms.delay,carrier.outage=window:2h-1h,card.rf=sometimes")
    expect(problems).toEqual([
      `unknown fault knob "card.jamm"`,
      `unknown fault knob "jam" (did you mean card.jam?)`,
      "card.jam: 1.5 is not a probability between 0 and 1",
      `sms.loss: every:N needs a whole number N >= 1, not "0"`,
      "sms.delay has no value",
      "carrier.outage: window 2h-1h ends before it starts",
      `card.rf: "sometimes" is not a fault value`
    ])
    const error = parseFaults("nope=1")
    expect(Either.isLeft(error) && error.left.message).toContain("Known knobs: card.jam")
  })

  it("refuses a knob given twice and a window longer than its period", () => {
    expect(problemsOf("card.jam=0.1,card.jam=0.2")).toEqual(["card.jam is given twice"])
    expect(problemsOf("sms.outage=window:1h-3h/2h")).toEqual(["sms.outage: window 1h-3h/2h must end within its period (END <= PERIOD)"])
  })

  it("reads durations", () => {
    expect([parseDurationMs("1h30m"), parseDurationMs("500ms"), parseDurationMs("1d"), parseDurationMs("10"), parseDurationMs("h")]).toEqual(
      [5_400_000, 500, 86_400_000, undefined, undefined]
    )
  })

  it("every knob has a device prefix and a description", () => {
    for (const knob of faultKnobNames) expect(knob).toMatch(/^(card|printer|sms|carrier|provider|payout)\.[a-zA-Z]+$/)
  })
})

describe("fault knobs: firing", () => {
  const firings = (spec: FaultSpec, times: ReadonlyArray<number>, seed = 1) =>
    Effect.map(deviceRandom(seed), (random) => {
      const fault = new Fault(spec, random, 1_000)
      return times.map((t) => fault.fires(t))
    })

  it.effect("every:N and at: count opportunities", () =>
    Effect.gen(function*() {
      const t = Array.from({ length: 7 }, () => 0)
      expect(yield* firings(every(3), t)).toEqual([false, false, true, false, false, true, false])
      expect(yield* firings(at(2, 5), t)).toEqual([false, true, false, false, true, false, false])
    }))

  it.effect("a window counts from the device's start and repeats with its period", () =>
    Effect.gen(function*() {
      // Origin 1000 ms; window 10-20 ms every 100 ms.
      const times = [1_005, 1_010, 1_019, 1_020, 1_110, 1_125]
      expect(yield* firings(window(10, 20, 100), times)).toEqual([false, true, true, false, true, false])
      const random = yield* deviceRandom(1)
      const fault = new Fault(window(10, 20), random, 1_000)
      expect([fault.inForce(1_015), fault.inForce(1_115)]).toEqual([true, false])
      expect(new Fault(probability(1), random, 0).inForce(0)).toBe(false)
    }))

  it.effect("a probability fires at about its rate, the same way for the same seed", () =>
    Effect.gen(function*() {
      const t = Array.from({ length: 10_000 }, () => 0)
      const first = yield* firings(probability(0.1), t, 42)
      const rate = first.filter(Boolean).length / t.length
      expect(rate).toBeGreaterThan(0.08)
      expect(rate).toBeLessThan(0.12)
      expect(yield* firings(probability(0.1), t, 42)).toEqual(first)
      expect(yield* firings(probability(0.1), t, 43)).not.toEqual(first)
    }))
})
