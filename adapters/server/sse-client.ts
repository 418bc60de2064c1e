import { Data, Duration, Effect, Queue, type Scope } from "effect"
import { makeSseParser, type ParsedSseEvent } from "./sse-encoding.js"

export class SseClientError extends Data.TaggedError("SseClientError")<{ readonly message: string }> {}

export interface SseConnection {
  readonly status: number
  /** The next event that satisfies `accept` (others before it are dropped), failing after `timeoutMs`. */
  readonly next: (accept: (event: ParsedSseEvent) => boolean, timeoutMs: number) => Effect.Effect<ParsedSseEvent, SseClientError>
}

/**
 * Opens an event stream over HTTP (Node's fetch) for as long as the scope lives; closing the scope
 * aborts the request, which is how a kiosk hangs up. Events are queued up to `bufferMax`.
 */
export const openEventStream = (
  url: string,
  headers: Readonly<Record<string, string>>,
  bufferMax = 10_000
): Effect.Effect<SseConnection, SseClientError, Scope.Scope> =>
  Effect.gen(function* () {
    const abort = yield* Effect.acquireRelease(Effect.sync(() => new AbortController()), (controller) => Effect.sync(() => controller.abort()))
    const response = yield* Effect.tryPromise({
      try: () => fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal }),
      catch: (cause) => new SseClientError({ message: `cannot open ${url}: ${String(cause)}` })
    })
    const events = yield* Queue.sliding<ParsedSseEvent>(bufferMax)
    const body = response.body
    if (response.ok && body !== null) {
      const parse = makeSseParser()
      const decoder = new TextDecoder()
      const pump = Effect.promise(async (signal) => {
        const reader = body.getReader()
        signal.addEventListener("abort", () => void reader.cancel().catch(() => undefined))
        try {
          for (;;) {
            const { done, value } = await reader.read()
            if (done) return
            for (const event of parse(decoder.decode(value, { stream: true }))) Queue.unsafeOffer(events, event)
          }
        } catch {
          return
        }
      })
      yield* Effect.forkScoped(Effect.ensuring(pump, Queue.shutdown(events)))
    }
    const next = (accept: (event: ParsedSseEvent) => boolean, timeoutMs: number) =>
      Queue.take(events).pipe(
        Effect.repeat({ until: accept }),
        // A shut-down queue (the stream ended) interrupts the take; say so rather than hang.
        Effect.catchAllCause(() => Effect.fail(new SseClientError({ message: "the event stream ended" }))),
        Effect.timeoutFail({ duration: Duration.millis(timeoutMs), onTimeout: () => new SseClientError({ message: `no matching event within ${timeoutMs} ms` }) })
      )
    return { status: response.status, next }
  })
