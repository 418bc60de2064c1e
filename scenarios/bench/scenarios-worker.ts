import { parentPort, workerData } from "node:worker_threads"
import type { Command } from "../commands.js"
import { deploymentImage } from "../deployment-store.js"
import { simLayer } from "../layer-sim.js"
import { runModelSuite } from "../model-suite.js"
import type { ScenarioLayer, System } from "../system.js"
import { threadCpuClock } from "./thread-cpu.js"

/**
 * One thread of `npm run bench -- scenarios`: `runs` model-based runs on the sim layer (fast-check's
 * seed `seed`), each a fresh system and up to `maxCommands` commands held to the model, then the end
 * checks and the audit. It loads its modules and the deployment's store image, says `Ready`, and
 * starts the runs when the main thread says `Go` (so that start-up and runs are measured apart). Posts
 * a progress message every 10 runs and, at the end, the wall and CPU time (this thread's own) and the
 * SQL statements spent per command kind, opening and closing, and the end checks.
 */

export interface WorkerInput {
  readonly runs: number
  readonly seed: number
  readonly maxCommands: number
}

export interface KindFigures {
  count: number
  ms: number
  /** This thread's CPU time (equal to `ms` where the thread's CPU time cannot be read). */
  cpuMs: number
  statements: number
}

export interface WorkerOutput {
  readonly _tag: "Done"
  readonly runs: number
  readonly commands: number
  readonly ok: boolean
  readonly failure: string | undefined
  readonly kinds: Record<string, KindFigures>
  /** Whether CPU figures are this thread's own CPU time (Linux), or wall time standing in for it. */
  readonly threadCpu: boolean
  /** This thread's CPU time from its start to `Ready`: modules loaded, the store image built. */
  readonly startupCpuMs: number
  /** This thread's CPU time and wall time over all its runs (fast-check and the model included). */
  readonly runsCpuMs: number
  readonly runsWallMs: number
}

export type WorkerMessage = { readonly _tag: "Ready" } | { readonly _tag: "Progress"; readonly runs: number } | WorkerOutput

const input = workerData as WorkerInput
const threadCpu = threadCpuClock()
const cpuNow = threadCpu ?? (() => performance.now())
const kinds: Record<string, KindFigures> = {}
let statements = 0
let commands = 0
let pending: Command["_tag"] | undefined

const account = (kind: string, ms: number, cpuMs: number, statementsSpent: number) => {
  const figures = (kinds[kind] ??= { count: 0, ms: 0, cpuMs: 0, statements: 0 })
  figures.count += 1
  figures.ms += ms
  figures.cpuMs += cpuMs
  figures.statements += statementsSpent
}

/** `work` timed and its statements counted under `kind`. */
const measured = async <A>(kind: string, work: () => Promise<A>): Promise<A> => {
  const startedMs = performance.now()
  const startedCpu = cpuNow()
  const startedStatements = statements
  try {
    return await work()
  } finally {
    account(kind, performance.now() - startedMs, cpuNow() - startedCpu, statements - startedStatements)
  }
}

/** The sim layer with every statement counted and every call into the system timed by what it was for. */
const measuredLayer: ScenarioLayer = {
  name: "sim",
  open: async (options) => {
    const system = await measured("(open a fresh system)", () => simLayer.open({ ...options, sqlObserver: () => void (statements += 1) }))
    const measuredSystem: System = {
      layer: system.layer,
      run: (step) => {
        const kind = pending ?? "(end: heal, drain the outbox, audit)"
        pending = undefined
        return measured(kind, () => system.run(step))
      },
      close: () => measured("(close)", () => system.close())
    }
    return measuredSystem
  }
}

// Start-up: the modules are loaded; the store image every run opens is built once per thread.
await deploymentImage()
const startupCpuMs = threadCpu?.() ?? performance.now()
const go = new Promise<void>((resolve) => parentPort?.once("message", () => resolve()))
parentPort?.postMessage({ _tag: "Ready" } satisfies WorkerMessage)
await go

const runsStartedMs = performance.now()
const runsStartedCpu = cpuNow()
const outcome = await runModelSuite({
  layer: measuredLayer,
  seed: input.seed,
  runs: input.runs,
  maxCommands: input.maxCommands,
  beforeStep: (command) => {
    pending = command._tag
    commands += 1
  },
  onRun: (run) => {
    if (run % 10 === 0) parentPort?.postMessage({ _tag: "Progress", runs: 10 } satisfies WorkerMessage)
  }
})
const done: WorkerOutput = {
  _tag: "Done",
  runs: outcome.runs,
  commands,
  ok: outcome.ok,
  failure: outcome.failure?.error.message.split("\n")[0],
  kinds,
  threadCpu: threadCpu !== undefined,
  startupCpuMs,
  runsCpuMs: cpuNow() - runsStartedCpu,
  runsWallMs: performance.now() - runsStartedMs
}
parentPort?.postMessage(done satisfies WorkerMessage)
