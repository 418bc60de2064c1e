/**
 * The process the crash-safety test kills: `node --import tsx crash-worker.ts <directory> <run> <seed>`.
 * It opens the durable store, then runs random ledger and order transactions from several fibers,
 * writing `ack <transfer id>...` to stdout once each has been acknowledged (its `withTransaction`
 * returned, so it is durable), until it is killed. It prints `ready` once the store is open.
 *
 * Transactions, all through the core `Ledger` service:
 * - grant: issuer -> user, posted;
 * - order: open the coupon account and reserve user -> coupon (pending), in one transaction; refused
 *   without enough points, and then neither part may exist;
 * - resolve: post or void a pending order of this run;
 * - batch: three grants in one transaction, all or none.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { PCGRandom } from "effect/Utils"
import { Ledger } from "../../core/ledger.js"
import { Account } from "../../core/domain/ledger.js"
import { CouponId, TransferId, UserId } from "../../core/domain/ids.js"
import * as DurableStore from "./durable-store.js"
import { runMigrations } from "./migrate.js"

export const crashUsers = 8
const writerFibers = 4
// Small, so that automatic snapshots (and kills in the middle of them) happen during the test.
const snapshotAfterBytes = 64 * 1024

const [directory, runArgument, seedArgument] = process.argv.slice(2)
if (directory === undefined || runArgument === undefined || seedArgument === undefined) {
  process.stderr.write("usage: crash-worker.ts <directory> <run> <seed>\n")
  process.exit(2)
}
const run = Number(runArgument)
const say = (line: string) => process.stdout.write(`${line}\n`)
const user = (n: number) => Account.user(UserId.make(`usr_${n}`))

const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const ledger = yield* Ledger
  yield* runMigrations()
  for (let n = 0; n < crashUsers; n++) yield* ledger.openAccount(user(n), "user")
  say("ready")
  const pendingOrders: Array<TransferId> = []
  let next = 0
  const id = (kind: string) => `${kind}:r${run}:${next++}`

  const step = (random: PCGRandom): Effect.Effect<unknown, unknown> => {
    const choice = random.integer(100)
    if (choice < 30) {
      const transfer = TransferId.make(id("grant"))
      return ledger.transfer({ id: transfer, debit: Account.issuer, credit: user(random.integer(crashUsers)), amount: 10 + random.integer(90), code: "grant" }).pipe(
        Effect.tap(() => say(`ack ${transfer}`))
      )
    }
    if (choice < 65) {
      const serial = id("order")
      const transfer = TransferId.make(serial)
      const coupon = Account.coupon(CouponId.make(`cpn_${serial.replaceAll(":", "_")}`))
      return sql.withTransaction(
        Effect.zipRight(
          ledger.openAccount(coupon, "coupon"),
          ledger.transfer({ id: transfer, debit: user(random.integer(crashUsers)), credit: coupon, amount: 1 + random.integer(40), pending: true, code: "order", ref: coupon })
        )
      ).pipe(Effect.tap(() => {
        pendingOrders.push(transfer)
        say(`ack ${transfer}`)
      }))
    }
    if (choice < 90) {
      const index = random.integer(Math.max(pendingOrders.length, 1))
      const [pendingId] = pendingOrders.splice(index, 1)
      if (pendingId === undefined) return Effect.void
      const post = random.integer(2) === 0
      const resolution = TransferId.make(`${post ? "post" : "void"}:${pendingId}`)
      return (post ? ledger.post({ id: resolution, pendingId }) : ledger.void({ id: resolution, pendingId })).pipe(
        Effect.tap(() => say(`ack ${resolution}`))
      )
    }
    const batch = id("batch")
    const transfers = [1, 2, 3].map((part) => TransferId.make(`${batch}:${part}`))
    return sql.withTransaction(
      Effect.forEach(transfers, (transfer) =>
        ledger.transfer({ id: transfer, debit: Account.issuer, credit: user(random.integer(crashUsers)), amount: 5, code: "grant" }))
    ).pipe(Effect.tap(() => say(`ack ${transfers.join(" ")}`)))
  }

  yield* Effect.forEach(
    Array.from({ length: writerFibers }, (_, fiber) => new PCGRandom(Number(seedArgument) * 31 + fiber)),
    // A refused order (not enough points) is part of the workload: it must leave nothing behind.
    (random) => Effect.forever(Effect.ignore(Effect.suspend(() => step(random)))),
    { concurrency: "unbounded", discard: true }
  )
})

const store = DurableStore.layer({ directory, snapshotAfterBytes })
Effect.runPromise(program.pipe(Effect.provide(Layer.provideMerge(Ledger.Default, store)))).catch((error: unknown) => {
  process.stderr.write(`crash worker failed: ${String(error)}\n`)
  process.exit(1)
})
