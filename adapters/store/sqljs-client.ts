import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient, Statement } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Exit, FiberRef, Layer, Option, Scope } from "effect"
import { asSqlError, defaultPragmas, type SqliteConnection, SqljsDatabase } from "./sqljs-database.js"
import { loadSqlJs } from "./sqljs-runtime.js"
import { type CommitLog, Session } from "./sqljs-session.js"
import { CurrentStoreTimings, type StoreTimings } from "./store-timings.js"

type Transform = <A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>

/**
 * What the sql.js store offers beyond `SqlClient`: the database as bytes, and exclusive use of the
 * raw database (for snapshots). Both wait for the lock, so they never see half a transaction; calling
 * either from inside `sql.withTransaction` would wait on its own lock, and is refused instead.
 */
export interface SqljsStoreService<D extends SqliteConnection = SqljsDatabase> {
  /** The database as an SQLite file image (pragmas are re-applied afterwards). */
  readonly export: Effect.Effect<Uint8Array, SqlError>
  /** Runs `use` holding the lock: no statement or transaction runs meanwhile. */
  readonly exclusive: <A, E, R>(use: (db: D) => Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
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

/**
 * Whether nobody holds `lock` or waits for it. Effect's `Semaphore` does not say so without an effect
 * of its own; its implementation (effect 3) keeps `taken` and a `waiters` set, read here. Should they
 * ever be missing, the answer is "not idle" and every statement takes the lock as before.
 */
export const lockIdle = (lock: Effect.Semaphore): boolean => {
  const inside = lock as unknown as { readonly taken?: unknown; readonly waiters?: unknown }
  return inside.taken === 0 && inside.waiters instanceof Set && inside.waiters.size === 0
}

/** `effect`, its wall time added to `timings[field]` when there is an account. */
const timed = <A, E, R>(timings: StoreTimings | undefined, field: "lockWaitMs" | "durableWaitMs", effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  if (timings === undefined) return effect
  return Effect.suspend(() => {
    const startedMs = performance.now()
    return Effect.ensuring(effect, Effect.sync(() => void (timings[field] += performance.now() - startedMs)))
  })
}

/**
 * A `SqlClient` over one sql.js database (or any synchronous `SqliteConnection`: the simulator's
 * native store, `native-database.ts`, runs through this same client). One connection, so one lock (a semaphore of
 * one permit) serialises everything: a transaction holds it from BEGIN to COMMIT/ROLLBACK, a statement
 * outside a transaction holds it for that statement. Nested `withTransaction` uses SAVEPOINTs, as
 * @effect/sql does on every dialect.
 *
 * With a commit log, a holder returns only once everything it could have read is durable: after the
 * lock is released (so that later transactions can share the same fsync) it waits for the log.
 */
export const make = <D extends SqliteConnection = SqljsDatabase>(
  db: D,
  options: SqljsClientOptions = {}
): Effect.Effect<
  { readonly client: SqlClient.SqlClient; readonly store: SqljsStoreService<D> },
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
     * `effect` with `connection` as the open transaction: the fiber's context swapped and swapped back
     * on exit, which is what `Effect.provideService` does in ~25 steps of the run loop. Called inside
     * `withTransaction`'s uninterruptible region, so the swap back is always registered.
     */
    const withConnection = <A, E, R>(effect: Effect.Effect<A, E, R>, connection: readonly [Connection, number]): Effect.Effect<A, E, R> =>
      Effect.withFiberRuntime((fiber) => {
        const outer = fiber.currentContext
        return Effect.zipRight(
          FiberRef.set(FiberRef.currentContext, Context.add(outer, SqlClient.TransactionConnection, connection)),
          Effect.onExit(effect, () => FiberRef.set(FiberRef.currentContext, outer))
        )
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
              Effect.zipRight(Effect.exit(withConnection(restore(effect), [connection, depth + 1]))),
              Effect.flatMap((exit) =>
                Exit.isSuccess(exit)
                  ? exit
                  : Effect.zipRight(Effect.orDie(connection.executeUnprepared(`ROLLBACK TO SAVEPOINT ${savepoint}`, [], undefined)), exit)
              )
            )
          }
          // flatMap over synchronous BEGIN/COMMIT rather than Effect.gen and an Effect.exit per control
          // statement: every transaction pays this, and the ledger's one-transfer transactions are
          // short enough for it to show.
          const failure = log?.failure()
          if (failure !== undefined) return Effect.fail(failure)
          return Effect.flatMap(CurrentStoreTimings, (timings) =>
            Effect.flatMap(timed(timings, "lockWaitMs", restore(lock.take(1))), () => {
              const session = new Session(db, log, true, timings)
              const begun = session.control("BEGIN")
              const body: Effect.Effect<Exit.Exit<A, E | SqlError>, never, R> = begun === undefined
                ? Effect.exit(withConnection(restore(effect), [session, 0]))
                : Effect.succeed(Exit.fail(begun))
              return Effect.flatMap(body, (exit) => {
                const ended = session.control(Exit.isSuccess(exit) ? "COMMIT" : "ROLLBACK")
                session.release()
                // A failed COMMIT is a defect; a failed ROLLBACK after a failure leaves that failure.
                const result: Effect.Effect<A, E | SqlError> = ended !== undefined && Exit.isSuccess(exit) ? Effect.die(ended) : exit
                return log === undefined
                  ? Effect.zipRight(lock.release(1), result)
                  : Effect.zipRight(lock.release(1), Effect.zipRight(timed(timings, "durableWaitMs", log.awaitDurable(session.seenSeq)), result))
              })
            })
          )
        })
      )

    const exclusive = <A, E, R>(use: (db: D) => Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.zipRight(refuseInsideTransaction("exclusive use of the database"), lock.withPermits(1)(Effect.suspend(() => use(db))))

    /**
     * A statement run as an Effect (`yield* sql\`...\``) the short way. @effect/sql's own path builds
     * a span (a no-op one when tracing is off), opens and closes a scope around the connection, and
     * looks the transaction up again: ~60 steps of the fiber's run loop per statement inside a
     * transaction, ~110 outside (the lock taken through the scope's finalizers), for one synchronous
     * call into sql.js. With tracing off and no statement transformer installed nothing of that is
     * observable, so the statement runs on the transaction's connection directly, or under the lock
     * on a session of its own (the same session, lock, timings and durability wait as `acquire`).
     * Otherwise, and for `.raw`, `.values`, `.stream` and the like, @effect/sql's path runs as before.
     */
    const autocommit = (sql: string, params: ReadonlyArray<unknown>, transformRows: Transform | undefined, timings: StoreTimings | undefined) =>
      log === undefined && lockIdle(lock) ? autocommitAlone(sql, params, transformRows, timings) : Effect.uninterruptibleMask((restore) => {
        const failure = log?.failure()
        if (failure !== undefined) return Effect.fail(failure)
        const session = new Session(db, log, false, timings)
        const released = Effect.zipRight(Effect.sync(() => session.release()), lock.release(1))
        const run = Effect.zipRight(
          timed(timings, "lockWaitMs", restore(lock.take(1))),
          Effect.onExit(session.execute(sql, params, transformRows), () => released)
        )
        return log === undefined ? run : Effect.onExit(run, () => timed(timings, "durableWaitMs", log.awaitDurable(session.seenSeq)))
      })
    /**
     * The statement when nobody holds the lock or waits for it and there is no commit log: it runs
     * synchronously, so no other fiber could take the lock before it is given back, and giving it back
     * would wake nobody. Taking and releasing the lock (~20 run-loop steps, and an interruptible wait
     * that cannot wait) changes nothing then, so it is left out.
     */
    const autocommitAlone = (sql: string, params: ReadonlyArray<unknown>, transformRows: Transform | undefined, timings: StoreTimings | undefined) =>
      Effect.suspend(() => {
        const session = new Session(db, undefined, false, timings)
        const result = session.execute(sql, params, transformRows)
        session.release()
        return result
      })
    function commitShort(this: Statement.Statement<unknown>): Effect.Effect<ReadonlyArray<unknown>, SqlError> {
      return Effect.withFiberRuntime((fiber) => {
        if (fiber.getFiberRef(FiberRef.currentTracerEnabled) || Option.isSome(fiber.getFiberRef(Statement.currentTransformer))) {
          return commitGeneric.call(this)
        }
        const [text, params] = this.compile()
        const transformRows = (this as unknown as { readonly transformRows: Transform | undefined }).transformRows
        const transaction = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
        if (Option.isSome(transaction)) return transaction.value[0].execute(text, params, transformRows)
        return autocommit(text, params, transformRows, Context.get(fiber.currentContext, CurrentStoreTimings))
      })
    }
    const short = <A>(statement: A): A => {
      if (Statement.isFragment(statement) && "commit" in statement) (statement as { commit: unknown }).commit = commitShort
      return statement
    }
    const generic = client
    const commitGeneric = (Object.getPrototypeOf(generic`SELECT 1`) as { readonly commit: (this: Statement.Statement<unknown>) => Effect.Effect<ReadonlyArray<unknown>, SqlError> }).commit
    const sql = Object.assign(
      function sql(strings: unknown, ...args: Array<unknown>) {
        return short((generic as unknown as (strings: unknown, ...args: Array<unknown>) => unknown)(strings, ...args))
      },
      generic,
      {
        unsafe: <A extends object>(text: string, params?: ReadonlyArray<unknown>) => short(generic.unsafe<A>(text, params)),
        withTransaction
      }
    ) as unknown as SqlClient.SqlClient
    Object.assign(sql, { safe: sql })

    const store: SqljsStoreService<D> = {
      exclusive,
      export: exclusive((database) =>
        Effect.try({ try: () => database.export(), catch: (cause) => asSqlError(cause, "<export>") })
      )
    }

    // Closing waits for the lock, so a transaction in flight finishes before the database goes.
    yield* Effect.addFinalizer(() => lock.withPermits(1)(Effect.sync(() => db.close())))
    return { client: sql, store }
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
