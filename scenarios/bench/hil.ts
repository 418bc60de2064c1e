import { type ChildProcess, spawn } from "node:child_process"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Effect, Option } from "effect"
import { concatBytes } from "../../hil/bytes.js"
import { defaultTiming, deviceName, makeCardUnit } from "../../hil/crt591-driver.js"
import { defaultLinkOptions, makeCrt591Link } from "../../hil/crt591-link.js"
import { openPtyPair } from "../../hil/pty.js"
import { defaultLine, SerialConnection } from "../../hil/serial-port.js"
import { openLink, type SerialLink } from "../../hil/serial-transport.js"

/**
 * `npm run bench -- hil [exchanges]`: CRT-591 status exchanges, driver to emulator, through a socat
 * pty pair with the emulator's wire timing off, so every microsecond measured is software: driver,
 * transport, kernel ptys, socat, emulator. The emulator runs in its own process, as it does on a
 * bench (`ecoupon emulate`). Alongside, alternating one for one so both see the same machine, the
 * same conversation replayed through a second pty pair to a process that answers without parsing:
 * the floor the kernel, socat and a second process set. Prints latency per exchange and per replay (p50/p99/max), the
 * difference, the part of each exchange spent in the driver rather than waiting on the line (both
 * are "overhead": the first includes the OS and socat's tail, the second does not), the driver
 * process's CPU per exchange, and its heap/RSS before, halfway and after.
 * Target: overhead p99 <= 1 ms, and no memory growth.
 */

const TARGET_P99_MS = 1
const WARMUP = 1_000
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

