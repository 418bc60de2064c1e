import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Tracer } from "effect"
import { traced } from "./traced.js"

/** A tracer that only records the names of the spans it is asked to open. */
const recordingTracer = (names: Array<string>): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      names.push(name)
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: String(names.length),
        traceId: "test",
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes: new Map(),
        links,
        sampled: true,
        kind,
        end: () => undefined,
        attribute: () => undefined,
        event: () => undefined,
        addLinks: () => undefined
      }
      return span
    },
    context: (f) => f()
  })

describe("traced", () => {
  it.effect("opens the named span, parent of what runs inside, when tracing is on", () =>
    Effect.gen(function* () {
      const names: Array<string> = []
      const inner = yield* Effect.currentSpan.pipe(
        Effect.map((span) => span.name),
        traced("Outer.op", { attributes: { kind: "x" } }),
        Effect.withTracer(recordingTracer(names))
      )
      expect(inner).toBe("Outer.op")
      expect(names).toEqual(["Outer.op"])
    }))

  it.effect("opens no span at all when tracing is off, and passes the result through", () =>
    Effect.gen(function* () {
      const names: Array<string> = []
      const result = yield* Effect.succeed(42).pipe(traced("Outer.op"), Effect.withTracer(recordingTracer(names)), Effect.withTracerEnabled(false))
      const span = yield* Effect.option(Effect.currentSpan).pipe(traced("Outer.op"), Effect.withTracerEnabled(false))
      expect(result).toBe(42)
      expect(names).toEqual([])
      expect(Option.isNone(span)).toBe(true)
    }))
})
