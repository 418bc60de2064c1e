import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { PCGRandom } from "effect/Utils"
import { Auditor } from "../../core/audit.js"
import { formatReport } from "../../core/domain/audit.js"
import * as DurableStore from "./durable-store.js"

/**
 * Crash safety, measured: start `crash-worker.ts` on a durable store, let it acknowledge transactions,
 * SIGKILL it at a random moment, reopen the store and check that every acknowledged transaction is
 * there, that none is there in part, and that the invariant auditor is clean. Repeat on the same
 * directory, so each run also recovers from the previous crash.
 */
export interface CrashTally {
  readonly kills: number
  readonly acknowledged: number
  /** Acknowledged transactions missing after reopening: must be 0. */
  readonly lost: number
  /** Transactions found in part (a coupon without its order, a batch not whole): must be 0. */
  readonly partial: number
  readonly auditFailures: number
  /** Messages for every failure, to print. */
  readonly failures: ReadonlyArray<string>
}

export interface CrashOptions {
  readonly directory: string
  readonly kills: number
  readonly seed: number
  /** The kill comes this long after the worker reports its store open: uniform in [min, max). */
  readonly killAfterMs: readonly [min: number, max: number]
  readonly onKill?: (kill: number, tally: CrashTally) => void
}

const workerPath = fileURLToPath(new URL("./crash-worker.ts", import.meta.url))
const projectRoot = fileURLToPath(new URL("../../", import.meta.url))
const workerReadyTimeoutMs = 30_000

/** What the worker acknowledged, by kind: transfer and order ids, and orders delivered or aborted. */
interface Acknowledged {
  readonly transfer: Array<string>
  readonly order: Array<string>
  readonly delivered: Array<string>
  readonly aborted: Array<string>
}

const kinds = ["transfer", "order", "delivered", "aborted"] as const

interface WorkerRun {
  readonly acknowledged: Acknowledged
}

/** Runs the worker until `killAfterMs` after it is ready, kills it, and waits for it to be gone. */
const runWorker = (directory: string, run: number, seed: number, killAfterMs: number): Promise<WorkerRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", workerPath, directory, String(run), String(seed)], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    const acknowledged: Acknowledged = { transfer: [], order: [], delivered: [], aborted: [] }
    let stderr = ""
    let killed = false
    const readyTimer = setTimeout(() => {
      killed = true
      child.kill("SIGKILL")
      reject(new Error(`crash worker was not ready within ${workerReadyTimeoutMs} ms: ${stderr}`))
    }, workerReadyTimeoutMs)
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line === "ready") {
        clearTimeout(readyTimer)
        setTimeout(() => {
          killed = true
          child.kill("SIGKILL")
        }, killAfterMs)
      } else if (line.startsWith("ack ")) {
        const [kind, ...ids] = line.slice(4).split(" ")
        const known = kinds.find((k) => k === kind)
        if (known !== undefined) acknowledged[known].push(...ids)
      }
    })
    // "close" comes after the process is gone and its pipes are drained: every ack it wrote is read.
    child.on("close", (code, signal) => {
      clearTimeout(readyTimer)
      if (killed && signal === "SIGKILL") resolve({ acknowledged })
      else reject(new Error(`crash worker exited by itself (code ${code}, signal ${signal}): ${stderr}`))
    })
  })

/** Reopens the store and checks it against what was acknowledged. */
const verify = (directory: string, acknowledged: Acknowledged) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const transfers = new Set((yield* sql<{ id: string }>`SELECT id FROM ledger_transfers`).map((row) => row.id))
    const orderStates = new Map((yield* sql<{ id: string; state: string }>`SELECT id, state FROM orders`).map((row) => [row.id, row.state]))
    const lost = [
      ...acknowledged.transfer.filter((id) => !transfers.has(id)).map((id) => `transfer ${id}`),
      ...acknowledged.order.filter((id) => !orderStates.has(id)).map((id) => `order ${id}`),
      ...acknowledged.delivered.filter((id) => orderStates.get(id) !== "delivered").map((id) => `delivery of ${id}`),
      ...acknowledged.aborted.filter((id) => orderStates.get(id) !== "aborted").map((id) => `abort of ${id}`)
    ]
    const orphanCoupons = yield* sql<{ id: string }>`
      SELECT a.id FROM ledger_accounts a
      WHERE a.kind = 'coupon' AND NOT EXISTS (
        SELECT 1 FROM ledger_transfers t WHERE t.credit_account = a.id AND t.code = 'order' AND t.flag = 'pending')`
    const brokenBatches = yield* sql<{ batch: string; parts: number }>`
      SELECT substr(id, 1, length(id) - 2) AS batch, count(*) AS parts FROM ledger_transfers
      WHERE id LIKE 'batch:%' GROUP BY substr(id, 1, length(id) - 2) HAVING count(*) <> 3`
    const report = yield* Effect.flatMap(Auditor, (auditor) => auditor.run)
    return {
      lost,
      partial: [...orphanCoupons.map((row) => `coupon account ${row.id} without its order`), ...brokenBatches.map((row) => `batch ${row.batch} has ${row.parts} of 3 parts`)],
      audit: report.ok ? undefined : formatReport(report)
    }
  }).pipe(
    Effect.provide(Layer.provideMerge(Auditor.Default, DurableStore.layer({ directory, snapshotOnClose: false })))
  )

export const runCrashCycles = (options: CrashOptions) =>
  Effect.gen(function* () {
    const random = new PCGRandom(options.seed)
    let tally: CrashTally = { kills: 0, acknowledged: 0, lost: 0, partial: 0, auditFailures: 0, failures: [] }
    const [minMs, maxMs] = options.killAfterMs
    for (let kill = 1; kill <= options.kills; kill++) {
      const killAfterMs = minMs + random.integer(Math.max(1, maxMs - minMs))
      const run = yield* Effect.promise(() => runWorker(options.directory, kill, options.seed + kill, killAfterMs))
      const found = yield* verify(options.directory, run.acknowledged)
      const acknowledged = kinds.reduce((sum, kind) => sum + run.acknowledged[kind].length, 0)
      tally = {
        kills: tally.kills + 1,
        acknowledged: tally.acknowledged + acknowledged,
        lost: tally.lost + found.lost.length,
        partial: tally.partial + found.partial.length,
        auditFailures: tally.auditFailures + (found.audit === undefined ? 0 : 1),
        failures: [
          ...tally.failures,
          ...found.lost.slice(0, 5).map((what) => `kill ${kill}: acknowledged ${what} is missing`),
          ...found.partial.slice(0, 5).map((what) => `kill ${kill}: ${what}`),
          ...(found.audit === undefined ? [] : [`kill ${kill}: audit failed\n${found.audit}`])
        ].slice(0, 50)
      }
      options.onKill?.(kill, tally)
    }
    return tally
  })