/** The bytes of one status exchange as they crossed the line, recorded from a real one. */
interface Conversation {
  readonly command: Uint8Array
  readonly answer: Uint8Array
  readonly closing: Uint8Array
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

/**
 * The floor's far end: it knows nothing of the protocol, only the recorded conversation's byte
 * counts. Each time a whole command has come in it writes the recorded answer back, and it drops
 * the closing bytes that follow. It reads and writes through the same transport as the driver and
 * the emulator.
 */
const replayScript = `
import("./hil/serial-port.ts").then(async ({ SerialConnection, defaultLine }) => {
  const [path, commandLength, answerHex, closingLength] = process.argv.slice(1)
  const answer = Buffer.from(answerHex, "hex")
  const cycle = Number(commandLength) + Number(closingLength)
  const port = await SerialConnection.open(path, defaultLine)
  let seen = 0
  port.onData = (chunk) => {
    for (let i = 0; i < chunk.length; i++) {
      seen = (seen + 1) % cycle
      if (seen === Number(commandLength)) void port.write(answer)
    }
  }
  console.log("ready")
})`

/**
 * The floor: the same conversation as a status exchange (the command out, the ACK and reply back,
 * the closing ACK out) replayed byte for byte through a second pty pair to a process that answers
 * without parsing anything. What an exchange takes beyond it is the protocol and the driver.
 */
const replayPair = (conversation: Conversation) =>
  Effect.gen(function* () {
    const pair = yield* Effect.acquireRelease(Effect.promise(() => openPtyPair()), (p) => Effect.promise(() => p.close()))
    const { command, answer, closing } = conversation
    yield* peer(["--import", "tsx", "-e", replayScript, pair.pathB, String(command.length), hex(answer), String(closing.length)])
    const a = yield* Effect.acquireRelease(Effect.promise(() => SerialConnection.open(pair.pathA, defaultLine)), (c) => Effect.promise(() => c.close()))
    const once = () =>
      new Promise<number>((resolve) => {
        const started = performance.now()
        let got = 0
        a.onData = (chunk) => {
          got += chunk.length
          if (got < answer.length) return
          const took = performance.now() - started
          if (closing.length > 0) a.post(closing)
          resolve(took)
        }
        void a.write(command)
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
  // While recording, the bytes of one exchange: what was written, read and posted.
  let recording: { written: Array<Uint8Array>; read: Array<Uint8Array>; posted: Array<Uint8Array> } | undefined
  const watched: SerialLink = {
    ...serial,
    write: (bytes) =>
      Effect.zipRight(
        Effect.sync(() => {
          wroteAt = performance.now()
          recording?.written.push(bytes)
        }),
        serial.write(bytes)
      ),
    post: (bytes) => Effect.zipRight(Effect.sync(() => void recording?.posted.push(bytes)), serial.post(bytes)),
    read: (timeoutMs) =>
      Effect.tap(serial.read(timeoutMs), (chunk) =>
        Effect.sync(() => {
          answeredAt = performance.now()
          if (Option.isSome(chunk)) recording?.read.push(chunk.value)
        })
      )
  }
  const crt = yield* makeCrt591Link(watched, device, defaultLinkOptions)
  const unit = makeCardUnit(crt, defaultTiming)
  yield* unit.initialise("leave")
  recording = { written: [], read: [], posted: [] }
  yield* unit.status
  const conversation: Conversation = { command: concatBytes(recording.written), answer: concatBytes(recording.read), closing: concatBytes(recording.posted) }
  recording = undefined
  /** The exchange's latency, and the part of it spent in the driver rather than waiting on the line. */
  const timed = Effect.gen(function* () {
    const started = performance.now()
    yield* unit.status
    const total = performance.now() - started
    return { total, driver: total - (answeredAt - wroteAt) }
  })
  return { timed, crt, conversation }
})

const measure = (count: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { timed, crt, conversation } = yield* statusExchange
      const replay = yield* replayPair(conversation)
      for (let i = 0; i < WARMUP; i++) {
        yield* timed
        yield* replay
      }
      // Preallocated, so the samples themselves do not show as growth.
      const exchangeMs = new Float64Array(count)
      const driverMs = new Float64Array(count)
      const replayMs = new Float64Array(count)
      let exchangeCpuMs = 0
      let replayCpuMs = 0
      let exchangeWallMs = 0
      const before = memory()
      let mid = before
      for (let i = 0; i < count; i++) {
        // Memory is read halfway: growth after it is a leak, growth before it may be V8 settling
        // (compiled code, hash-table capacity).
        if (i === Math.floor(count / 2)) mid = memory()
        let cpu = process.cpuUsage()
        const t = yield* timed
        exchangeCpuMs += cpuMs(cpu)
        exchangeWallMs += exchangeMs[i] = t.total
        driverMs[i] = t.driver
        cpu = process.cpuUsage()
        replayMs[i] = yield* replay
        replayCpuMs += cpuMs(cpu)
      }
      const after = memory()
      return { exchange: summary(exchangeMs), driver: summary(driverMs), replay: summary(replayMs), exchangeCpuMs, replayCpuMs, exchangeWallMs, before, mid, after, link: crt.stats() }
    })
  )

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const count = Number(args[0] ?? 10_000)
  if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`exchanges must be a positive whole number, got ${args[0]}`)
  const r = await Effect.runPromise(measure(count))
  const overheadP50 = r.exchange.p50 - r.replay.p50
  const overheadP99 = r.exchange.p99 - r.replay.p99
  const secondHalf = r.after.heapUsed - r.mid.heapUsed
  const line = (text: string) => process.stdout.write(`hil: ${text}\n`)
  line(`${count} CRT-591 status exchanges, driver to emulator (own process) over a socat pty pair, wire timing off; the same ${count} conversations replayed to a non-parsing process over another pair (the floor); one after the other, after ${WARMUP} of each to warm up`)
  line(`exchange  p50 ${ms(r.exchange.p50)}  p99 ${ms(r.exchange.p99)}  max ${ms(r.exchange.max)}  (${Math.round((count * 1000) / r.exchangeWallMs)}/s, ${(r.exchangeCpuMs / count).toFixed(3)} ms driver CPU each)`)
  line(`floor     p50 ${ms(r.replay.p50)}  p99 ${ms(r.replay.p99)}  max ${ms(r.replay.max)}  (${(r.replayCpuMs / count).toFixed(3)} ms CPU each here: kernel ptys, socat, no protocol)`)
  line(`overhead, end to end (exchange - floor)  p50 ${ms(overheadP50)}  p99 ${ms(overheadP99)}  (target p99 <= ${TARGET_P99_MS} ms: ${overheadP99 <= TARGET_P99_MS ? "met" : "NOT met"})`)
  line(`overhead, in the driver (exchange minus its wait on the line)  p50 ${ms(r.driver.p50)}  p99 ${ms(r.driver.p99)}  max ${ms(r.driver.max)}  (target p99 <= ${TARGET_P99_MS} ms: ${r.driver.p99 <= TARGET_P99_MS ? "met" : "NOT met"})`)
  line(`memory before   heap ${mb(r.before.heapUsed)}  rss ${mb(r.before.rss)}`)
  line(`memory halfway  heap ${mb(r.mid.heapUsed)}  rss ${mb(r.mid.rss)}`)
  line(
    `memory after    heap ${mb(r.after.heapUsed)}  rss ${mb(r.after.rss)}  (second half ${secondHalf >= 0 ? "+" : ""}${(secondHalf / 1024).toFixed(0)} KiB: ${secondHalf <= GROWTH_TOLERANCE_BYTES ? "no growth" : "GROWTH"})`
  )
  line(`line: ${r.link.exchanges} exchanges, ${r.link.retransmits} retransmissions, ${r.link.naksSent} NAKs, ${r.link.strayFrames} stray frames`)
}
