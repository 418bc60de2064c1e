import * as os from "node:os"
import { Worker } from "node:worker_threads"
import type { KindFigures, WorkerInput, WorkerMessage, WorkerOutput } from "./scenarios-worker.js"

/**
 * `npm run bench -- scenarios [runs] [threads] [max-commands] [seed] [breakdown]`: model-based runs
 * (issue 11) on the sim layer, by default 1,000 runs of up to 50 commands over 2 worker threads (one
 * per core), each thread its own fast-check seed and share of the runs. Prints runs per second, wall
 * and CPU time (the process's, every thread together: steadier than wall time on a shared machine),
 * commands per run, the load average before and after (the machine is shared), and whether the
 * target (1,000 runs in <= 60 s) was met. With `breakdown`, or when the target is missed, it prints
 * where the time goes: per command kind the time per command and the SQL statements per command,
 * and the same for opening a fresh system, the end checks and closing.
 */
const TARGET_RUNS = 1_000
const TARGET_WALL_S = 60

const wholeArg = (value: string | undefined, fallback: number, name: string, min: number): number => {
  const n = value === undefined ? fallback : Number(value)
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be a whole number of at least ${min}, got ${value}`)
  return n
}

const loadAverage = () => os.loadavg().map((n) => n.toFixed(2)).join(" ")

const runThread = (input: WorkerInput, onProgress: (runs: number) => void, threads: Array<Worker>): Promise<WorkerOutput> =>
  new Promise((resolve, reject) => {
    // The worker is TypeScript: it registers tsx's loader first, then imports the module.
    const entry = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL("./scenarios-worker.ts", import.meta.url).href)}) })`
    const worker = new Worker(entry, { eval: true, workerData: input })
    threads.push(worker)
    worker.on("message", (message: WorkerMessage) => (message._tag === "Progress" ? onProgress(message.runs) : resolve(message)))
    worker.on("error", reject)
    worker.on("exit", (code) => (code === 0 ? undefined : reject(new Error(`a worker thread stopped with exit code ${code}`))))
  })

const merge = (outputs: ReadonlyArray<WorkerOutput>): Record<string, KindFigures> => {
  const all: Record<string, KindFigures> = {}
  for (const output of outputs) {
    for (const [kind, figures] of Object.entries(output.kinds)) {
      const into = (all[kind] ??= { count: 0, ms: 0, statements: 0 })
      into.count += figures.count
      into.ms += figures.ms
      into.statements += figures.statements
    }
  }
  return all
}

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const numbers = args.filter((arg) => arg !== "breakdown")
  const runs = wholeArg(numbers[0], TARGET_RUNS, "runs", 1)
  const threadCount = wholeArg(numbers[1], 2, "threads", 1)
  const maxCommands = wholeArg(numbers[2], 50, "max-commands", 1)
  const seed = wholeArg(numbers[3], 1, "seed", 0)
  const loadBefore = loadAverage()
  process.stderr.write(`scenarios bench: ${runs} model-based runs of up to ${maxCommands} commands on the sim layer, ${threadCount} worker thread(s), seed ${seed}; ${os.cpus().length} cores, load average ${loadBefore}\n`)
  const threads: Array<Worker> = []
  const stop = () => {
    for (const thread of threads) void thread.terminate()
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
  const outputs = await Promise.all(shares.map((share, i) => runThread({ runs: share, seed: seed + i, maxCommands }, progress, threads)))
  const wallS = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuStarted)
  const cpuS = (cpu.user + cpu.system) / 1e6
  const runsDone = outputs.reduce((sum, o) => sum + o.runs, 0)
  const commands = outputs.reduce((sum, o) => sum + o.commands, 0)
  const kinds = merge(outputs)
  const met = runsDone >= TARGET_RUNS && wallS <= TARGET_WALL_S
  console.log(`runs:            ${runsDone} (${outputs.every((o) => o.ok) ? "all passed" : "FAILED"}) on ${threadCount} thread(s)`)
  for (const failure of outputs.flatMap((o) => (o.failure === undefined ? [] : [o.failure]))) console.log(`  failure: ${failure}`)
  console.log(`wall:            ${wallS.toFixed(1)} s (worker start-up, fast-check and every run included)`)
  console.log(`runs per second: ${(runsDone / wallS).toFixed(1)}`)
  console.log(`CPU:             ${cpuS.toFixed(1)} s for the process (${((cpuS / wallS) * 100).toFixed(0)}% of one core), ${((cpuS / runsDone) * 1000).toFixed(0)} ms per run`)
  console.log(`commands:        ${commands} run (${(commands / runsDone).toFixed(1)} per run; fast-check draws up to ${maxCommands}, the model skips those that do not apply), ${((commands / wallS)).toFixed(0)} per second`)
  console.log(`load average:    ${loadBefore} before, ${loadAverage()} after (1, 5, 15 min; ${os.cpus().length} cores shared)`)
  console.log(`target:          ${TARGET_RUNS} runs in <= ${TARGET_WALL_S} s: ${met ? "met" : `not met (${runsDone} runs in ${wallS.toFixed(1)} s)`}`)
  if (met && !args.includes("breakdown")) return
  const rows = Object.entries(kinds).sort(([, a], [, b]) => b.ms - a.ms)
  const totalMs = rows.reduce((sum, [, f]) => sum + f.ms, 0)
  console.log(`\nwhere the time goes (wall time inside the threads, summed over threads; statements are SQL statements the store ran):`)
  console.log(`${"what".padEnd(40)} ${"count".padStart(8)} ${"ms each".padStart(9)} ${"stmts each".padStart(11)} ${"share".padStart(6)}`)
  for (const [kind, f] of rows) {
    console.log(`${kind.padEnd(40)} ${String(f.count).padStart(8)} ${(f.ms / f.count).toFixed(2).padStart(9)} ${(f.statements / f.count).toFixed(1).padStart(11)} ${(((f.ms / totalMs) * 100).toFixed(1) + "%").padStart(6)}`)
  }
  const perCommand = rows.filter(([kind]) => !kind.startsWith("("))
  const commandMs = perCommand.reduce((sum, [, f]) => sum + f.ms, 0)
  const commandStatements = perCommand.reduce((sum, [, f]) => sum + f.statements, 0)
  console.log(`all commands: ${(commandMs / commands).toFixed(2)} ms and ${(commandStatements / commands).toFixed(1)} statements per command (command plus the sheet read after it); ${((commandMs / totalMs) * 100).toFixed(0)}% of the time in the threads`)
}
