/**
 * The process the crash-safety test kills: `node --import tsx crash-worker.ts <directory> <run> <seed>`.
 * It opens the durable store, then runs random ledger and order transactions from several fibers,
 * writing `ack <kind> <id>...` to stdout once each has been acknowledged (the service call returned,
 * so it is durable), until it is killed. It prints `ready` once the store is open.
 *
 * Transactions, through the core services:
 * - grant (`ack transfer`): issuer -> user, posted, by `Ledger.transfer`;
 * - batch (`ack transfer` x3): three grants in one transaction, all or none;
 * - place (`ack order`): `Orders.place` - stock taken, order and coupon rows, coupon account, pending
 *   transfer and outbox row in one transaction; Bob starts without points, so some are refused and
 *   must leave nothing behind;
 * - deliver / abort (`ack delivered` / `ack aborted`) of an order this run placed.
 *
 * The first run seeds the small deployment of `core/testing/world.ts` (in one transaction), with the
 * offer's stock and sale window opened wide for a long run on the real clock.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Random } from "effect"
import { PCGRandom } from "effect/Utils"
import { Auditor } from "../../core/audit.js"
import { Account } from "../../core/domain/ledger.js"
import { OrderId, TransferId, type UserId } from "../../core/domain/ids.js"
import { AbortOrder, DeliverOrder, PlaceOrder } from "../../core/domain/order.js"
import { Ledger } from "../../core/ledger.js"
import { Orders } from "../../core/orders.js"
import { seedWorld, world } from "../../core/testing/world.js"
import * as DurableStore from "./durable-store.js"
import { runMigrations } from "./migrate.js"

const writerFibers = 4
// Small, so that automatic snapshots (and kills in the middle of them) happen during the test.
const snapshotAfterBytes = 64 * 1024

const [directory, runArgument, seedArgument] = process.argv.slice(2)
if (directory === undefined || runArgument === undefined || seedArgument === undefined) {
  process.stderr.write("usage: crash-worker.ts <directory> <run> <seed>\n")
  process.exit(2)
}
const run = Number(runArgument)
const seed = Number(seedArgument)
const say = (line: string) => process.stdout.write(`${line}\n`)
const customers: ReadonlyArray<UserId> = [world.alice, world.bob]

const seedOnce = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const seeded = yield* sql`SELECT id FROM users WHERE id = ${world.alice}`
  if (seeded.length > 0) return
  yield* sql.withTransaction(
    Effect.gen(function* () {
      yield* seedWorld
      yield* sql`UPDATE offers SET stock = ${1_000_000_000}, valid_until_ms = ${Number.MAX_SAFE_INTEGER} WHERE id = ${world.offer}`
    })
  )
})

const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const ledger = yield* Ledger
  const orders = yield* Orders
  yield* runMigrations()
  yield* seedOnce
  say("ready")
  const placed: Array<OrderId> = []
  let next = 0
  const serial = () => `r${run}_${next++}`

  const step = (random: PCGRandom): Effect.Effect<unknown, unknown> => {
    const choice = random.integer(100)
    const customer = customers[random.integer(customers.length)] as UserId
    if (choice < 25) {
      const transfer = TransferId.make(`grant:${serial()}`)
      return ledger.transfer({ id: transfer, debit: Account.issuer, credit: Account.user(customer), amount: 500 + random.integer(2_500), code: "grant" }).pipe(
        Effect.tap(() => say(`ack transfer ${transfer}`))
      )
    }
    if (choice < 35) {
      const batch = `batch:${serial()}`
      const transfers = [1, 2, 3].map((part) => TransferId.make(`${batch}:${part}`))
      return sql.withTransaction(
        Effect.forEach(transfers, (transfer) =>
          ledger.transfer({ id: transfer, debit: Account.issuer, credit: Account.user(customer), amount: 5, code: "grant" }))
      ).pipe(Effect.tap(() => say(`ack transfer ${transfers.join(" ")}`)))
    }
    if (choice < 70) {
      const orderId = OrderId.make(`ord_${serial()}`)
      const request = PlaceOrder.make({
        orderId,
        kioskId: world.kiosk1,
        customer: { _tag: "user", userId: customer },
        offerId: world.offer,
        quantity: 1 + random.integer(3),
        catalogVersion: world.catalogVersion,
        medium: "paper"
      })
      return orders.place(request).pipe(Effect.tap(() => {
        placed.push(orderId)
        say(`ack order ${orderId}`)
      }))
    }
    const [orderId] = placed.splice(random.integer(Math.max(placed.length, 1)), 1)
    if (orderId === undefined) return Effect.void
    return random.integer(3) > 0
      ? orders.deliver(DeliverOrder.make({ orderId, medium: { _tag: "paper" } })).pipe(Effect.tap(() => say(`ack delivered ${orderId}`)))
      : orders.abort(AbortOrder.make({ orderId, reason: "customer walked away" })).pipe(Effect.tap(() => say(`ack aborted ${orderId}`)))
  }

  yield* Effect.forEach(
    Array.from({ length: writerFibers }, (_, fiber) => new PCGRandom(seed * 31 + fiber)),
    // A refused order (not enough points) is part of the workload: it must leave nothing behind.
    (random) => Effect.forever(Effect.ignore(Effect.suspend(() => step(random)))),
    { concurrency: "unbounded", discard: true }
  )
})

const store = DurableStore.layer({ directory, snapshotAfterBytes })
const services = Layer.mergeAll(Orders.Default, Ledger.Default, Auditor.Default)
Effect.runPromise(program.pipe(Effect.provide(Layer.provideMerge(services, store)), Effect.withRandom(Random.make(seed)))).catch((error: unknown) => {
  process.stderr.write(`crash worker failed: ${String(error)}\n`)
  process.exit(1)
})
