import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Effect } from "effect"
import { defaultTiming, deviceName, makeCardUnit } from "../../hil/crt591-driver.js"
import { Crt591Emulator } from "../../hil/crt591-emulator.js"
import { defaultLinkOptions, makeCrt591Link } from "../../hil/crt591-link.js"
import { openPtyPair } from "../../hil/pty.js"
import { defaultLine, SerialConnection } from "../../hil/serial-port.js"
import { openLink } from "../../hil/serial-transport.js"

/**
 * `npm run bench -- hil [exchanges]`: CRT-591 status exchanges, driver to emulator, through a socat
 * pty pair with the emulator's wire timing off, so every microsecond measured is software: driver,
 * transport, kernel ptys, socat, emulator. Alongside, in interleaved blocks so both see the same
 * machine, a bare echo of a 9-byte frame over a second pty pair: the floor the kernel and socat
 * set. Prints latency per exchange and per echo (p50/p99/max), the difference (the overhead our
 * code adds), CPU per exchange, and heap/RSS before, halfway and after.
 * Target: overhead p99 <= 1 ms, and no memory growth.
 */

const TARGET_P99_MS = 1
const WARMUP = 1_000
const BLOCK = 500
/** Heap growth over the second half we still call noise: V8 keeps some slack after a full GC. */
const GROWTH_TOLERANCE_BYTES = 1024 * 1024

