import { createHash } from "node:crypto"
import { catalog, type Scenario, scenarioNamed } from "./catalog.js"
import type { Command } from "./commands.js"
import { runModelSuite } from "./model-suite.js"
import { encodeToken, type ReplayToken } from "./replay-token.js"
import { runCommands, type EndRecord, type StepRecord } from "./sequence.js"
import type { LayerName, ScenarioLayer, ServiceWrapper } from "./system.js"

/**
 * The scenario runner behind `ecoupon scenarios run`: picks the suite (smoke, full, or scenarios by
 * name), runs each on the chosen layer, and returns results the reports render. Every failure carries
 * its replay token.
 */

/** The model-based suite's name in `--suite` and in reports. */
export const MODEL_SUITE = "model"
/** Model-based runs `--suite full` makes unless `--runs` says otherwise. */
export const DEFAULT_RUNS = 50

export interface ScenarioResult {
  readonly name: string
  readonly covers: string
  readonly given: string
  readonly when: string
  readonly then: string
  readonly layer: LayerName
  readonly ok: boolean
  readonly durationMs: number
  /** The steps of the (shrunk, for the model suite) run: each with the model's expectation and the system's answer. */
  readonly steps: ReadonlyArray<StepRecord>
  readonly end: EndRecord | undefined
  readonly failure: string | undefined
  readonly replayToken: string | undefined
  /** The trace's SHA-256 (commands, answers, balances, ids): the determinism check compares these. */
  readonly traceHash: string
  /** Why the layer did not run it (it then counts neither as passed nor as failed). */
  readonly skipped?: string | undefined
  /** Model suite only: runs made, shrinks, the fast-check path. */
  readonly search?: { readonly runs: number; readonly shrinks: number; readonly path: string }
}

export interface RunOptions {
  readonly layer: ScenarioLayer
  /** "smoke", "full", or names of catalog scenarios and/or "model". */
  readonly suite: ReadonlyArray<string>
  readonly seed: number
  readonly runs: number
  readonly maxCommands?: number
  readonly wrap?: ServiceWrapper | undefined
  readonly onStart?: (name: string) => void
  readonly onResult?: (result: ScenarioResult) => void
  readonly onModelRun?: (run: number) => void
  /** Ctrl-C: stops between steps; what ran is reported. */
  readonly signal?: AbortSignal | undefined
}

/** What `--suite` names, or the names it does not know (all of them, so a user fixes them at once). */
export const selectSuite = (suite: ReadonlyArray<string>): { readonly scenarios: ReadonlyArray<Scenario>; readonly model: boolean; readonly unknown: ReadonlyArray<string> } => {
  if (suite.length === 0 || (suite.length === 1 && suite[0] === "smoke")) return { scenarios: catalog.filter((s) => s.smoke), model: false, unknown: [] }
  if (suite.length === 1 && suite[0] === "full") return { scenarios: catalog, model: true, unknown: [] }
  const unknown = suite.filter((name) => name !== MODEL_SUITE && scenarioNamed(name) === undefined)
  return { scenarios: catalog.filter((s) => suite.includes(s.name)), model: suite.includes(MODEL_SUITE), unknown }
}

/** A result for what the layer cannot run, with its reason. */
const skippedResult = (scenario: Scenario, layer: ScenarioLayer, reason: string): ScenarioResult => ({
  name: scenario.name,
  covers: scenario.covers,
  given: scenario.given,
  when: scenario.when,
  then: scenario.then,
  layer: layer.name,
  ok: true,
  durationMs: 0,
  steps: [],
  end: undefined,
  failure: undefined,
  replayToken: undefined,
  traceHash: "",
  skipped: reason
})

const catalogResult = async (scenario: Scenario, options: RunOptions, commands: ReadonlyArray<Command> = scenario.commands): Promise<ScenarioResult> => {
  const cannot = options.layer.cannotRun?.(commands)
  if (cannot !== undefined) return skippedResult(scenario, options.layer, cannot)
  const startedMs = performance.now()
  const { sequence, error } = await runCommands(() => options.layer.open({ seed: options.seed, wrap: options.wrap }), commands, options.signal)
  const token: ReplayToken = { v: 1, layer: options.layer.name, suite: scenario.name, seed: options.seed }
  return {
    name: scenario.name,
    covers: scenario.covers,
    given: scenario.given,
    when: scenario.when,
    then: scenario.then,
    layer: options.layer.name,
    ok: error === undefined,
    durationMs: performance.now() - startedMs,
    steps: sequence.steps,
    end: sequence.end,
    failure: error?.message,
    replayToken: error === undefined ? undefined : encodeToken(token),
    traceHash: sequence.digest()
  }
}

