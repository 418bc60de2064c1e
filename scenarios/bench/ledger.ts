import { Effect, Layer } from "effect"
import { runMigrations } from "../../adapters/store/migrate.js"
import * as SqljsClient from "../../adapters/store/sqljs-client.js"
import { Account, type AccountId } from "../../core/domain/ledger.js"
import { TransferId, UserId } from "../../core/domain/ids.js"
import { Ledger, type TransferRequest } from "../../core/ledger.js"
import { makeSqlFloor } from "./sql-floor.js"

/**
 * `npm run bench -- ledger [transfers] [batch]`: posted transfers per second through the Ledger
 * service on the in-memory sql.js store, one process, one writer. Two figures:
 * - one transaction per transfer (`Ledger.transfer`): the floor-checked move, the idempotent insert,
 *   and a transaction's fixed cost each time;
 * - batched (`Ledger.transferBatch`, `batch` transfers per transaction, default 100): the same work per
 *   transfer with the transaction's cost shared, as TigerBeetle's create_transfers.
 * Target: >= 10,000 per second. CPU time per transfer is printed too: steadier than wall time when
 * the machine is busy. Beside the one-per-transaction figure, its SQL floor: the same statements
 * replayed straight on sql.js and on native SQLite (`sql-floor.ts`), the replay's time taken out.
 */
const TARGET_PER_SECOND = 10_000
const USERS = 100

const measure = (label: string, count: number, work: Effect.Effect<void>, replayMs: () => number = () => 0) =>
  Effect.gen(function* () {
    const started = process.hrtime.bigint()
    const cpuStarted = process.cpuUsage()
    const replayedBefore = replayMs()
    yield* work
    const cpu = process.cpuUsage(cpuStarted)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9 - (replayMs() - replayedBefore) / 1e3
    const perSecond = Math.round(count / seconds)
    const cpuUs = (cpu.user + cpu.system) / count
    return [
      `ledger ${label}: ${count} posted transfers in ${seconds.toFixed(2)} s = ${perSecond} transfers/s (target >= ${TARGET_PER_SECOND}/s: ${perSecond >= TARGET_PER_SECOND ? "met" : "NOT met"})`,
      `ledger ${label}: ${cpuUs.toFixed(1)} us of CPU per transfer (${Math.round(1e6 / cpuUs)}/s with a core to itself)`
    ]
  })

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const transfers = Number(args[0] ?? 50_000)
  const batch = Number(args[1] ?? 100)
  if (!Number.isSafeInteger(transfers) || transfers <= 0) throw new Error(`transfers must be a positive whole number, got ${args[0]}`)
  if (!Number.isSafeInteger(batch) || batch <= 0) throw new Error(`batch must be a positive whole number, got ${args[1]}`)
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
    // Warm-up: JIT and sql.js statement caches.
    for (let i = 0; i < 2_000; i++) yield* ledger.transfer(request("warm", i))
    yield* ledger.transferBatch(Array.from({ length: batch }, (_, i) => request("warmb", i)))

    floor.timing = true
    const single = yield* measure("one per transaction", transfers, Effect.gen(function* () {
      for (let i = 0; i < transfers; i++) yield* Effect.orDie(ledger.transfer(request("s", i)))
    }), floor.replayMs)
    floor.timing = false
    floor.flush()
    const perTransfer = (ms: number) => (ms * 1000) / transfers
    const floorLines = [
      `ledger one per transaction: ${(floor.statements() / transfers).toFixed(1)} statements per transfer, transaction control included (the CPU figure above includes the floor's replay)`,
      `ledger one per transaction: SQL floor on sql.js ${perTransfer(floor.sqljsMs()).toFixed(1)} us per transfer (at most ${Math.round(1e6 / perTransfer(floor.sqljsMs()))}/s), on native SQLite ${perTransfer(floor.nativeMs()).toFixed(1)} us (at most ${Math.round(1e6 / perTransfer(floor.nativeMs()))}/s)`
    ]
    const batched = yield* measure(`batches of ${batch}`, transfers, Effect.gen(function* () {
      for (let i = 0; i < transfers; i += batch) {
        const results = yield* Effect.orDie(ledger.transferBatch(Array.from({ length: Math.min(batch, transfers - i) }, (_, k) => request("b", i + k))))
        if (results.some((r) => r._tag === "Left")) return yield* Effect.dieMessage("a benchmark transfer was refused")
      }
    }))
    return [...single, ...floorLines, ...batched]
  })
  const floor = await makeSqlFloor()
  const store = Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(Layer.provideMerge(Layer.orDie(SqljsClient.layer({ observer: floor.observer }))))
  const lines = await Effect.runPromise(program.pipe(Effect.provide(Ledger.Default.pipe(Layer.provideMerge(store)))))
  floor.close()
  process.stdout.write(lines.join("\n") + "\n")
}
