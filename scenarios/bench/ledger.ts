import { Effect, Layer } from "effect"
import { sqljsTestLayer } from "../../adapters/store/testing.js"
import { Account, type AccountId } from "../../core/domain/ledger.js"
import { TransferId, UserId } from "../../core/domain/ids.js"
import { Ledger, type TransferRequest } from "../../core/ledger.js"

/**
 * `npm run bench -- ledger [transfers] [batch]`: posted transfers per second through the Ledger
 * service on the in-memory sql.js store, one process, one writer. Two figures:
 * - one transaction per transfer (`Ledger.transfer`): the floor-checked move, the idempotent insert,
 *   and a transaction's fixed cost each time;
 * - batched (`Ledger.transferBatch`, `batch` transfers per transaction, default 100): the same work per
 *   transfer with the transaction's cost shared, as TigerBeetle's create_transfers.
 * Target: >= 10,000 per second. CPU time per transfer is printed too: steadier than wall time when
 * the machine is busy.
 */
const TARGET_PER_SECOND = 10_000
const USERS = 100

const measure = (label: string, count: number, work: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const started = process.hrtime.bigint()
    const cpuStarted = process.cpuUsage()
    yield* work
    const cpu = process.cpuUsage(cpuStarted)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
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

    const single = yield* measure("one per transaction", transfers, Effect.gen(function* () {
      for (let i = 0; i < transfers; i++) yield* Effect.orDie(ledger.transfer(request("s", i)))
    }))
    const batched = yield* measure(`batches of ${batch}`, transfers, Effect.gen(function* () {
      for (let i = 0; i < transfers; i += batch) {
        const results = yield* Effect.orDie(ledger.transferBatch(Array.from({ length: Math.min(batch, transfers - i) }, (_, k) => request("b", i + k))))
        if (results.some((r) => r._tag === "Left")) return yield* Effect.dieMessage("a benchmark transfer was refused")
      }
    }))
    return [...single, ...batched]
  })
  const lines = await Effect.runPromise(program.pipe(Effect.provide(Ledger.Default.pipe(Layer.provideMerge(sqljsTestLayer)))))
  process.stdout.write(lines.join("\n") + "\n")
}
