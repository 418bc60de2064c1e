import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import * as DurableStore from "../../adapters/store/durable-store.js"
import { runMigrations } from "../../adapters/store/migrate.js"
import * as PostgresStore from "../../adapters/store/postgres.js"
import { Account } from "../../core/domain/ledger.js"
import { TransferId, UserId } from "../../core/domain/ids.js"
import { Ledger } from "../../core/ledger.js"

/**
 * `npm run bench -- store [seconds] [writers]`: the ledger transfer workload with several concurrent
 * writers, on the durable embedded store and on PostgreSQL in one run. Each writer loops on
 * `Ledger.transfer` (its own transaction: floor-checked debit, credit, idempotent insert) between
 * random user accounts until the time is up. Prints transactions per second for both, the ratio, and
 * fsyncs per transaction (the journal's own count; PostgreSQL's `pg_stat_wal.wal_sync`, which counts
 * the whole server, so other activity on it inflates the figure). Target: embedded >= PostgreSQL.
 * PostgreSQL: ECOUPON_DATABASE_URL, else ECOUPON_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test;
 * the bench works in a schema of its own and drops it.
 */
const USERS = 1_000
const WARMUP_TRANSFERS = 500

interface Figures {
  readonly transactions: number
  readonly seconds: number
  readonly fsyncs: number | undefined
}

const workload = (seconds: number, writers: number, countFsyncs: Effect.Effect<number | undefined>) =>
  Effect.gen(function* () {
    const ledger = yield* Ledger
    const sql = yield* SqlClient.SqlClient
    const users = Array.from({ length: USERS }, (_, i) => Account.user(UserId.make(`usr_b${i}`)))
    yield* sql.withTransaction(
      Effect.forEach(users, (user, i) =>
        Effect.zipRight(
          ledger.openAccount(user, "user"),
          ledger.transfer({ id: TransferId.make(`grant${i}`), debit: Account.issuer, credit: user, amount: 1_000_000_000, code: "grant" })
        ), { discard: true })
    )
    let serial = 0
    const once = (prefix: string) => {
      const i = serial++
      // A multiplicative walk over the accounts: pairs differ and spread over all of them.
      const debit = users[(i * 7919) % USERS] as (typeof users)[number]
      const credit = users[(i * 104_729 + 1) % USERS] as (typeof users)[number]
      return ledger.transfer({ id: TransferId.make(`${prefix}${i}`), debit, credit: credit === debit ? Account.issuer : credit, amount: 1, code: "redeem" })
    }
    yield* Effect.forEach(Array.from({ length: WARMUP_TRANSFERS }), () => once("warm"), { concurrency: writers, discard: true })
    const fsyncsBefore = yield* countFsyncs
    const started = performance.now()
    const deadline = started + seconds * 1000
    let transactions = 0
    const writer = Effect.whileLoop({
      while: () => performance.now() < deadline,
      body: () => once("t"),
      step: () => void transactions++
    })
    yield* Effect.all(Array.from({ length: writers }, () => writer), { concurrency: "unbounded", discard: true })
    const elapsed = (performance.now() - started) / 1000
    const fsyncsAfter = yield* countFsyncs
    return {
      transactions,
      seconds: elapsed,
      fsyncs: fsyncsBefore === undefined || fsyncsAfter === undefined ? undefined : fsyncsAfter - fsyncsBefore
    } satisfies Figures
  })

const embedded = (seconds: number, writers: number): Promise<Figures> => {
  const directory = mkdtempSync(join(tmpdir(), "ecoupon-bench-store-"))
  const program = Effect.gen(function* () {
    yield* runMigrations()
    const store = yield* DurableStore.DurableStore
    return yield* workload(seconds, writers, Effect.sync(() => store.stats().fsyncs))
  })
  const layer = Ledger.Default.pipe(Layer.provideMerge(DurableStore.layer({ directory, snapshotOnClose: false })))
  return Effect.runPromise(program.pipe(Effect.provide(layer))).finally(() => rmSync(directory, { recursive: true, force: true }))
}

const postgres = (url: string, seconds: number, writers: number): Promise<Figures> => {
  const schema = `ecoupon_bench_${process.pid}`
  const walSyncs = PostgresStore.withAdminClient(url, (sql) => sql<{ wal_sync: unknown }>`SELECT wal_sync FROM pg_stat_wal`).pipe(
    Effect.map((rows) => Number(rows[0]?.wal_sync)),
    Effect.orElseSucceed(() => undefined)
  )
  const program = Effect.gen(function* () {
    yield* runMigrations()
    return yield* workload(seconds, writers, walSyncs)
  })
  const layer = Ledger.Default.pipe(
    Layer.provideMerge(PostgresStore.layer({ url: PostgresStore.withSearchPath(url, schema), maxConnections: writers }))
  )
  return Effect.runPromise(
    Effect.acquireUseRelease(
      PostgresStore.withAdminClient(url, (sql) => sql`CREATE SCHEMA ${sql(schema)}`),
      () => program.pipe(Effect.provide(layer)),
      () => Effect.orDie(PostgresStore.withAdminClient(url, (sql) => sql`DROP SCHEMA ${sql(schema)} CASCADE`))
    )
  )
}

const line = (name: string, figures: Figures) => {
  const perSecond = figures.transactions / figures.seconds
  const fsyncs = figures.fsyncs === undefined ? "n/a" : (figures.fsyncs / figures.transactions).toFixed(3)
  return `store: ${name.padEnd(10)} ${figures.transactions} transfers in ${figures.seconds.toFixed(2)} s = ${Math.round(perSecond)} tx/s, ${fsyncs} fsyncs/tx`
}

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const seconds = Number(args[0] ?? 5)
  const writers = Number(args[1] ?? 16)
  if (!(seconds > 0) || !Number.isSafeInteger(writers) || writers <= 0) {
    throw new Error(`usage: npm run bench -- store [seconds > 0] [writers >= 1], got ${args.join(" ")}`)
  }
  const url = process.env["ECOUPON_DATABASE_URL"] || process.env["ECOUPON_TEST_DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test"
  process.stdout.write(`store: ledger transfers, ${writers} concurrent writers, ${seconds} s per store\n`)
  const durable = await embedded(seconds, writers)
  process.stdout.write(`${line("embedded", durable)}\n`)
  const pg = await postgres(url, seconds, writers)
  process.stdout.write(`${line("postgres", pg)}  (${PostgresStore.redactUrl(url)})\n`)
  const ratio = durable.transactions / durable.seconds / (pg.transactions / pg.seconds)
  process.stdout.write(`store: embedded / postgres = ${ratio.toFixed(2)} (target >= 1: ${ratio >= 1 ? "met" : "NOT met"})\n`)
}
