import * as os from "node:os"
import { Worker } from "node:worker_threads"
import type { KindFigures, WorkerInput, WorkerMessage, WorkerOutput } from "./scenarios-worker.js"

/**
 * `npm run bench -- scenarios [runs] [threads] [max-commands] [seed] [breakdown]`: model-based runs
 * (issue 11) on the sim layer, by default 1,000 runs of up to 50 commands over 2 worker threads (one
 * per core), each thread its own fast-check seed and share of the runs. The threads start up (modules
 * loaded through tsx, the store image built) and only then run, so that both are measured apart.
 * Prints the actual wall time and runs per second, the process's CPU time (every thread together:
 * steadier than wall time on a shared machine) for start-up and per run, commands per run, the load
 * average before and after (the machine is shared), the wall time 1,000 runs would take on idle cores
 * projected from the CPU figures, and whether the target (1,000 runs in <= 60 s) was met. With
 * `breakdown`, or when the target is missed, it prints where a run's CPU goes: per command kind (each
 * worker thread's own CPU time, read from Linux) the time per command and the SQL statements per
 * command, the same for opening a fresh system, the end checks and closing, and what is left: the
 * runner between calls (fast-check, the model) and the process's other threads (GC).
 */
const TARGET_RUNS = 1_000
const TARGET_WALL_S = 60

const wholeArg = (value: string | undefined, fallback: number, name: string, min: number): number => {
  const n = value === undefined ? fallback : Number(value)
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be a whole number of at least ${min}, got ${value}`)
  return n
}

const loadAverage = () => os.loadavg().map((n) => n.toFixed(2)).join(" ")

interface Thread {
  readonly worker: Worker
  readonly ready: Promise<void>
  readonly done: Promise<WorkerOutput>
}

const startThread = (input: WorkerInput, onProgress: (runs: number) => void): Thread => {
  // The worker is TypeScript: it registers tsx's loader first, then imports the module.
  const entry = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL("./scenarios-worker.ts", import.meta.url).href)}) })`
  const worker = new Worker(entry, { eval: true, workerData: input })
  let ready!: () => void
  const readyPromise = new Promise<void>((resolve) => (ready = resolve))
  const done = new Promise<WorkerOutput>((resolve, reject) => {
    worker.on("message", (message: WorkerMessage) => {
      if (message._tag === "Ready") ready()
      else if (message._tag === "Progress") onProgress(message.runs)
      else resolve(message)
    })
    worker.on("error", reject)
    worker.on("exit", (code) => (code === 0 ? undefined : reject(new Error(`a worker thread stopped with exit code ${code}`))))
  })
  return { worker, ready: Promise.race([readyPromise, done.then(() => undefined)]), done }
}

const merge = (outputs: ReadonlyArray<WorkerOutput>): Record<string, KindFigures> => {
  const all: Record<string, KindFigures> = {}
  for (const output of outputs) {
    for (const [kind, figures] of Object.entries(output.kinds)) {
      const into = (all[kind] ??= { count: 0, ms: 0, cpuMs: 0, statements: 0 })
      into.count += figures.count
      into.ms += figures.ms
      into.cpuMs += figures.cpuMs
      into.statements += figures.statements
    }
  }
  return all
}

