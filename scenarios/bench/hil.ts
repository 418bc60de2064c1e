import { type ChildProcess, spawn } from "node:child_process"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Effect } from "effect"
import { defaultTiming, deviceName, makeCardUnit } from "../../hil/crt591-driver.js"
import { defaultLinkOptions, makeCrt591Link } from "../../hil/crt591-link.js"
import { openPtyPair } from "../../hil/pty.js"
import { defaultLine, SerialConnection } from "../../hil/serial-port.js"
import { openLink, type SerialLink } from "../../hil/serial-transport.js"

/**
 * `npm run bench -- hil [exchanges]`: CRT-591 status exchanges, driver to emulator, through a socat
 * pty pair with the emulator's wire timing off, so every microsecond measured is software: driver,
 * transport, kernel ptys, socat, emulator. The emulator runs in its own process, as it does on a
 * bench (`ecoupon emulate`). Alongside, in interleaved blocks so both see the same machine, a bare
 * echo of a 9-byte frame through a second pty pair to a minimal echo process: the floor the kernel,
 * socat and a second process set. Prints latency per exchange and per echo (p50/p99/max), the
 * difference, the part of each exchange spent in the driver rather than waiting on the line (both
 * are "overhead": the first includes the OS and socat's tail, the second does not), the driver
 * process's CPU per exchange, and its heap/RSS before, halfway and after.
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

/** A child process on the other end of a pty; it goes when the scope closes. */
const peer = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.async<ChildProcess>((resume) => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
      // Each peer prints one line once its port is open.
      child.stdout?.once("data", () => resume(Effect.succeed(child)))
    }),
    (child) => Effect.sync(() => child.kill("SIGKILL"))
  )

/** The floor: a 9-byte write echoed back whole by a minimal process on the binding, no protocol. */
const echoScript = `
const { SerialPort } = require("serialport")
SerialPort.binding.open({ path: process.argv[1], baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1, rtscts: false, lock: true }).then(async (port) => {
  console.log("ready")
  const buffer = Buffer.alloc(1024)
  for (;;) {
    const { bytesRead } = await port.read(buffer, 0, buffer.length)
    await port.write(Buffer.from(buffer.subarray(0, bytesRead)))
  }
})`

const echoPair = Effect.gen(function* () {
  const pair = yield* Effect.acquireRelease(Effect.promise(() => openPtyPair()), (p) => Effect.promise(() => p.close()))
  yield* peer(["-e", echoScript, pair.pathB])
  const a = yield* Effect.acquireRelease(Effect.promise(() => SerialConnection.open(pair.pathA, defaultLine)), (c) => Effect.promise(() => c.close()))
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

const emulatorScript = `
import("./hil/crt591-emulator.ts").then(async ({ Crt591Emulator }) => {
  await Crt591Emulator.open(process.argv[1], { wireTiming: false, device: { initMs: 0, moveMs: 0, rfMs: 0 } })
  console.log("ready")
})`

const statusExchange = Effect.gen(function* () {
  const pair = yield* Effect.acquireRelease(Effect.promise(() => openPtyPair()), (p) => Effect.promise(() => p.close()))
  yield* peer(["--import", "tsx", "-e", emulatorScript, pair.pathB])
  const device = deviceName(pair.pathA)
  const serial = yield* openLink({ path: pair.pathA, device })
  // The wait on the line: from handing the command to the transport to getting the answer back.
  let wroteAt = 0
  let answeredAt = 0
  const watched: SerialLink = {
    ...serial,
    write: (bytes) => Effect.zipRight(Effect.sync(() => void (wroteAt = performance.now())), serial.write(bytes)),
    read: (timeoutMs) => Effect.tap(serial.read(timeoutMs), () => Effect.sync(() => void (answeredAt = performance.now())))
  }
  const crt = yield* makeCrt591Link(watched, device, defaultLinkOptions)
  const unit = makeCardUnit(crt, defaultTiming)
  yield* unit.initialise("leave")
  /** The exchange's latency, and the part of it spent in the driver rather than waiting on the line. */
  const timed = Effect.gen(function* () {
    const started = performance.now()
    yield* unit.status
    const total = performance.now() - started
    return { total, driver: total - (answeredAt - wroteAt) }
  })
  return { timed, crt }
})

const measure = (count: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const echo = yield* echoPair
      const { timed, crt } = yield* statusExchange
      for (let i = 0; i < WARMUP; i++) {
        yield* timed
        yield* echo
      }
      // Preallocated, so the samples themselves do not show as growth.
      const exchangeMs = new Float64Array(count)
      const driverMs = new Float64Array(count)
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
        for (let i = done; i < done + n; i++) {
          const t = yield* timed
          exchangeWallMs += exchangeMs[i] = t.total
          driverMs[i] = t.driver
        }
        exchangeCpuMs += cpuMs(cpu)
        cpu = process.cpuUsage()
        for (let i = done; i < done + n; i++) echoMs[i] = yield* echo
        echoCpuMs += cpuMs(cpu)
        done += n
      }
      const after = memory()
      return { exchange: summary(exchangeMs), driver: summary(driverMs), echo: summary(echoMs), exchangeCpuMs, echoCpuMs, exchangeWallMs, before, mid, after, link: crt.stats() }
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
  line(`${count} CRT-591 status exchanges, driver to emulator (own process) over a socat pty pair, wire timing off; ${count} bare echoes to an echo process over another pair; interleaved in blocks of ${BLOCK}, after ${WARMUP} of each to warm up`)
  line(`exchange  p50 ${ms(r.exchange.p50)}  p99 ${ms(r.exchange.p99)}  max ${ms(r.exchange.max)}  (${Math.round((count * 1000) / r.exchangeWallMs)}/s, ${(r.exchangeCpuMs / count).toFixed(3)} ms driver CPU each)`)
  line(`echo      p50 ${ms(r.echo.p50)}  p99 ${ms(r.echo.p99)}  max ${ms(r.echo.max)}  (${(r.echoCpuMs / count).toFixed(3)} ms CPU each here: kernel ptys, socat, no protocol)`)
  line(`overhead, end to end (exchange - echo)  p50 ${ms(overheadP50)}  p99 ${ms(overheadP99)}  (target p99 <= ${TARGET_P99_MS} ms: ${overheadP99 <= TARGET_P99_MS ? "met" : "NOT met"})`)
  line(`overhead, in the driver (exchange minus its wait on the line)  p50 ${ms(r.driver.p50)}  p99 ${ms(r.driver.p99)}  max ${ms(r.driver.max)}  (target p99 <= ${TARGET_P99_MS} ms: ${r.driver.p99 <= TARGET_P99_MS ? "met" : "NOT met"})`)
  line(`memory before   heap ${mb(r.before.heapUsed)}  rss ${mb(r.before.rss)}`)
  line(`memory halfway  heap ${mb(r.mid.heapUsed)}  rss ${mb(r.mid.rss)}`)
  line(
    `memory after    heap ${mb(r.after.heapUsed)}  rss ${mb(r.after.rss)}  (second half ${secondHalf >= 0 ? "+" : ""}${(secondHalf / 1024).toFixed(0)} KiB: ${secondHalf <= GROWTH_TOLERANCE_BYTES ? "no growth" : "GROWTH"})`
  )
  line(`line: ${r.link.exchanges} exchanges, ${r.link.retransmits} retransmissions, ${r.link.naksSent} NAKs, ${r.link.strayFrames} stray frames`)
}
