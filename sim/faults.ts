import { Either, Schema } from "effect"
import type { DeviceRandom } from "./rng.js"

/**
 * Fault knobs: every fault the simulated world can inject, each switched on with a probability or a
 * schedule. `ecoupon sim --faults "card.jam=0.01,sms.outage=window:2h-2h30m/1d"` passes a string that
 * `parseFaults` turns into `SimFaults`; every sim layer takes the knobs of its own device from it.
 *
 * A fault is looked at on an *opportunity* (a move of the card unit, a print, an SMS send, ...; the
 * table below says which). Value forms:
 * - `0.05`: fires on each opportunity with that probability (drawn from the device's seeded generator);
 * - `always` / `never`;
 * - `every:N`: fires on every N-th opportunity (N, 2N, ...);
 * - `at:3+7+12`: fires on the 3rd, 7th and 12th opportunity only;
 * - `window:START-END` or `window:START-END/PERIOD`: fires on every opportunity between START and END
 *   after the device was built, repeating every PERIOD. Durations: `500ms`, `30s`, `10m`, `2h`, `1d`,
 *   combined as `1h30m`. A window is also a *condition*: a status query sees it (a printer whose cover
 *   is open for the window reports it), where a probability only ever fires on an opportunity.
 */
export const faultKnobs = {
  "card.jam": "a card unit move jams (Jam); every move fails until the next initialise",
  "card.stackerEmpty": "a pick from the stacker gets no card although some are left (StackerEmpty); a window also shows in status",
  "card.binFull": "the capture bin's full sensor trips before the bin is full (BinFull on capture); a window also shows in status",
  "card.sensor": "a card unit command fails with a sensor failure (SensorFault)",
  "card.notTaken": "the customer leaves the presented card at the gate (awaitTaken fails CardNotTaken)",
  "card.inserted": "a stray card is pushed into the empty gate (seen by status or a dispense): the dispense carries it in instead of a blank",
  "card.rf": "an RF operation fails in transmission (RfFailure transmission)",
  "printer.paperOut": "the paper sensor reports out (PaperOut) on a print although paper is left",
  "printer.coverOpen": "the printer cover is open (CoverOpen) on a print; a window also shows in status",
  "printer.offline": "the printer is offline (Offline) on a print; a window also shows in status",
  "printer.cutter": "the cutter fails after printing (PrinterFault cutter)",
  "sms.outage": "the SMS gateway is unreachable (ServiceUnavailable) on a send",
  "sms.reject": "the SMS gateway refuses a message (ServiceRejected)",
  "sms.loss": "an accepted message is never delivered to the phone",
  "sms.delay": "an accepted message is delivered late (after the layer's delayMs)",
  "carrier.outage": "the carrier is unreachable (ServiceUnavailable) on any call",
  "carrier.decline": "the carrier declines a prepare (ServiceRejected)",
  "carrier.lostAnswer": "a carrier call takes effect but its answer is lost (ServiceUnavailable)",
  "provider.outage": "a provider server is unreachable (ServiceUnavailable) on any call",
  "provider.reject": "a provider server refuses an order (ServiceRejected)",
  "provider.slow": "a provider server answers late (after the layer's slowMs)",
  "provider.lostAck": "a provider server takes the order but the acknowledgement is lost (ServiceUnavailable)",
  "payout.outage": "the payout service is unreachable (ServiceUnavailable)",
  "payout.reject": "the payout service refuses a payout (ServiceRejected)",
  "payout.lostAnswer": "a payout is made but its answer is lost (ServiceUnavailable)"
} as const

export type FaultKnob = keyof typeof faultKnobs
export const faultKnobNames = Object.keys(faultKnobs) as ReadonlyArray<FaultKnob>

export type FaultSpec =
  | { readonly _tag: "Never" }
  | { readonly _tag: "Always" }
  | { readonly _tag: "Probability"; readonly p: number }
  | { readonly _tag: "Every"; readonly n: number }
  | { readonly _tag: "At"; readonly occurrences: ReadonlyArray<number> }
  | { readonly _tag: "Window"; readonly startMs: number; readonly endMs: number; readonly periodMs?: number }

export type SimFaults = Partial<Record<FaultKnob, FaultSpec>>

export const never: FaultSpec = { _tag: "Never" }
export const always: FaultSpec = { _tag: "Always" }
export const probability = (p: number): FaultSpec => ({ _tag: "Probability", p })
export const every = (n: number): FaultSpec => ({ _tag: "Every", n })
export const at = (...occurrences: ReadonlyArray<number>): FaultSpec => ({ _tag: "At", occurrences })
export const window = (startMs: number, endMs: number, periodMs?: number): FaultSpec =>
  periodMs === undefined ? { _tag: "Window", startMs, endMs } : { _tag: "Window", startMs, endMs, periodMs }