export const modelScenario: Scenario = {
  name: MODEL_SUITE,
  covers: "claims 1-11 together",
  given: "the scenario deployment and a plain model of users, balances, coupons, cards, stock and deadlines",
  when: "random sequences of up to 50 commands run (register, grant, orders on each medium, cards left at the gate, power cuts, redemptions, rollbacks, returns at any kiosk, days passing, settlement, faults on and off)",
  then: "after every command the system answers what the model expects and shows the same balances; the audit holds at the end",
  smoke: false,
  commands: []
}

export const runModel = async (options: RunOptions, path?: string): Promise<ScenarioResult> => {
  const cannot = options.layer.cannotRun?.("model")
  if (cannot !== undefined) return skippedResult(modelScenario, options.layer, cannot)
  const startedMs = performance.now()
  const outcome = await runModelSuite({
    layer: options.layer,
    seed: options.seed,
    runs: options.runs,
    maxCommands: options.maxCommands,
    wrap: options.wrap,
    path,
    onRun: options.onModelRun,
    signal: options.signal
  })
  const failure = outcome.failure
  const token: ReplayToken | undefined = failure === undefined ? undefined : { v: 1, layer: options.layer.name, suite: MODEL_SUITE, seed: options.seed, path: failure.path, commands: failure.commands }
  return {
    ...modelScenario,
    layer: options.layer.name,
    ok: outcome.ok,
    durationMs: performance.now() - startedMs,
    steps: failure?.sequence.steps ?? [],
    end: failure?.sequence.end,
    failure: outcome.interrupted === true ? "interrupted before the model-based suite ended" : failure?.error.message,
    replayToken: token === undefined ? undefined : encodeToken(token),
    traceHash: failure?.sequence.digest() ?? "",
    search: { runs: outcome.runs, shrinks: failure?.shrinks ?? 0, path: failure?.path ?? "" }
  }
}

export const runSuite = async (options: RunOptions): Promise<ReadonlyArray<ScenarioResult>> => {
  const selected = selectSuite(options.suite)
  const results: Array<ScenarioResult> = []
  for (const scenario of selected.scenarios) {
    if (options.signal?.aborted === true) break
    options.onStart?.(scenario.name)
    const result = await catalogResult(scenario, options)
    options.onResult?.(result)
    results.push(result)
  }
  if (selected.model && options.signal?.aborted !== true) {
    options.onStart?.(MODEL_SUITE)
    const result = await runModel(options)
    options.onResult?.(result)
    results.push(result)
  }
  return results
}

/** Runs exactly what a token says: the named scenario, or the model suite's shrunk commands. */
export const runReplay = async (token: ReplayToken, layer: ScenarioLayer, options: Pick<RunOptions, "wrap" | "signal">): Promise<ScenarioResult> => {
  const runOptions: RunOptions = { layer, suite: [token.suite], seed: token.seed, runs: 1, ...options }
  const scenario = scenarioNamed(token.suite)
  if (scenario !== undefined) return catalogResult(scenario, runOptions)
  const replayed = await catalogResult({ ...modelScenario, name: `${MODEL_SUITE} (replay)` }, runOptions, token.commands ?? [])
  return { ...replayed, replayToken: replayed.ok ? undefined : encodeToken(token) }
}

/** Each seed twice on the sim layer: the traces' hashes must match. */
export const checkDeterminism = async (options: RunOptions): Promise<ReadonlyArray<{ readonly name: string; readonly first: string; readonly second: string }>> => {
  const selected = selectSuite(options.suite)
  const pairs: Array<{ name: string; first: string; second: string }> = []
  for (const scenario of selected.scenarios) {
    if (options.signal?.aborted === true) break
    const first = await catalogResult(scenario, options)
    const second = await catalogResult(scenario, options)
    pairs.push({ name: scenario.name, first: first.traceHash, second: second.traceHash })
  }
  if (selected.model) {
    const traces = async () => {
      const hash = createHash("sha256")
      await runModelSuite({ layer: options.layer, seed: options.seed, runs: options.runs, maxCommands: options.maxCommands, wrap: options.wrap, signal: options.signal, onTrace: (digest) => hash.update(digest) })
      return hash.digest("hex")
    }
    pairs.push({ name: `${MODEL_SUITE} (${options.runs} runs)`, first: await traces(), second: await traces() })
  }
  return pairs
}
