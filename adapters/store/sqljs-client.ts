import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient, Statement } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, Context, Effect, Exit, Layer, Option, Scope } from "effect"
import { asSqlError, defaultPragmas, SqljsDatabase } from "./sqljs-database.js"
import { loadSqlJs } from "./sqljs-runtime.js"
import { type CommitLog, Session } from "./sqljs-session.js"
import { CurrentStoreTimings, type StoreTimings } from "./store-timings.js"

/**
 * What the sql.js store offers beyond `SqlClient`: the database as bytes, and exclusive use of the
 * raw database (for snapshots). Both wait for the lock, so they never see half a transaction; calling
 * either from inside `sql.withTransaction` would wait on its own lock, and is refused instead.
 */
export interface SqljsStoreService {
  /** The database as an SQLite file image (pragmas are re-applied afterwards). */
  readonly export: Effect.Effect<Uint8Array, SqlError>
  /** Runs `use` holding the lock: no statement or transaction runs meanwhile. */
  readonly exclusive: <A, E, R>(use: (db: SqljsDatabase) => Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
}

export class SqljsStore extends Context.Tag("ecoupon/store/SqljsStore")<SqljsStore, SqljsStoreService>() {}

export interface SqljsClientOptions {
  /** Where committed write transactions are recorded (the durable store's journal); none in memory. */
  readonly commitLog?: CommitLog | undefined
  /** Maps identifiers in queries, e.g. camelCase to snake_case; none by default. */
  readonly transformQueryNames?: ((name: string) => string) | undefined
  /** Maps column names in results; none by default. */
  readonly transformResultNames?: ((name: string) => string) | undefined
}

const refuseInsideTransaction = (what: string): Effect.Effect<void, SqlError> =>
  Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) =>
    Option.isSome(transaction)
      ? Effect.fail(new SqlError({ message: `${what} inside sql.withTransaction would wait on its own lock; call it outside` }))
      : Effect.void
  )

/** `effect`, its wall time added to `timings[field]` when there is an account. */
const timed = <A, E, R>(timings: StoreTimings | undefined, field: "lockWaitMs" | "durableWaitMs", effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  if (timings === undefined) return effect
  return Effect.suspend(() => {
    const startedMs = performance.now()
    return Effect.ensuring(effect, Effect.sync(() => void (timings[field] += performance.now() - startedMs)))
  })
}

/**
 * A `SqlClient` over one sql.js database. sql.js is a single connection, so one lock (a semaphore of
 * one permit) serialises everything: a transaction holds it from BEGIN to COMMIT/ROLLBACK, a statement
 * outside a transaction holds it for that statement. Nested `withTransaction` uses SAVEPOINTs, as
 * @effect/sql does on every dialect.
 *
 * With a commit log, a holder returns only once everything it could have read is durable: after the
 * lock is released (so that later transactions can share the same fsync) it waits for the log.
 */
export const make = (
  db: SqljsDatabase,
  options: SqljsClientOptions = {}
): Effect.Effect<
  { readonly client: SqlClient.SqlClient; readonly store: SqljsStoreService },
  never,
  Scope.Scope | Reactivity.Reactivity
