import { parentPort, workerData } from "node:worker_threads"
import type { Command } from "../commands.js"
import { simLayer } from "../layer-sim.js"
import { runModelSuite } from "../model-suite.js"
import type { ScenarioLayer, System } from "../system.js"

/**
 * One thread of `npm run bench -- scenarios`: `runs` model-based runs on the sim layer (fast-check's
 * seed `seed`), each a fresh system and up to `maxCommands` commands held to the model, then the end
 * checks and the audit. Posts a progress message every 10 runs and, at the end, the time and SQL
 * statements spent per command kind, opening and closing, and the end checks.
 */

export interface WorkerInput {
  readonly runs: number
  readonly seed: number
  readonly maxCommands: number
}

export interface KindFigures {
  count: number
  ms: number
  statements: number
}

export interface WorkerOutput {
  readonly _tag: "Done"
  readonly runs: number
  readonly commands: number
  readonly ok: boolean
  readonly failure: string | undefined
  readonly kinds: Record<string, KindFigures>
}

export type WorkerMessage = { readonly _tag: "Progress"; readonly runs: number } | WorkerOutput

const input = workerData as WorkerInput
const kinds: Record<string, KindFigures> = {}
let statements = 0
let commands = 0
let pending: Command["_tag"] | undefined

const account = (kind: string, ms: number, statementsSpent: number) => {
  const figures = (kinds[kind] ??= { count: 0, ms: 0, statements: 0 })
  figures.count += 1
  figures.ms += ms
  figures.statements += statementsSpent
}

/** `work` timed and its statements counted under `kind`. */
const measured = async <A>(kind: string, work: () => Promise<A>): Promise<A> => {
  const startedMs = performance.now()
  const startedStatements = statements
  try {
    return await work()
  } finally {
    account(kind, performance.now() - startedMs, statements - startedStatements)
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
parentPort?.postMessage({ _tag: "Done", runs: outcome.runs, commands, ok: outcome.ok, failure: outcome.failure?.error.message.split("\n")[0], kinds } satisfies WorkerMessage)
