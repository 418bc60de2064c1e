import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, FiberId, FiberRefs, HashMap, List, Logger, LogLevel } from "effect"
import { jsonLogLine, maskPhones } from "./json-logger.js"

const entry = (message: unknown, annotations: Record<string, unknown>, cause: Cause.Cause<unknown> = Cause.empty): Logger.Logger.Options<unknown> => ({
  fiberId: FiberId.none,
  logLevel: LogLevel.Info,
  message,
  cause,
  context: FiberRefs.unsafeMake(new Map()),
  spans: List.empty(),
  annotations: HashMap.fromIterable(Object.entries(annotations)),
  date: new Date(Date.UTC(2026, 11, 5, 23, 59, 1, 123))
})

describe("the server's JSON log line", () => {
  it("is one JSON object: time, level, message, then the annotations", () => {
    const line = jsonLogLine(entry("answered", { requestId: "0f3e2b1c-1234-4321-8765-123456789012", route: "kiosks.place", status: 200, durationMs: 4.2 }))
    expect(line).not.toContain("\n")
    expect(JSON.parse(line)).toEqual({
      time: "2026-12-05T23:59:01.123Z",
      level: "info",
      message: "answered",
      requestId: "0f3e2b1c-1234-4321-8765-123456789012",
      route: "kiosks.place",
      status: 200,
      durationMs: 4.2
    })
  })

  it("masks whatever is shaped like a phone number, in the message, the annotations and the cause", () => {
    const line = jsonLogLine(
      entry(["sent to", "+821055512345"], { to: "01055512345", nested: { phone: "+14155550123" }, orderId: "ord_20261205123456" }, Cause.fail(new Error("no route to +821055512345")))
    )
    for (const digits of ["821055512345", "55512345", "01055512345", "14155550123"]) expect(line).not.toContain(digits)
    const parsed = JSON.parse(line) as Record<string, unknown>
    expect(parsed["message"]).toBe("sent to +8210****2345")
    expect(parsed["orderId"]).toBe("ord_20261205123456")
    expect(String(parsed["cause"])).toContain("+8210****2345")
  })

  it("leaves numbers that are not strings, and digits inside words, alone; a long number standing alone in text is masked", () => {
    expect(maskPhones("order ord_1733356800000, request 12345678-1234-1234-1234-123456789012")).toBe("order ord_1733356800000, request 12345678-1234-1234-1234-123456789012")
    expect(maskPhones("at 1733356800000")).toBe("at 17333****0000")
    expect(JSON.parse(jsonLogLine(entry("round", { periodEndMs: 1733356800000 })))["periodEndMs"]).toBe(1733356800000)
  })

  it.effect("is what the logger writes", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.make((options) => void lines.push(jsonLogLine(options)))
      yield* Effect.logWarning("outbox gave up").pipe(Effect.annotateLogs({ dead: 2 }), Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
      expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ level: "warn", message: "outbox gave up", dead: 2 })
    })
  )
})