> =>
  Effect.gen(function* () {
    const lock = yield* Effect.makeSemaphore(1)
    const log = options.commitLog

    const acquire = (transactional: boolean): Effect.Effect<Connection, SqlError, Scope.Scope> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const failure = log?.failure()
          if (failure !== undefined) return yield* Effect.fail(failure)
          const timings = yield* CurrentStoreTimings
          const session = new Session(db, log, transactional, timings)
          // Finalizers run last-added first: this one runs after the lock is released.
          if (log !== undefined) yield* Effect.addFinalizer(() => timed(timings, "durableWaitMs", log.awaitDurable(session.seenSeq)))
          yield* timed(timings, "lockWaitMs", restore(lock.take(1)))
          yield* Effect.addFinalizer(() => Effect.zipRight(Effect.sync(() => session.release()), lock.release(1)))
          return session
        })
      )

    const transformRows = options.transformResultNames === undefined
      ? undefined
      : Statement.defaultTransforms(options.transformResultNames).array

    const client = yield* SqlClient.make({
      acquirer: acquire(false),
      transactionAcquirer: acquire(true),
      compiler: Statement.makeCompilerSqlite(options.transformQueryNames),
      spanAttributes: [["db.system", "sqlite"]],
      transformRows
    })

    /**
     * @effect/sql's generic `withTransaction` spends ~70 us of Effect machinery per transaction here
     * (a span, a scope extended over the acquirer, a context patch), ten times what a statement costs;
     * with one connection behind one lock none of it is needed. Same contract as the generic one:
     * BEGIN/COMMIT at the top, `SAVEPOINT effect_sql_N` when nested (no RELEASE, as upstream), a
     * rollback on failure or interruption (a failed rollback or commit is a defect), and the
     * connection under `TransactionConnection` for the statements inside. With a commit log the
     * caller returns only once the transaction is durable, after the lock is released so that the
     * transactions queued behind it can share the fsync.
     */
    const withTransaction = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (outer) => {
          if (Option.isSome(outer)) {
            const [connection, depth] = outer.value
            const savepoint = `effect_sql_${depth + 1}`
            return connection.executeUnprepared(`SAVEPOINT ${savepoint}`, [], undefined).pipe(
              Effect.zipRight(Effect.exit(restore(Effect.provideService(effect, SqlClient.TransactionConnection, [connection, depth + 1])))),
              Effect.flatMap((exit) =>
                Exit.isSuccess(exit)
                  ? exit
                  : Effect.zipRight(Effect.orDie(connection.executeUnprepared(`ROLLBACK TO SAVEPOINT ${savepoint}`, [], undefined)), exit)
              )
            )
          }
          return Effect.gen(function* () {
            const failure = log?.failure()
            if (failure !== undefined) return yield* Effect.fail(failure)
            const timings = yield* CurrentStoreTimings
            yield* timed(timings, "lockWaitMs", restore(lock.take(1)))
            const session = new Session(db, log, true, timings)
            const exit = yield* Effect.exit(
              Effect.zipRight(
                session.executeUnprepared("BEGIN", [], undefined),
                restore(Effect.provideService(effect, SqlClient.TransactionConnection, [session, 0]))
              )
            )
            const ended = yield* Effect.exit(session.executeUnprepared(Exit.isSuccess(exit) ? "COMMIT" : "ROLLBACK", [], undefined))
            session.release()
            yield* lock.release(1)
            if (log !== undefined) yield* timed(timings, "durableWaitMs", log.awaitDurable(session.seenSeq))
            if (Exit.isFailure(ended) && Exit.isSuccess(exit)) return yield* Effect.die(Cause.squash(ended.cause))
            return yield* exit
          })
        })
      )

    const exclusive = <A, E, R>(use: (db: SqljsDatabase) => Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.zipRight(refuseInsideTransaction("exclusive use of the database"), lock.withPermits(1)(Effect.suspend(() => use(db))))

    Object.assign(client, { withTransaction })

    const store: SqljsStoreService = {
      exclusive,
      export: exclusive((database) =>
        Effect.try({ try: () => database.export(), catch: (cause) => asSqlError(cause, "<export>") })
      )
    }

    // Closing waits for the lock, so a transaction in flight finishes before the database goes.
    yield* Effect.addFinalizer(() => lock.withPermits(1)(Effect.sync(() => db.close())))
    return { client, store }
  })

export interface SqljsLayerOptions extends SqljsClientOptions {
  /** An SQLite file image to start from (a snapshot); an empty database when absent. */
  readonly bytes?: Uint8Array | undefined
  /** Pragmas applied on open and after every export; `foreign_keys = ON` by default. */
  readonly pragmas?: ReadonlyArray<string> | undefined
  /** Sees every statement just before it runs (see `SqljsDatabase.observer`). */
  readonly observer?: SqljsDatabase["observer"]
}

/** Opens a sql.js database in memory: empty, or from snapshot bytes. Fails if the bytes are not SQLite. */
export const openDatabase = (bytes?: Uint8Array, pragmas: ReadonlyArray<string> = defaultPragmas): Effect.Effect<SqljsDatabase, SqlError> =>
  Effect.flatMap(loadSqlJs, (sqljs) =>
    Effect.try({ try: () => SqljsDatabase.open(sqljs, bytes, pragmas), catch: (cause) => asSqlError(cause, "<open>") })
  )

/**
 * An in-memory sql.js store: `SqlClient` plus `SqljsStore`. Nothing is written to disk; the database
 * lives as long as the layer. For the durable store see `durable-store.ts`.
 */
export const layer = (options: SqljsLayerOptions = {}): Layer.Layer<SqlClient.SqlClient | SqljsStore, SqlError> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      const db = yield* openDatabase(options.bytes, options.pragmas)
      db.observer = options.observer
      const { client, store } = yield* make(db, options)
      return Context.make(SqlClient.SqlClient, client).pipe(Context.add(SqljsStore, store))
    })
  ).pipe(Layer.provide(Reactivity.layer))