export class FaultParseError extends Schema.TaggedError<FaultParseError>()("FaultParseError", {
  input: Schema.String,
  problems: Schema.Array(Schema.String)
}) {
  override get message() {
    return (
      `cannot use --faults "${this.input}": ${this.problems.join("; ")}. ` +
      `Write name=value pairs separated by commas; a value is a probability (0.05), always, never, ` +
      `every:N, at:3+7 or window:2h-2h30m[/1d]. Known knobs: ${faultKnobNames.join(", ")}`
    )
  }
}

const durationUnitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `1h30m` -> 5400000; undefined when it is not a duration. */
export const parseDurationMs = (text: string): number | undefined => {
  if (!/^(?:\d+(?:ms|s|m|h|d))+$/.test(text)) return undefined
  let total = 0
  for (const [, digits, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(digits) * durationUnitMs[unit as keyof typeof durationUnitMs]
  }
  return Number.isSafeInteger(total) ? total : undefined
}

export const formatDurationMs = (ms: number): string => {
  if (ms === 0) return "0ms"
  let rest = ms
  let text = ""
  for (const unit of ["d", "h", "m", "s", "ms"] as const) {
    const size = durationUnitMs[unit]
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`
      rest %= size
    }
  }
  return text
}

const positiveInt = (text: string): number | undefined =>
  /^\d+$/.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text)) ? Number(text) : undefined

/** One value; the error says what is wrong with it. */
export const parseFaultSpec = (value: string): Either.Either<FaultSpec, string> => {
  if (value === "never" || value === "off") return Either.right(never)
  if (value === "always" || value === "on") return Either.right(always)
  if (/^(?:\d+(?:\.\d+)?|\.\d+)$/.test(value)) {
    const p = Number(value)
    return p <= 1 ? Either.right(probability(p)) : Either.left(`${value} is not a probability between 0 and 1`)
  }
  if (value.startsWith("every:")) {
    const n = positiveInt(value.slice(6))
    return n === undefined ? Either.left(`every:N needs a whole number N >= 1, not "${value.slice(6)}"`) : Either.right(every(n))
  }
  if (value.startsWith("at:")) {
    const parts = value.slice(3).split("+").map(positiveInt)
    if (parts.some((n) => n === undefined)) {
      return Either.left(`at: needs opportunity numbers >= 1 joined by +, like at:3+7, not "${value.slice(3)}"`)
    }
    return Either.right(at(...(parts as Array<number>).sort((a, b) => a - b)))
  }
  if (value.startsWith("window:")) {
    const match = /^([^-/]+)-([^/]+)(?:\/(.+))?$/.exec(value.slice(7))
    const [startMs, endMs, periodMs] = match === null ? [] : [match[1], match[2], match[3]].map((d) => d === undefined ? undefined : parseDurationMs(d))
    if (match === null || startMs === undefined || endMs === undefined || (match[3] !== undefined && periodMs === undefined)) {
      return Either.left(`window: needs START-END[/PERIOD] durations like window:2h-2h30m/1d, not "${value.slice(7)}"`)
    }
    if (endMs <= startMs) return Either.left(`window ${value.slice(7)} ends before it starts`)
    if (periodMs !== undefined && (periodMs === 0 || endMs > periodMs)) {
      return Either.left(`window ${value.slice(7)} must end within its period (END <= PERIOD)`)
    }
    return Either.right(window(startMs, endMs, periodMs))
  }
  return Either.left(`"${value}" is not a fault value`)
}

/** `name=value,...` as `ecoupon sim --faults` passes it. Every problem is reported, not just the first. */
export const parseFaults = (input: string): Either.Either<SimFaults, FaultParseError> => {
  const faults: Record<string, FaultSpec> = {}
  const problems: Array<string> = []
  const entries = input.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "")
  for (const entry of entries) {
    const eq = entry.indexOf("=")
    const name = (eq < 0 ? entry : entry.slice(0, eq)).trim()
    const value = eq < 0 ? "" : entry.slice(eq + 1).trim()
    if (!(name in faultKnobs)) {
      problems.push(`unknown fault knob "${name}"${suggest(name)}`)
    } else if (eq < 0 || value === "") {
      problems.push(`${name} has no value`)
    } else if (name in faults) {
      problems.push(`${name} is given twice`)
    } else {
      Either.match(parseFaultSpec(value), {
        onLeft: (problem) => problems.push(`${name}: ${problem}`),
        onRight: (spec) => (faults[name] = spec)
      })
    }
  }
  return problems.length > 0 ? Either.left(new FaultParseError({ input, problems })) : Either.right(faults as SimFaults)
}

const suggest = (name: string): string => {
  const lower = name.toLowerCase()
  const near = faultKnobNames.filter((knob) => knob.toLowerCase() === lower || knob.toLowerCase().endsWith(`.${lower}`))
  return near.length > 0 ? ` (did you mean ${near.join(" or ")}?)` : ""
}

export const formatFaultSpec = (spec: FaultSpec): string => {
  switch (spec._tag) {
    case "Never":
      return "never"
    case "Always":
      return "always"
    case "Probability":
      return String(spec.p)
    case "Every":
      return `every:${spec.n}`
    case "At":
      return `at:${spec.occurrences.join("+")}`
    case "Window":
      return `window:${formatDurationMs(spec.startMs)}-${formatDurationMs(spec.endMs)}${
        spec.periodMs === undefined ? "" : `/${formatDurationMs(spec.periodMs)}`
      }`
  }
}

/** The inverse of `parseFaults`, in knob-table order (for reports and replay). */
export const formatFaults = (faults: SimFaults): string =>
  faultKnobNames.flatMap((knob) => {
    const spec = faults[knob]
    return spec === undefined ? [] : [`${knob}=${formatFaultSpec(spec)}`]
  }).join(",")

/**
 * One fault of one device, live. `fires` is called once per opportunity; `inForce` answers for a
 * condition (a status query) without using an opportunity.
 */
export class Fault {
  private opportunities = 0
  /** How many times the fault fired (for the fleet's faults-by-kind figures). */
  fired = 0
  constructor(
    readonly spec: FaultSpec,
    private readonly random: DeviceRandom,
    /** Windows count from here: the time the device was built. */
    private readonly originMs: number
  ) {}

  fires(nowMs: number): boolean {
    if (this.decide(nowMs)) {
      this.fired++
      return true
    }
    return false
  }

  private decide(nowMs: number): boolean {
    const spec = this.spec
    switch (spec._tag) {
      case "Never":
        return false
      case "Always":
        return true
      case "Probability":
        // No draw for p = 0 and p = 1, so switching a knob between those keeps the other draws in step.
        return spec.p >= 1 ? true : spec.p <= 0 ? false : this.random.next() < spec.p
      case "Every":
        return ++this.opportunities % spec.n === 0
      case "At":
        return spec.occurrences.includes(++this.opportunities)
      case "Window":
        return this.inForce(nowMs)
    }
  }

  inForce(nowMs: number): boolean {
    const spec = this.spec
    if (spec._tag === "Always") return true
    if (spec._tag !== "Window") return false
    const sinceMs = nowMs - this.originMs
    const offsetMs = spec.periodMs === undefined ? sinceMs : sinceMs % spec.periodMs
    return offsetMs >= spec.startMs && offsetMs < spec.endMs
  }
}

/** The live faults of one device: its knobs, replaceable at run time through its control service. */
export class FaultTable<K extends FaultKnob> {
  private readonly table = new Map<K, Fault>()
  constructor(
    knobs: ReadonlyArray<K>,
    faults: SimFaults,
    private readonly random: DeviceRandom,
    private readonly originMs: number
  ) {
    for (const knob of knobs) this.set(knob, faults[knob] ?? never)
  }

  /** Replaces a knob's fault; its fired count carries over. */
  set(knob: K, spec: FaultSpec): void {
    const fault = new Fault(spec, this.random, this.originMs)
    fault.fired = this.table.get(knob)?.fired ?? 0
    this.table.set(knob, fault)
  }

  /** Fired counts of the knobs that fired at least once. */
  firedCounts(): Partial<Record<K, number>> {
    const counts: Partial<Record<K, number>> = {}
    for (const [knob, fault] of this.table) if (fault.fired > 0) counts[knob] = fault.fired
    return counts
  }

  get(knob: K): Fault {
    const fault = this.table.get(knob)
    // Every knob of the device is set in the constructor, and `set` only replaces.
    if (fault === undefined) throw new Error(`fault knob ${knob} is not a knob of this device`)
    return fault
  }

  fires(knob: K, nowMs: number): boolean {
    return this.get(knob).fires(nowMs)
  }

  inForce(knob: K, nowMs: number): boolean {
    return this.get(knob).inForce(nowMs)
  }
}

/** The knobs whose names start with `device.` (for a layer's own table). */
export const knobsOf = <P extends string>(device: P): ReadonlyArray<Extract<FaultKnob, `${P}.${string}`>> =>
  faultKnobNames.filter((knob): knob is Extract<FaultKnob, `${P}.${string}`> => knob.startsWith(`${device}.`))
