import type { Server } from "node:http"
import { Effect, Layer } from "effect"

/**
 * Graceful stop for the listener: stop accepting connections, answer what is in flight with
 * `Connection: close`, close connections as they fall idle, and give up on the stragglers after a
 * grace period. Node's own `server.close()` waits for keep-alive connections that a busy client keeps
 * reusing, and the HTTP layer takes its handler off the server when it stops: a request arriving then
 * would never be answered. So the drain runs first, with the handler still in place.
 */
export const DRAIN_GRACE_MS = 1_500
const DRAIN_POLL_MS = 10

export interface Drain {
  draining: boolean
  readonly run: Effect.Effect<void>
}

const connections = (server: Server) =>
  Effect.async<number>((resume) => {
    server.getConnections((error, count) => resume(Effect.succeed(error ? 0 : count)))
  })

export const makeDrain = (server: Server, graceMs: number): Drain => {
  const drain: Drain = {
    draining: false,
    run: Effect.gen(function* () {
      drain.draining = true
      if (server.listening) server.close()
      const deadline = performance.now() + graceMs
      while (performance.now() < deadline) {
        server.closeIdleConnections()
        if ((yield* connections(server)) === 0) return
        yield* Effect.sleep(DRAIN_POLL_MS)
      }
      server.closeAllConnections()
    })
  }
  return drain
}

/** Drains when released. */
export const drainLayer = (drain: Drain): Layer.Layer<never> => Layer.scopedDiscard(Effect.addFinalizer(() => drain.run))
