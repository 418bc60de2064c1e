import { type Option, Tracer } from "effect"

/**
 * A tracer that only times spans, by name, in wall-clock time: where a fleet run spends its time, per
 * core operation (`Orders.place`, `Outbox.dispatchDue`, ...) and per SQL statement. For profiling
 * (`npm run bench -- sim ... spans`); a normal run has tracing off.
 *
 * A span's time includes its children's, and the virtual-time loop runs other fibers while one is
 * suspended, so a span that sleeps in virtual time (a device move) also counts what ran meanwhile.
 * The core services never sleep inside a transaction, so their figures are their own.
 */
export interface SpanTiming {
  readonly name: string
  readonly count: number
  readonly totalMs: number
}

export const makeSpanTimer = (now: () => number) => {
  const timings = new Map<string, { count: number; totalMs: number }>()
  let nextId = 0
  const tracer = Tracer.make({
    span: (name, parent: Option.Option<Tracer.AnySpan>, context, links, startTime, kind) => {
      const startedMs = now()
      const attributes = new Map<string, unknown>()
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: String(nextId++),
        traceId: "fleet",
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes,
        links,
        sampled: true,
        kind,
        end: () => {
          const timing = timings.get(name) ?? { count: 0, totalMs: 0 }
          timing.count++
          timing.totalMs += now() - startedMs
          timings.set(name, timing)
        },
        attribute: (key, value) => void attributes.set(key, value),
        event: () => undefined,
        addLinks: () => undefined
      }
      return span
    },
    context: (f) => f()
  })
  /** The slowest names first. */
  const report = (): ReadonlyArray<SpanTiming> =>
    [...timings.entries()].map(([name, t]) => ({ name, count: t.count, totalMs: t.totalMs })).sort((a, b) => b.totalMs - a.totalMs)
  return { tracer, report }
}
