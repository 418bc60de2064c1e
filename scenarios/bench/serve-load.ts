import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { readFileSync } from "node:fs"
import * as os from "node:os"
import { Context, Duration, Effect, Exit, Layer } from "effect"
import { OfferId, OrderId } from "../../core/domain/ids.js"
import { DeliverOrder } from "../../core/domain/order.js"
import type { KioskBackendService } from "../../core/ports/kiosk-backend.js"
import { KioskBackendHttp, KIOSK_REQUEST_TIMEOUT_MS } from "../../adapters/http-client/kiosk-backend-http.js"
import { BENCH, grantPoints } from "./serve-deployment.js"
import { FloorApi } from "./serve-floor-api.js"
import type { BenchVendor } from "./serve-vendor.js"

/**
 * The serve benchmark's kiosks: one fiber per kiosk, each running issuance cycles (place, then
 * deliver on paper) back to back through one HTTP client (undici, keep-alive), for a warm-up and then
 * a measured window. The client reads every answer's `Server-Timing` (adapters/server/
 * request-pipeline.ts) into its cycle's account, so the figures of the cycles completed in the
 * window say where the server spent their time.
 */

export interface ServerTimingSums {
  requests: number
  appMs: number
  dbMs: number
  dblockMs: number
  fsyncMs: number
}

export interface WindowFigures {
  readonly kiosks: number
  readonly seconds: number
  readonly cycles: number
  readonly failures: number
  readonly firstFailure: string | undefined
  /** Each completed cycle's latency, ms, ascending. */
  readonly latenciesMs: ReadonlyArray<number>
  /** The Server-Timing of the completed cycles' requests, added up. */
  readonly timing: ServerTimingSums
  /** CPU time of the server process in the window, ms (from /proc). */
  readonly serverCpuMs: number
  /** CPU time of this (client) process in the window, ms. */
  readonly clientCpuMs: number
  readonly loadAverage: number
  /** What `counters` said changed over the window (e.g. fsyncs from /metrics, PostgreSQL's account). */
  readonly counters: Readonly<Record<string, number>>
  /** The window on the monotonic clock (µs), the clock V8's CPU profiles use. */
  readonly monotonicUs: readonly [number, number]
}

/** One cycle of one kiosk; `n` counts the kiosk's cycles. */
export type Cycle = (kiosk: number, n: number) => Effect.Effect<void, unknown>

const emptySums = (): ServerTimingSums => ({ requests: 0, appMs: 0, dbMs: 0, dblockMs: 0, fsyncMs: 0 })

/** The account of the cycle running in this fiber (none outside a cycle). */
class CycleTimings extends Context.Reference<CycleTimings>()("bench/serve/CycleTimings", { defaultValue: (): ServerTimingSums | undefined => undefined }) {}

/** The HTTP client every kiosk shares, adding each answer's Server-Timing to its cycle's account. */
export const timedClient = () =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.tap(client, (response) =>
        Effect.map(CycleTimings, (sums) => {
          if (sums === undefined) return
          const header = response.headers["server-timing"]
          if (header === undefined) return
          sums.requests++
          for (const entry of header.split(",")) {
            const [name, ...params] = entry.trim().split(";")
            const dur = Number(params.find((param) => param.startsWith("dur="))?.slice(4))
            if (!Number.isFinite(dur)) continue
            if (name === "app") sums.appMs += dur
            else if (name === "db") sums.dbMs += dur
            else if (name === "dblock") sums.dblockMs += dur
            else if (name === "fsync") sums.fsyncMs += dur
          }
        })))
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** utime + stime of a process, ms (Linux). */
export const processCpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []
  // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based) -> indexes 11 and 12 here.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

const now = () => performance.now()
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)