const processCpuS = (since?: NodeJS.CpuUsage) => {
  const cpu = process.cpuUsage(since)
  return (cpu.user + cpu.system) / 1e6
}

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const numbers = args.filter((arg) => arg !== "breakdown")
  const runs = wholeArg(numbers[0], TARGET_RUNS, "runs", 1)
  const threadCount = wholeArg(numbers[1], 2, "threads", 1)
  const maxCommands = wholeArg(numbers[2], 50, "max-commands", 1)
  const seed = wholeArg(numbers[3], 1, "seed", 0)
  const cores = os.cpus().length
  const loadBefore = loadAverage()
  process.stderr.write(`scenarios bench: ${runs} model-based runs of up to ${maxCommands} commands on the sim layer, ${threadCount} worker thread(s), seed ${seed}; ${cores} cores, load average ${loadBefore}\n`)
  const threads: Array<Thread> = []
  let stopped = false
  const stop = () => {
    stopped = true
    for (const thread of threads) void thread.worker.terminate()
    process.stderr.write("stopped\n")
    process.exitCode = 130
  }
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
  const cpuStarted = process.cpuUsage()
  const started = performance.now()
  let done = 0
  let nextReport = started + 5_000
  const progress = (more: number) => {
    done += more
    const now = performance.now()
    if (now < nextReport) return
    nextReport = now + 5_000
    process.stderr.write(`  ${done} runs in ${((now - started) / 1000).toFixed(1)} s\n`)
  }
  const shares = Array.from({ length: threadCount }, (_, i) => Math.floor(runs / threadCount) + (i < runs % threadCount ? 1 : 0)).filter((n) => n > 0)
  for (const [i, share] of shares.entries()) threads.push(startThread({ runs: share, seed: seed + i, maxCommands }, progress))
  // Start-up (modules loaded through tsx, the store image built) apart from the runs: every thread waits for the others.
  const readyOrStopped = await Promise.all(threads.map((thread) => thread.ready)).catch((error: unknown) => {
    if (stopped) return "stopped" as const
    throw error
  })
  if (readyOrStopped === "stopped") return
  const startupWallS = (performance.now() - started) / 1000
  const startupCpuS = processCpuS(cpuStarted)
  const cpuRunsStarted = process.cpuUsage()
  const runsStarted = performance.now()
  for (const thread of threads) thread.worker.postMessage("go")
  const outputs = await Promise.all(threads.map((thread) => thread.done)).catch((error: unknown) => {
    if (stopped) return undefined
    throw error
  })
  if (outputs === undefined) return
  const ended = performance.now()
  const runsWallS = (ended - runsStarted) / 1000
  const wallS = (ended - started) / 1000
  const runsCpuS = processCpuS(cpuRunsStarted)
  const runsDone = outputs.reduce((sum, o) => sum + o.runs, 0)
  const commands = outputs.reduce((sum, o) => sum + o.commands, 0)
  const threadsRunsCpuS = outputs.reduce((sum, o) => sum + o.runsCpuMs, 0) / 1000
  const threadCpu = outputs.every((o) => o.threadCpu)
  const kinds = merge(outputs)
  const perRunCpuS = runsCpuS / runsDone
  // On idle cores, one thread per core: every thread starts up at once, then the runs are shared out.
  const idleCores = Math.min(shares.length, cores)
  const projectedS = (startupCpuS + TARGET_RUNS * perRunCpuS) / idleCores
  const met = runsDone >= TARGET_RUNS && wallS <= TARGET_WALL_S
  console.log(`runs:            ${runsDone} (${outputs.every((o) => o.ok) ? "all passed" : "FAILED"}) on ${shares.length} thread(s)`)
  for (const failure of outputs.flatMap((o) => (o.failure === undefined ? [] : [o.failure]))) console.log(`  failure: ${failure}`)
  console.log(`wall:            ${wallS.toFixed(1)} s in all: ${startupWallS.toFixed(1)} s starting the threads (modules loaded through tsx, the store image built), ${runsWallS.toFixed(1)} s for the runs`)
  console.log(`runs per second: ${(runsDone / runsWallS).toFixed(1)} while running (${(runsDone / wallS).toFixed(1)} with start-up)`)
  console.log(`CPU:             ${(startupCpuS + runsCpuS).toFixed(1)} s for the process (${(((startupCpuS + runsCpuS) / wallS) * 100).toFixed(0)}% of one core): ${startupCpuS.toFixed(1)} s starting the threads, ${runsCpuS.toFixed(1)} s for the runs = ${(perRunCpuS * 1000).toFixed(1)} ms per run (every thread of the process; the worker threads' own: ${threadCpu ? `${((threadsRunsCpuS / runsDone) * 1000).toFixed(1)} ms` : "not readable here"})`)
  console.log(`commands:        ${commands} run (${(commands / runsDone).toFixed(1)} per run; fast-check draws up to ${maxCommands}, the model skips those that do not apply), ${(commands / runsWallS).toFixed(0)} per second`)
  console.log(`load average:    ${loadBefore} before, ${loadAverage()} after (1, 5, 15 min; ${cores} cores shared)`)
  console.log(`projected:       ${TARGET_RUNS} runs on ${idleCores} idle core(s), one thread each: ${projectedS.toFixed(1)} s ((start-up CPU + ${TARGET_RUNS} x CPU per run) / ${idleCores}; a projection from CPU time, not a measurement)`)
  console.log(`target:          ${TARGET_RUNS} runs in <= ${TARGET_WALL_S} s: ${met ? "met" : `not met here (${runsDone} runs in ${wallS.toFixed(1)} s of wall time)`}; projected on idle cores: ${projectedS <= TARGET_WALL_S ? "met" : "not met"}`)
  if (met && !args.includes("breakdown")) return
  const rows = Object.entries(kinds).sort(([, a], [, b]) => b.cpuMs - a.cpuMs)
  const kindsCpuMs = rows.reduce((sum, [, f]) => sum + f.cpuMs, 0)
  const between = threadsRunsCpuS * 1000 - kindsCpuMs
  const elsewhere = runsCpuS * 1000 - threadsRunsCpuS * 1000
  const totalMs = runsCpuS * 1000
  const cpuWord = threadCpu ? "CPU" : "wall"
  console.log(`\nwhere a run's CPU goes (${threadCpu ? "each worker thread's own CPU time" : "wall time, this system gives no per-thread CPU time"}, summed over threads; statements are SQL statements the store ran):`)
  console.log(`${"what".padEnd(44)} ${"count".padStart(8)} ${`${cpuWord} ms each`.padStart(12)} ${"wall ms each".padStart(13)} ${"stmts each".padStart(11)} ${"per run".padStart(9)} ${"share".padStart(6)}`)
  const line = (what: string, count: number | undefined, cpuMs: number, wallMs: number | undefined, statementsEach: number | undefined) =>
    console.log(
      `${what.padEnd(44)} ${(count === undefined ? "" : String(count)).padStart(8)} ${(count === undefined ? "" : (cpuMs / count).toFixed(2)).padStart(12)} ${(count === undefined || wallMs === undefined ? "" : (wallMs / count).toFixed(2)).padStart(13)} ${(statementsEach === undefined ? "" : statementsEach.toFixed(1)).padStart(11)} ${(cpuMs / runsDone).toFixed(2).padStart(9)} ${(((cpuMs / totalMs) * 100).toFixed(1) + "%").padStart(6)}`
    )
  for (const [kind, f] of rows) line(kind, f.count, f.cpuMs, f.ms, f.statements / f.count)
  line("(the runner between calls: fast-check, model)", undefined, between, undefined, undefined)
  if (threadCpu) line("(other threads: GC helpers, main thread)", undefined, elsewhere, undefined, undefined)
  const perCommand = rows.filter(([kind]) => !kind.startsWith("("))
  const commandCpuMs = perCommand.reduce((sum, [, f]) => sum + f.cpuMs, 0)
  const commandStatements = perCommand.reduce((sum, [, f]) => sum + f.statements, 0)
  console.log(`all commands: ${(commandCpuMs / commands).toFixed(2)} ms of ${cpuWord} and ${(commandStatements / commands).toFixed(1)} statements per command (command plus the sheet read after it); ${((commandCpuMs / totalMs) * 100).toFixed(0)}% of the runs' CPU`)
}
