import { createHash } from "node:crypto"
import { Effect } from "effect"
import { describeCommand, type Command } from "./commands.js"
import { execute } from "./execute.js"
import { applicable, apply, healAll, initialModel, type Model, redeemAmount, type Sheet, sheetOf } from "./model.js"
import { finish, sheetDifferences, systemSheet } from "./observe.js"
import type { System } from "./system.js"

/**
 * One sequence of commands against one system, held to the model step by step: after every command
 * the system's answer must be the model's, and every balance and count on the sheet must agree. At
 * the end faults heal, everything queued is sent, and the auditor runs. The catalog's scenarios, the
 * model-based suite (through fast-check) and replays all run through `Sequence`.
 */

export interface StepRecord {
  readonly index: number
  readonly command: Command
  readonly text: string
  readonly expected: string
  readonly answer: string
  /** Sheet lines where the system and the model differ (empty when they agree). */
  readonly differences: ReadonlyArray<string>
  /** The sheet after the step, as the system shows it and as the model has it. */
  readonly sheet: Sheet
  readonly modelSheet: Sheet
}

export interface EndRecord {
  readonly ok: boolean
  /** The auditor's checks and the runner's own (invariant 7, deposits, the final sheet), one line each. */
  readonly lines: ReadonlyArray<string>
  readonly problems: ReadonlyArray<string>
}

export class SequenceFailure extends Error {
  constructor(readonly step: StepRecord | undefined, message: string) {
    super(message)
    this.name = "SequenceFailure"
  }
}

const mismatchOf = (step: StepRecord): string | undefined => {
  if (step.answer !== step.expected) return `step ${step.index + 1} (${step.text}): the system answered "${step.answer}", the model expected "${step.expected}"`
  if (step.differences.length > 0) return `step ${step.index + 1} (${step.text}): the balances differ: ${step.differences.join("; ")}`
  return undefined
}

/** The run was stopped (Ctrl-C, SIGTERM) between two steps. */
export class Interrupted extends Error {
  constructor() {
    super("interrupted before the sequence ended")
    this.name = "Interrupted"
  }
}

export class Sequence {
  readonly model: Model = initialModel()
  readonly steps: Array<StepRecord> = []
  end: EndRecord | undefined
  private readonly hash = createHash("sha256")

  constructor(
    readonly system: System,
    /** Aborted on Ctrl-C: the next step throws instead of running. */
    private readonly signal?: AbortSignal,
    /** Told of each command just before it runs (the scenarios benchmark times them by kind). */
    private readonly beforeStep?: (command: Command) => void
  ) {}

  /** Runs one command if it applies now (else skips it); throws `SequenceFailure` when the system and the model part ways. */
  async step(command: Command): Promise<void> {
    // The sim layer never waits on I/O: without this turn of the event loop a whole suite would run
    // as one chain of promises, and Ctrl-C (which aborts `signal`) would be seen only at its end.
    await new Promise<void>((resume) => setImmediate(resume))
    if (this.signal?.aborted === true) throw new Interrupted()
    if (!applicable(this.model, command)) return
    const points = command._tag === "Redeem" ? redeemAmount(this.model, command.coupon, command.part) : 0
    const expected = apply(this.model, command)
    this.beforeStep?.(command)
    const { answer, sheet } = await this.system.run((env) =>
      Effect.gen(function* () {
        const answer = yield* execute(env, command, points)
        return { answer, sheet: yield* systemSheet(env) }
      })
    )
    const modelSheet = sheetOf(this.model)
    const record: StepRecord = {
      index: this.steps.length,
      command,
      text: describeCommand(command),
      expected,
      answer,
      differences: sheetDifferences(modelSheet, sheet),
      sheet,
      modelSheet
    }
    this.steps.push(record)
    this.hash.update(`${JSON.stringify(command)}|${answer}|${JSON.stringify(sheet)}\n`)
    const mismatch = mismatchOf(record)
    if (mismatch !== undefined) throw new SequenceFailure(record, mismatch)
  }

  /** Heals faults, sends what is queued, audits; throws `SequenceFailure` if an invariant or the model's end state is broken. */
  async finish(): Promise<EndRecord> {
    healAll(this.model)
    const { checks, sheet, registry } = await this.system.run((env) =>
      Effect.gen(function* () {
        const checks = yield* finish(env)
        return { checks, sheet: yield* systemSheet(env), registry: env.registry }
      })
    )
    const lines = checks.audit.checks.map((check) => `[${check.invariant}] ${check.name}: ${check.ok ? "ok" : check.violations.join("; ")} (${check.checked} checked)`)
    const problems = checks.audit.checks.filter((check) => !check.ok).map((check) => `invariant ${check.invariant} (${check.name}): ${check.violations.join("; ")}`)
    lines.push(`[7] every delivered order reached its provider: ${checks.ordersNotAtProvider.length === 0 ? "ok" : `missing ${checks.ordersNotAtProvider.join(", ")}`}`)
    if (checks.ordersNotAtProvider.length > 0) problems.push(`invariant 7: delivered orders never reached their provider: ${checks.ordersNotAtProvider.join(", ")}`)
    const depositsExpected = this.model.deposits
    lines.push(`deposits charged: model ${depositsExpected}, system ${checks.depositsPoints ?? "not read (a shared server's deposits are every run's)"}`)
    if (checks.depositsPoints !== undefined && depositsExpected !== checks.depositsPoints) problems.push(`deposits charged: the model expected ${depositsExpected} points, the system charged ${checks.depositsPoints}`)
    const differences = sheetDifferences(sheetOf(this.model), sheet)
    if (differences.length > 0) problems.push(`at the end the balances differ: ${differences.join("; ")}`)
    if (!checks.outboxDrained) problems.push("the outbox still held messages after every fault healed")
    this.hash.update(`end|${lines.join("|")}|${JSON.stringify(sheet)}|${JSON.stringify(registry)}\n`)
    this.end = { ok: problems.length === 0, lines, problems }
    if (problems.length > 0) throw new SequenceFailure(undefined, problems.join("\n"))
    return this.end
  }

  /** The trace's fingerprint: every command, answer and sheet, the end checks and the ids the system made. */
  digest(): string {
    return this.hash.copy().digest("hex")
  }
}

/** Runs a whole list of commands then the end checks on a fresh system; the system is closed afterwards. */
export const runCommands = async (
  open: () => Promise<System>,
  commands: ReadonlyArray<Command>,
  signal?: AbortSignal
): Promise<{ readonly sequence: Sequence; readonly error: SequenceFailure | Error | undefined }> => {
  const system = await open()
  const sequence = new Sequence(system, signal)
  try {
    for (const command of commands) await sequence.step(command)
    await sequence.finish()
    return { sequence, error: undefined }
  } catch (error) {
    return { sequence, error: error instanceof Error ? error : new Error(String(error)) }
  } finally {
    await system.close()
  }
}

