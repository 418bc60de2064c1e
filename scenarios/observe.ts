import { Effect } from "effect"
import type { AuditReport } from "../core/domain/audit.js"
import { faultNames } from "./commands.js"
import { setFaultOf } from "./execute.js"
import type { Sheet } from "./model.js"
import type { ScenarioEnv } from "./system.js"

/**
 * What the system shows: the same balances and counts `sheetOf` lists for the model, under the same
 * names (read by the layer's server side, `server-side.ts`). And the end of every run: faults healed,
 * every message sent, then the auditor (invariants 1-6, 8, 9) and the providers' side (7).
 */

export const systemSheet = (env: ScenarioEnv): Effect.Effect<Sheet> => env.server.sheet(env.registry)

/** The lines on which two sheets differ, as `name: expected X, system Y`. */
export const sheetDifferences = (expected: Sheet, actual: Sheet): ReadonlyArray<string> => {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
  return names.filter((name) => expected[name] !== actual[name]).map((name) => `${name}: model ${expected[name] ?? "none"}, system ${actual[name] ?? "none"}`)
}

export interface EndChecks {
  readonly audit: AuditReport
  /** Delivered orders their provider server never took (invariant 7). */
  readonly ordersNotAtProvider: ReadonlyArray<string>
  /** Deposits charged through carrier billing; undefined where the layer cannot tell this run's from others' (a shared server). */
  readonly depositsPoints: number | undefined
  readonly outboxDrained: boolean
}

/** Heals every fault, sends what is left (dead messages retried once, as an operator would), reconciles the kiosks, audits. */
export const finish = (env: ScenarioEnv): Effect.Effect<EndChecks> =>
  Effect.gen(function* () {
    for (const fault of faultNames) yield* setFaultOf(env, fault, false)
    const drained = yield* env.server.drain(env.registry)
    for (const station of env.stations) yield* station.flow.reconcile
    const { ordersNotAtProvider, depositsPoints } = yield* env.server.endObservations(env.registry)
    return { audit: yield* env.office.audit, ordersNotAtProvider, depositsPoints, outboxDrained: drained }
  })