const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
const ms = (n: number) => `${n.toFixed(3)} ms`
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`

const collect: () => void = (() => {
  setFlagsFromString("--expose-gc")
  const gc: unknown = runInNewContext("gc")
  return typeof gc === "function" ? () => void gc() : () => {}
})()

const memory = () => {
  collect()
  collect()
  const m = process.memoryUsage()
  return { heapUsed: m.heapUsed, rss: m.rss }
}

const summary = (samples: Float64Array) => {
  const sorted = Float64Array.from(samples).sort()
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 }
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}

/** The floor: a 9-byte write echoed back whole by a plain reader on the other end, no protocol. */
const echoPair = Effect.gen(function* () {
  const pair = yield* Effect.acquireRelease(Effect.promise(() => openPtyPair()), (p) => Effect.promise(() => p.close()))
  const a = yield* Effect.acquireRelease(Effect.promise(() => SerialConnection.open(pair.pathA, defaultLine)), (c) => Effect.promise(() => c.close()))
  const b = yield* Effect.acquireRelease(Effect.promise(() => SerialConnection.open(pair.pathB, defaultLine)), (c) => Effect.promise(() => c.close()))
  b.onData = (chunk) => void b.write(chunk).catch(() => undefined)
  const frame = Uint8Array.of(0xf2, 0, 0, 3, 0x43, 0x31, 0x30, 0x03, 0xb0)
  const once = () =>
    new Promise<number>((resolve) => {
      const started = process.hrtime.bigint()
      let got = 0
      a.onData = (chunk) => {
        got += chunk.length
        if (got >= frame.length) resolve(Number(process.hrtime.bigint() - started) / 1e6)
      }
      void a.write(frame)
    })
  return Effect.promise(once)
})

const statusExchange = Effect.gen(function* () {
  const pair = yield* Effect.acquireRelease(Effect.promise(() => openPtyPair()), (p) => Effect.promise(() => p.close()))
  const emulator = yield* Effect.acquireRelease(
    Effect.promise(() => Crt591Emulator.open(pair.pathB, { wireTiming: false, device: { initMs: 0, moveMs: 0, rfMs: 0 } })),
    (e) => Effect.promise(() => e.close())
  )
  const device = deviceName(pair.pathA)
  const crt = yield* makeCrt591Link(yield* openLink({ path: pair.pathA, device }), device, defaultLinkOptions)
  const unit = makeCardUnit(crt, defaultTiming)
  yield* unit.initialise("leave")
  const timed = Effect.gen(function* () {
    const started = process.hrtime.bigint()
    yield* unit.status
    return Number(process.hrtime.bigint() - started) / 1e6
  })
  return { timed, crt, emulator: emulator.emulator }
})

const measure = (count: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const echo = yield* echoPair
      const { timed, crt, emulator } = yield* statusExchange
      for (let i = 0; i < WARMUP; i++) {
        yield* timed
        yield* echo
      }
      // Preallocated, so the samples themselves do not show as growth.
      const exchangeMs = new Float64Array(count)
      const echoMs = new Float64Array(count)
      let exchangeCpuMs = 0
      let echoCpuMs = 0
      let exchangeWallMs = 0
      const before = memory()
      let mid = before
      for (let done = 0; done < count; ) {
        // Memory is read halfway, between blocks: growth after it is a leak, growth before it may be
        // V8 settling (compiled code, hash-table capacity).
        if (mid === before && done >= count / 2) mid = memory()
        const n = Math.min(BLOCK, count - done)
        let cpu = process.cpuUsage()
        for (let i = done; i < done + n; i++) exchangeWallMs += exchangeMs[i] = yield* timed
        exchangeCpuMs += cpuMs(cpu)
        cpu = process.cpuUsage()
        for (let i = done; i < done + n; i++) echoMs[i] = yield* echo
        echoCpuMs += cpuMs(cpu)
        done += n
      }
      const after = memory()
      return { exchange: summary(exchangeMs), echo: summary(echoMs), exchangeCpuMs, echoCpuMs, exchangeWallMs, before, mid, after, link: crt.stats(), emulator: emulator.stats }
    })
  )

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const count = Number(args[0] ?? 10_000)
  if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`exchanges must be a positive whole number, got ${args[0]}`)
  const r = await Effect.runPromise(measure(count))
  const overheadP50 = r.exchange.p50 - r.echo.p50
  const overheadP99 = r.exchange.p99 - r.echo.p99
  const secondHalf = r.after.heapUsed - r.mid.heapUsed
  const line = (text: string) => process.stdout.write(`hil: ${text}\n`)
  line(`${count} CRT-591 status exchanges, driver to emulator over a socat pty pair, wire timing off; ${count} bare echoes over another pair, interleaved in blocks of ${BLOCK} (one process, after ${WARMUP} of each to warm up)`)
  line(`exchange  p50 ${ms(r.exchange.p50)}  p99 ${ms(r.exchange.p99)}  max ${ms(r.exchange.max)}  (${Math.round((count * 1000) / r.exchangeWallMs)}/s, ${(r.exchangeCpuMs / count).toFixed(3)} ms CPU each)`)
  line(`echo      p50 ${ms(r.echo.p50)}  p99 ${ms(r.echo.p99)}  max ${ms(r.echo.max)}  (${(r.echoCpuMs / count).toFixed(3)} ms CPU each: kernel ptys and socat, no protocol)`)
  line(`overhead (exchange - echo)  p50 ${ms(overheadP50)}  p99 ${ms(overheadP99)}  (target p99 <= ${TARGET_P99_MS} ms: ${overheadP99 <= TARGET_P99_MS ? "met" : "NOT met"})`)
  line(`memory before   heap ${mb(r.before.heapUsed)}  rss ${mb(r.before.rss)}`)
  line(`memory halfway  heap ${mb(r.mid.heapUsed)}  rss ${mb(r.mid.rss)}`)
  line(
    `memory after    heap ${mb(r.after.heapUsed)}  rss ${mb(r.after.rss)}  (second half ${secondHalf >= 0 ? "+" : ""}${(secondHalf / 1024).toFixed(0)} KiB: ${secondHalf <= GROWTH_TOLERANCE_BYTES ? "no growth" : "GROWTH"})`
  )
  line(`line: ${r.link.retransmits} retransmissions, ${r.link.naksSent} NAKs, ${r.link.strayFrames} stray frames; emulator ${r.emulator.commands} commands, ${r.emulator.corruptFrames} corrupt frames`)
}
