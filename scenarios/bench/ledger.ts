import { Effect, Layer } from "effect"
import { sqljsTestLayer } from "../../adapters/store/testing.js"
import { Account } from "../../core/domain/ledger.js"
import { TransferId, UserId } from "../../core/domain/ids.js"
import { Ledger } from "../../core/ledger.js"

/**
 * `npm run bench -- ledger [transfers]`: posted transfers per second through the Ledger service on the
 * in-memory sql.js store, one process. Each transfer is a full ledger operation: its own transaction,
 * the floor-checked debit, the credit, the idempotent insert. Target: >= 10,000 per second.
 */
const TARGET_PER_SECOND = 10_000
const USERS = 100

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const transfers = Number(args[0] ?? 50_000)
  if (!Number.isSafeInteger(transfers) || transfers <= 0) throw new Error(`transfers must be a positive whole number, got ${args[0]}`)
  const program = Effect.gen(function* () {
    const ledger = yield* Ledger
    const users = Array.from({ length: USERS }, (_, i) => Account.user(UserId.make(`usr_b${i}`)))
    for (const [i, user] of users.entries()) {
      yield* ledger.openAccount(user, "user")
      yield* ledger.transfer({ id: TransferId.make(`grant${i}`), debit: Account.issuer, credit: user, amount: 1_000_000_000, code: "grant" })
    }
    const once = (i: number, prefix = "t") =>
      ledger.transfer({ id: TransferId.make(`${prefix}${i}`), debit: users[i % USERS]!, credit: users[(i * 7 + 1) % USERS]!, amount: 1 + (i % 50), code: "redeem" })
    // Warm-up: JIT and sql.js statement caches.
    for (let i = 0; i < 2_000; i++) yield* once(i, "warm")
    const started = process.hrtime.bigint()
    const cpuStarted = process.cpuUsage()
    for (let i = 0; i < transfers; i++) yield* once(i)
    const cpu = process.cpuUsage(cpuStarted)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
  })
  const { seconds, cpuSeconds } = await Effect.runPromise(program.pipe(Effect.provide(Ledger.Default.pipe(Layer.provideMerge(sqljsTestLayer)))))
  const perSecond = Math.round(transfers / seconds)
  process.stdout.write(
    [
      `ledger: ${transfers} posted transfers in ${seconds.toFixed(2)} s on in-memory sql.js (one process, one writer)`,
      `ledger: ${perSecond} transfers/s, ${(1e6 / perSecond).toFixed(1)} us each (target >= ${TARGET_PER_SECOND}/s: ${perSecond >= TARGET_PER_SECOND ? "met" : "NOT met"})`,
      // CPU time per transfer is what the process itself spent: steadier than wall time on a busy machine.
      `ledger: ${((cpuSeconds / transfers) * 1e6).toFixed(1)} us of CPU per transfer (${Math.round(transfers / cpuSeconds)}/s if the process had a core to itself)`
    ].join("\n") + "\n"
  )
}