/** Runs `kiosks` kiosks on `cycle` for `warmupS` and then `seconds`; the figures are the window's. */
export const drive = (options: {
  readonly kiosks: number
  readonly warmupS: number
  readonly seconds: number
  readonly serverPid: number
  readonly window: { startMs: number; endMs: number }
  readonly cycle: Cycle
  /** Read at both edges of the window; the figures carry the differences. */
  readonly counters?: () => Promise<Record<string, number>>
}): Effect.Effect<WindowFigures> =>
  Effect.gen(function* () {
    const { window } = options
    const sums = emptySums()
    window.startMs = now() + options.warmupS * 1000
    window.endMs = window.startMs + options.seconds * 1000
    const latencies: Array<number> = []
    let cycles = 0
    let failures = 0
    let firstFailure: string | undefined
    const kiosk = (k: number) =>
      Effect.gen(function* () {
        for (let n = 0; now() < window.endMs; n++) {
          const startedMs = now()
          const account = emptySums()
          const exit = yield* Effect.exit(Effect.provideService(options.cycle(k, n), CycleTimings, account))
          const doneMs = now()
          if (doneMs < window.startMs || doneMs > window.endMs) continue
          if (Exit.isSuccess(exit)) {
            cycles++
            sums.requests += account.requests
            sums.appMs += account.appMs
            sums.dbMs += account.dbMs
            sums.dblockMs += account.dblockMs
            sums.fsyncMs += account.fsyncMs
            latencies.push(doneMs - startedMs)
          } else {
            failures++
            firstFailure ??= String(exit.cause).slice(0, 300)
          }
        }
      })
    // Samples CPU at the window's edges.
    const sampler = Effect.gen(function* () {
      yield* Effect.sleep(Duration.millis(Math.max(0, window.startMs - now())))
      const readCounters = options.counters ?? ((): Promise<Record<string, number>> => Promise.resolve({}))
      const counters0 = yield* Effect.promise(readCounters)
      const server0 = processCpuMs(options.serverPid)
      const client0 = process.cpuUsage()
      const monotonic0 = monotonicUs()
      yield* Effect.sleep(Duration.millis(Math.max(0, window.endMs - now())))
      const client = process.cpuUsage(client0)
      const counters1 = yield* Effect.promise(readCounters)
      return {
        counters: Object.fromEntries(Object.entries(counters1).map(([name, value]) => [name, value - (counters0[name] ?? 0)])),
        serverCpuMs: processCpuMs(options.serverPid) - server0,
        clientCpuMs: (client.user + client.system) / 1000,
        loadAverage: os.loadavg()[0] ?? 0,
        monotonicUs: [monotonic0, monotonicUs()] as const
      }
    })
    const [cpu] = yield* Effect.all([sampler, Effect.forEach(Array.from({ length: options.kiosks }, (_, k) => k), kiosk, { concurrency: "unbounded", discard: true })], { concurrency: "unbounded" })
    latencies.sort((a, b) => a - b)
    return { kiosks: options.kiosks, seconds: options.seconds, cycles, failures, firstFailure, latenciesMs: latencies, timing: { ...sums }, ...cpu }
  })

/** A customer at each kiosk: registered with the one-time code the vendor got, granted points; their session. */
export const registerCustomers = (options: {
  readonly baseUrl: string
  readonly adminToken: string
  readonly vendor: BenchVendor
  readonly backends: ReadonlyArray<KioskBackendService>
}) =>
  Effect.forEach(options.backends, (backend, k) =>
    Effect.gen(function* () {
      const phone = `+821055${String(k).padStart(6, "0")}`
      const sent = yield* backend.requestCode(phone)
      const code = yield* Effect.promise(() => options.vendor.codeFor(phone, 15_000))
      const session = yield* backend.verifyCode(sent.challengeId, code)
      yield* Effect.promise(() => grantPoints(options.baseUrl, options.adminToken, session.userId, `grant_bench_${k}`))
      const catalog = yield* backend.catalog
      return { sessionId: session.sessionId, catalogVersion: catalog.version }
    }), { concurrency: 16 })

/** A kiosk's issuance cycle against `ecoupon serve`: place, then deliver on paper. */
export const issuanceCycle = (
  backends: ReadonlyArray<KioskBackendService>,
  customers: ReadonlyArray<{ readonly sessionId: string; readonly catalogVersion: number }>,
  run: string
): Cycle =>
(k, n) => {
  const backend = backends[k] as KioskBackendService
  const customer = customers[k] as (typeof customers)[number]
  const orderId = OrderId.make(`ord_${run}_${k}_${n}`)
  return Effect.zipRight(
    backend.place({ orderId, sessionId: customer.sessionId, offerId: OfferId.make(BENCH.offer), quantity: 1, catalogVersion: customer.catalogVersion, medium: "paper" }),
    backend.deliver(new DeliverOrder({ orderId, medium: { _tag: "paper" } }))
  )
}

/** The kiosks' backends over HTTP, each with its own key, on the shared client. */
export const kioskBackends = (baseUrl: string, keys: ReadonlyArray<string>) =>
  Effect.forEach(keys, (kioskKey) => KioskBackendHttp.make({ baseUrl, kioskKey }))

/** The same two requests against the floor server, through the same client (and the same deadline). */
export const floorCycle = (baseUrl: string, keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const clients = yield* Effect.forEach(keys, (key) => HttpApiClient.make(FloorApi, { baseUrl, transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(key)) }))
    const timeout = Duration.millis(KIOSK_REQUEST_TIMEOUT_MS)
    const cycle: Cycle = (k, n) => {
      const client = (clients[k] as (typeof clients)[number]).kiosks
      const orderId = OrderId.make(`ord_floor_${k}_${n}`)
      return Effect.zipRight(
        client.place({ payload: { orderId, sessionId: "ses_floor", offerId: OfferId.make(BENCH.offer), quantity: 1, catalogVersion: 1, medium: "paper" } }).pipe(Effect.timeout(timeout)),
        client.deliver({ path: { orderId }, payload: { medium: { _tag: "paper" } } }).pipe(Effect.timeout(timeout))
      )
    }
    return cycle
  })
