import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Effect } from "effect"
import { deviceName, makeCardUnit, defaultTiming } from "../../hil/crt591-driver.js"
import { Crt591Emulator } from "../../hil/crt591-emulator.js"
import { defaultLinkOptions, makeCrt591Link } from "../../hil/crt591-link.js"
import { openPtyPair } from "../../hil/pty.js"
import { defaultLine, SerialConnection } from "../../hil/serial-port.js"
import { openLink } from "../../hil/serial-transport.js"

/**
 * `npm run bench -- hil [exchanges]`: CRT-591 status exchanges, driver to emulator, through a socat
 * pty pair with the emulator's wire timing off, so every microsecond measured is software: driver,
 * transport, kernel ptys, socat, emulator. Prints the latency per exchange (p50/p99/max), the same
 * for a bare echo over another pty pair (the floor the OS and socat set), the difference between
 * the two (the overhead our code adds), and heap/RSS before and after.
 * Target: exchange overhead p99 <= 1 ms, and no memory growth.
 */

const TARGET_P99_MS = 1
const WARMUP = 1_000
/** Heap growth we call noise: V8 keeps some slack after a full GC. */
const GROWTH_TOLERANCE_BYTES = 1024 * 1024

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
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

const summary = (samples: Array<number>) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 }
}

/** The floor: a 9-byte write echoed back whole by a plain reader on the other pty, no protocol. */
const echoBaseline = async (count: number): Promise<{ samples: Array<number>; cpuSeconds: number }> => {
  const pair = await openPtyPair()
  const a = await SerialConnection.open(pair.pathA, defaultLine)
  const b = await SerialConnection.open(pair.pathB, defaultLine)
  b.onData = (chunk) => void b.write(chunk)
  const frame = Uint8Array.of(0xf2, 0, 0, 3, 0x43, 0x31, 0x30, 0x03, 0xb0)
  const samples: Array<number> = []
  let cpuStarted = process.cpuUsage()
  try {
    for (let i = 0; i < WARMUP + count; i++) {
      if (i === WARMUP) cpuStarted = process.cpuUsage()
      const started = process.hrtime.bigint()
      await new Promise<void>((resolve) => {
        let got = 0
        a.onData = (chunk) => {
          got += chunk.length
          if (got >= frame.length) resolve()
        }
        void a.write(frame)
      })
      if (i >= WARMUP) samples.push(Number(process.hrtime.bigint() - started) / 1e6)
    }
  } finally {
    await a.close()
    await b.close()
    await pair.close()
  }
  const cpu = process.cpuUsage(cpuStarted)
  return { samples, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
}

const exchanges = (count: number) =>
  Effect.scoped(
    Effect.gen(function* () {
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
      for (let i = 0; i < WARMUP; i++) yield* timed
      // Preallocated, so the samples themselves do not show as growth.
      const samples = new Float64Array(count)
      const before = memory()
      let cpuMicros = 0
      let wallNanos = 0n
      let mid = before
      for (let i = 0; i < count; i++) {
        // Memory is read halfway with the clocks stopped: growth from there to the end is a leak,
        // growth before it may be V8 settling (compiled code, feedback vectors).
        if (i === Math.floor(count / 2)) mid = memory()
        const cpuStarted = process.cpuUsage()
        const wallStarted = process.hrtime.bigint()
        samples[i] = yield* timed
        wallNanos += process.hrtime.bigint() - wallStarted
        const cpu = process.cpuUsage(cpuStarted)
        cpuMicros += cpu.user + cpu.system
      }
      const stats = summary(Array.from(samples))
      const after = memory()
      return { stats, before, mid, after, wallSeconds: Number(wallNanos) / 1e9, cpuSeconds: cpuMicros / 1e6, link: crt.stats(), emulator: emulator.emulator.stats }
    })
  )

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const count = Number(args[0] ?? 10_000)
  if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`exchanges must be a positive whole number, got ${args[0]}`)
  const result = await Effect.runPromise(exchanges(count))
  const echo = await echoBaseline(count)
  const baseline = summary(echo.samples)
  const { stats, before, mid, after } = result
  const overheadP50 = stats.p50 - baseline.p50
  const overheadP99 = stats.p99 - baseline.p99
  const heapGrowth = after.heapUsed - before.heapUsed
  const secondHalf = count - Math.floor(count / 2)
  const leakBytesPerExchange = (after.heapUsed - mid.heapUsed) / secondHalf
  const line = (text: string) => process.stdout.write(`hil: ${text}\n`)
  line(`${count} CRT-591 status exchanges, driver to emulator over a socat pty pair, wire timing off (one process, after ${WARMUP} warm-up)`)
  line(`exchange latency   p50 ${ms(stats.p50)}  p99 ${ms(stats.p99)}  max ${ms(stats.max)}  (${Math.round(count / result.wallSeconds)}/s, ${((result.cpuSeconds / count) * 1000).toFixed(3)} ms CPU each)`)
  line(`bare pty echo      p50 ${ms(baseline.p50)}  p99 ${ms(baseline.p99)}  max ${ms(baseline.max)}  (${((echo.cpuSeconds / count) * 1000).toFixed(3)} ms CPU each; kernel ptys + socat, no protocol)`)
  line(`overhead (exchange - echo)  p50 ${ms(overheadP50)}  p99 ${ms(overheadP99)}  (target p99 <= ${TARGET_P99_MS} ms: ${overheadP99 <= TARGET_P99_MS ? "met" : "NOT met"})`)
  line(`memory before  heap ${mb(before.heapUsed)}  rss ${mb(before.rss)}`)
  line(`memory halfway heap ${mb(mid.heapUsed)}  rss ${mb(mid.rss)}`)
  line(
    `memory after   heap ${mb(after.heapUsed)}  rss ${mb(after.rss)}  (heap ${heapGrowth >= 0 ? "+" : ""}${(heapGrowth / 1024).toFixed(0)} KiB in all; second half ${leakBytesPerExchange.toFixed(1)} bytes/exchange: ${
      leakBytesPerExchange * secondHalf <= GROWTH_TOLERANCE_BYTES ? "no growth" : "GROWTH"
    })`
  )
  line(
    `line: ${result.link.retransmits} retransmissions, ${result.link.naksSent} NAKs, ${result.link.strayFrames} stray frames; emulator ${result.emulator.commands} commands, ${result.emulator.corruptFrames} corrupt frames`
  )
}
