import fc from "fast-check"
import { commandArbitraries, type Command } from "./commands.js"
import { applicable } from "./model.js"
import { runCommands, Sequence } from "./sequence.js"
import type { ScenarioLayer, ServiceWrapper } from "./system.js"

/**
 * The model-based suite: fast-check draws sequences of up to `maxCommands` commands
 * (`fc.commands`), runs each on a fresh system next to the model (`fc.asyncModelRun`: a command only
 * runs when the model says it applies), audits at the end, and on a failure shrinks the sequence to
 * the shortest that still fails. The shrunk sequence is then run once more, on its own, for the
 * report: that run is what the replay token reproduces.
 */

export const DEFAULT_MAX_COMMANDS = 50

class Step implements fc.AsyncCommand<Sequence, Sequence> {
  constructor(readonly command: Command) {}
  check(sequence: Readonly<Sequence>): boolean {
    return applicable(sequence.model, this.command)
  }
  run(_model: Sequence, sequence: Sequence): Promise<void> {
    return sequence.step(this.command)
  }
  toString(): string {
    return JSON.stringify(this.command)
  }
}

/** How often each command is drawn, relative to the others: money-moving commands more often. */
const weights: Readonly<Record<keyof typeof commandArbitraries, number>> = {
  Register: 2,
  Grant: 1,
  Buy: 5,
  PowerCut: 1,
  Redeem: 3,
  Rollback: 1,
  ReturnCard: 2,
  PassDays: 1,
  Wait: 1,
  MerchantUpdate: 1,
  Settle: 1,
  Fault: 2
}

export const commandsArbitrary = (maxCommands: number) => {
  const steps: Array<fc.Arbitrary<Step>> = []
  for (const [name, weight] of Object.entries(weights) as Array<[keyof typeof commandArbitraries, number]>) {
    const arbitrary: fc.Arbitrary<Command> = commandArbitraries[name]
    for (let i = 0; i < weight; i++) steps.push(arbitrary.map((command) => new Step(command)))
  }
  // "max": sequences of any length up to maxCommands, not just the short ones fast-check favours by default.
  return fc.commands(steps, { maxCommands, size: "max" })
}

export interface ModelSuiteOptions {
  readonly layer: ScenarioLayer
  readonly seed: number
  readonly runs: number
  readonly maxCommands?: number
  readonly wrap?: ServiceWrapper | undefined
  /** fast-check's path to a counterexample, to go straight to it (a replay). */
  readonly path?: string | undefined
  readonly onRun?: (run: number) => void
  /** Each run's trace fingerprint, as it ends (the determinism check collects them). */
  readonly onTrace?: (digest: string) => void
  readonly signal?: AbortSignal | undefined
  /** Told of each command just before it runs on the system. */
  readonly beforeStep?: (command: Command) => void
}

export interface ModelSuiteOutcome {
  readonly ok: boolean
  readonly runs: number
  readonly interrupted?: boolean
  /** With a failure: fast-check's seed and path, the shrunk commands and their run. */
  readonly failure?: {
    readonly path: string
    readonly shrinks: number
    readonly commands: ReadonlyArray<Command>
    readonly sequence: Sequence
    readonly error: Error
  }
}

export const runModelSuite = async (options: ModelSuiteOptions): Promise<ModelSuiteOutcome> => {
  const open = () => options.layer.open({ seed: options.seed, wrap: options.wrap })
  let run = 0
  const property = fc.asyncProperty(commandsArbitrary(options.maxCommands ?? DEFAULT_MAX_COMMANDS), async (steps) => {
    options.onRun?.(++run)
    const system = await open()
    const sequence = new Sequence(system, options.signal, options.beforeStep)
    try {
      await fc.asyncModelRun(() => ({ model: sequence, real: sequence }), steps)
      await sequence.finish()
    } finally {
      options.onTrace?.(sequence.digest())
      await system.close()
    }
  })
  const details = await fc.check(property, { seed: options.seed, numRuns: options.runs, ...(options.path === undefined ? {} : { path: options.path }) })
  if (!details.failed || details.counterexample === null) return { ok: true, runs: details.numRuns }
  // fast-check hands back its own wrappers around our steps (with whether each ran); unwrap them.
  const commands = [...details.counterexample[0]].flatMap((wrapped) => {
    const step = (wrapped as { readonly cmd?: unknown }).cmd ?? wrapped
    return step instanceof Step ? [step.command] : []
  })
  if (options.signal?.aborted === true) return { ok: false, runs: details.numRuns, interrupted: true }
  const replayed = await runCommands(open, commands)
  const executed = replayed.sequence.steps.map((step) => step.command)
  const error = replayed.error ?? (details.errorInstance instanceof Error ? details.errorInstance : new Error(String(details.errorInstance)))
  return {
    ok: false,
    runs: details.numRuns,
    failure: { path: details.counterexamplePath ?? "", shrinks: details.numShrinks, commands: replayed.error === undefined ? commands : executed, sequence: replayed.sequence, error }
  }
}
