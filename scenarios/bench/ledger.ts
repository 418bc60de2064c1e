import { Effect, Layer } from "effect"
import os from "node:os"
import { runMigrations } from "../../adapters/store/migrate.js"
import * as NativeSqlite from "../../adapters/store/native-sqlite.js"
import * as SqljsClient from "../../adapters/store/sqljs-client.js"
import { Account, type AccountId } from "../../core/domain/ledger.js"
import { TransferId, UserId } from "../../core/domain/ids.js"
import { Ledger, type TransferRequest } from "../../core/ledger.js"
import { makeSqlFloor, type SqlFloor } from "./sql-floor.js"

/**
 * `npm run bench -- ledger [transfers] [batch] [sqljs|native|both] [no-floor]`: posted transfers per
 * second through the Ledger service on an in-memory store, one process, one writer; both stores by
 * default, one after the other (`sqljs`, the embedded default; `native`, better-sqlite3). Per store:
 * - one transaction per transfer (`Ledger.transfer`): the floor-checked move, the idempotent insert,
 *   and a transaction's fixed cost each time;
 * - batched (`Ledger.transferBatch`, `batch` transfers per transaction, default 100): the same work per
 *   transfer with the transaction's cost shared, as TigerBeetle's create_transfers.
 * Target: >= 10,000 per second. CPU time per transfer is printed too: steadier than wall time when
 * the machine is busy. Tracing is off, as in the server and the simulator. Beside the one-per-transaction figure, its SQL floor: the same statements
 * replayed straight on sql.js and on native SQLite (`sql-floor.ts`), the replay's wall and CPU time
 * taken out of the run's figures.
 */
const TARGET_PER_SECOND = 10_000
const USERS = 100
type StoreName = "sqljs" | "native"

const measure = (label: string, count: number, work: Effect.Effect<void>, floor: SqlFloor | undefined) =>
  Effect.gen(function* () {
    const started = process.hrtime.bigint()
    const cpuStarted = process.cpuUsage()
    const replayedBefore = floor?.replayMs() ?? 0
    const replayedCpuBefore = floor?.replayCpuUs() ?? 0
    yield* work
    const cpu = process.cpuUsage(cpuStarted)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9 - ((floor?.replayMs() ?? 0) - replayedBefore) / 1e3
    const perSecond = Math.round(count / seconds)
    const cpuUs = (cpu.user + cpu.system - ((floor?.replayCpuUs() ?? 0) - replayedCpuBefore)) / count
    return [
      `ledger ${label}: ${count} posted transfers in ${seconds.toFixed(2)} s = ${perSecond} transfers/s (target >= ${TARGET_PER_SECOND}/s: ${perSecond >= TARGET_PER_SECOND ? "met" : "NOT met"}); load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores`,
      `ledger ${label}: ${cpuUs.toFixed(1)} us of CPU per transfer, the floor's replay taken out (${Math.round(1e6 / cpuUs)}/s with a core to itself)`
    ]
  })

const runOn = async (store: StoreName, transfers: number, batch: number, floor: SqlFloor | undefined): Promise<ReadonlyArray<string>> => {
  const program = Effect.gen(function* () {
    const ledger = yield* Ledger
    const users: ReadonlyArray<AccountId> = Array.from({ length: USERS }, (_, i) => Account.user(UserId.make(`usr_b${i}`)))
    for (const [i, user] of users.entries()) {
      yield* ledger.openAccount(user, "user")
      yield* ledger.transfer({ id: TransferId.make(`grant${i}`), debit: Account.issuer, credit: user, amount: 1_000_000_000, code: "grant" })
    }
    const request = (prefix: string, i: number): TransferRequest => ({
      id: TransferId.make(`${prefix}${i}`),
      debit: users[i % USERS]!,
      credit: users[(i * 7 + 1) % USERS]!,
      amount: 1 + (i % 50),
      code: "redeem"
    })
    // Warm-up: JIT and statement caches.
    for (let i = 0; i < 2_000; i++) yield* ledger.transfer(request("warm", i))
    yield* ledger.transferBatch(Array.from({ length: batch }, (_, i) => request("warmb", i)))

    if (floor !== undefined) floor.timing = true
    const single = yield* measure(`${store}, one per transaction`, transfers, Effect.gen(function* () {
      for (let i = 0; i < transfers; i++) yield* Effect.orDie(ledger.transfer(request("s", i)))
    }), floor)
    const floorLines: Array<string> = []
    if (floor !== undefined) {
      floor.timing = false
      floor.flush()
      const perTransfer = (ms: number) => (ms * 1000) / transfers
      floorLines.push(
        `ledger ${store}, one per transaction: ${(floor.statements() / transfers).toFixed(1)} statements per transfer, transaction control included`,
        `ledger ${store}, one per transaction: SQL floor on sql.js ${perTransfer(floor.sqljsMs()).toFixed(1)} us per transfer (at most ${Math.round(1e6 / perTransfer(floor.sqljsMs()))}/s), on native SQLite ${perTransfer(floor.nativeMs()).toFixed(1)} us (at most ${Math.round(1e6 / perTransfer(floor.nativeMs()))}/s)`
      )
    }
    const batched = yield* measure(`${store}, batches of ${batch}`, transfers, Effect.gen(function* () {
      for (let i = 0; i < transfers; i += batch) {
        const results = yield* Effect.orDie(ledger.transferBatch(Array.from({ length: Math.min(batch, transfers - i) }, (_, k) => request("b", i + k))))
        if (results.some((r) => r._tag === "Left")) return yield* Effect.dieMessage("a benchmark transfer was refused")
      }
    }), floor)
    return [...single, ...floorLines, ...batched]
  })
  const observer = floor === undefined ? {} : { observer: floor.observer }
  const client = store === "native" ? NativeSqlite.layer(observer) : Layer.orDie(SqljsClient.layer(observer))
  const migrated = Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(Layer.provideMerge(client))
  // Tracing off, as the server and the simulator run: nobody collects the spans.
  return Effect.runPromise(program.pipe(Effect.provide(Ledger.Default.pipe(Layer.provideMerge(migrated))), Effect.withTracerEnabled(false)))
}

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const transfers = Number(args[0] ?? 50_000)
  const batch = Number(args[1] ?? 100)
  if (!Number.isSafeInteger(transfers) || transfers <= 0) throw new Error(`transfers must be a positive whole number, got ${args[0]}`)
  if (!Number.isSafeInteger(batch) || batch <= 0) throw new Error(`batch must be a positive whole number, got ${args[1]}`)
  const options = args.slice(2)
  const unknown = options.filter((option) => !["sqljs", "native", "both", "no-floor"].includes(option))
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(", ")}: expected sqljs, native, both or no-floor`)
  const stores: ReadonlyArray<StoreName> = options.includes("sqljs") && !options.includes("native")
    ? ["sqljs"]
    : options.includes("native") && !options.includes("sqljs")
      ? ["native"]
      : ["sqljs", "native"]
  for (const store of stores) {
    // A floor per store: its shadow databases hold the rows of that store's run only.
    const floor = options.includes("no-floor") ? undefined : await makeSqlFloor()
    const lines = await runOn(store, transfers, batch, floor)
    floor?.close()
    process.stdout.write(lines.join("\n") + "\n")
  }
}
