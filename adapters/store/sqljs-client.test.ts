import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Fiber, Layer } from "effect"
import * as SqljsClient from "./sqljs-client.js"
import { SqljsStore } from "./sqljs-client.js"
import type { CommitLog, LoggedStatement } from "./sqljs-session.js"
import { isWrite } from "./sqljs-session.js"
import { Reactivity } from "@effect/experimental"

const memory = SqljsClient.layer()

const withTable = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INTEGER NOT NULL DEFAULT 0)`
  return sql
})

describe("sql.js SqlClient", () => {
  it.effect("creates, reads, updates and deletes rows keyed by column name", () =>
    Effect.gen(function* () {
      const sql = yield* withTable
      yield* sql`INSERT INTO items ${sql.insert([{ name: "tea", qty: 2 }, { name: "rice", qty: 5 }])}`
      assert.deepStrictEqual(yield* sql`SELECT id, name, qty FROM items ORDER BY id`, [
        { id: 1, name: "tea", qty: 2 },
        { id: 2, name: "rice", qty: 5 }
      ])
      yield* sql`UPDATE items SET qty = qty + ${3} WHERE name = ${"tea"}`
      yield* sql`DELETE FROM items WHERE name = ${"rice"}`
      assert.deepStrictEqual(yield* sql`SELECT name, qty FROM items`, [{ name: "tea", qty: 5 }])
      assert.deepStrictEqual(yield* sql`SELECT name, qty FROM items`.values, [["tea", 5]])
    }).pipe(Effect.provide(memory)))

  it.effect("binds every parameter type and reads them back", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE v (k TEXT, i INTEGER, r REAL, t TEXT, b BLOB, x)`
      const bytes = new Uint8Array([0, 1, 254, 255])
      const rows: ReadonlyArray<readonly [string, unknown]> = [
        ["int", 42],
        ["neg", -7],
        ["float", 1.5],
        ["big-safe", 9_007_199_254_740_991n],
        ["big-wide", 9_223_372_036_854_775_807n],
        ["true", true],
        ["false", false],
        ["null", null],
        ["string", "héllo '; DROP TABLE v; --"],
        ["blob", bytes],
        ["date", new Date(1_700_000_000_123)]
      ]
      for (const [k, value] of rows) yield* sql`INSERT INTO v (k, i, x) VALUES (${k}, ${typeof value === "number" && !Number.isInteger(value) ? null : value instanceof Uint8Array || typeof value === "string" ? null : value}, ${value})`
      const read = new Map((yield* sql<{ k: string; i: unknown; x: unknown }>`SELECT k, i, x FROM v`).map((row) => [row.k, row]))
      assert.strictEqual(read.get("int")?.i, 42)
      assert.strictEqual(read.get("neg")?.i, -7)
      assert.strictEqual(read.get("float")?.x, 1.5)
      assert.strictEqual(read.get("big-safe")?.i, 9_007_199_254_740_991)
      assert.strictEqual(read.get("big-wide")?.i, 9_223_372_036_854_775_807n)
      assert.strictEqual(read.get("true")?.i, 1)
      assert.strictEqual(read.get("false")?.i, 0)
      assert.strictEqual(read.get("null")?.x, null)
      assert.strictEqual(read.get("string")?.x, "héllo '; DROP TABLE v; --")
      assert.deepStrictEqual(read.get("blob")?.x, bytes)
      assert.strictEqual(read.get("date")?.i, 1_700_000_000_123)
      // A wide bigint is exact through arithmetic too, not rounded through a double.
      const [sum] = yield* sql<{ s: unknown }>`SELECT i - 1 AS s FROM v WHERE k = ${"big-wide"}`
      assert.strictEqual(sum?.s, 9_223_372_036_854_775_806n)
    }).pipe(Effect.provide(memory)))

  it.effect("refuses parameters it cannot store, naming the SQL", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const error = yield* Effect.flip(sql`SELECT ${sql.literal("?")}`.unprepared.pipe(Effect.zipRight(sql.unsafe("SELECT ?", [{ a: 1 }]))))
      assert.instanceOf(error, SqlError)
      assert.include(error.message, "SELECT ?")
      assert.include(error.message, "cannot bind")
    }).pipe(Effect.provide(memory)))

  it.effect("returns rows from RETURNING", () =>
    Effect.gen(function* () {
      const sql = yield* withTable
      const inserted = yield* sql`INSERT INTO items ${sql.insert({ name: "salt", qty: 1 })} RETURNING id, name`
      assert.deepStrictEqual(inserted, [{ id: 1, name: "salt" }])
      const updated = yield* sql`UPDATE items SET qty = 9 WHERE id = ${1} RETURNING qty`
      assert.deepStrictEqual(updated, [{ qty: 9 }])
      const viaHelper = yield* sql`INSERT INTO items ${sql.insert({ name: "oil" }).returning("*")}`
      assert.deepStrictEqual(viaHelper, [{ id: 2, name: "oil", qty: 0 }])
    }).pipe(Effect.provide(memory)))

  it.effect("picks the sqlite dialect", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const dialect = sql.onDialectOrElse({ sqlite: () => "sqlite", orElse: () => "other" })
      assert.strictEqual(dialect, "sqlite")
    }).pipe(Effect.provide(memory)))

  it.effect("commits a transaction and rolls back a failed one", () =>
    Effect.gen(function* () {
      const sql = yield* withTable
      yield* sql.withTransaction(sql`INSERT INTO items ${sql.insert({ name: "kept" })}`)
      const failed = yield* Effect.exit(
        sql.withTransaction(Effect.zipRight(sql`INSERT INTO items ${sql.insert({ name: "lost" })}`, Effect.fail("boom")))
      )
      assert.isTrue(Exit.isFailure(failed))
      assert.deepStrictEqual(yield* sql`SELECT name FROM items`, [{ name: "kept" }])
    }).pipe(Effect.provide(memory)))

  it.effect("rolls back a nested transaction to its savepoint only", () =>
    Effect.gen(function* () {
      const sql = yield* withTable
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`INSERT INTO items ${sql.insert({ name: "outer" })}`
          const inner = yield* Effect.either(
            sql.withTransaction(Effect.zipRight(sql`INSERT INTO items ${sql.insert({ name: "inner" })}`, Effect.fail("inner fails")))
          )
          assert.isTrue(Either.isLeft(inner))
          yield* sql.withTransaction(sql`INSERT INTO items ${sql.insert({ name: "second inner" })}`)
        })
      )
      assert.deepStrictEqual(yield* sql`SELECT name FROM items ORDER BY id`, [{ name: "outer" }, { name: "second inner" }])
    }).pipe(Effect.provide(memory)))

  it.live("rolls back an interrupted transaction and frees the lock for the next one", () =>
    Effect.gen(function* () {
      const sql = yield* withTable
      const entered = yield* Effect.makeLatch(false)
      const fiber = yield* Effect.fork(
        sql.withTransaction(Effect.zipRight(sql`INSERT INTO items ${sql.insert({ name: "interrupted" })}`, Effect.zipRight(entered.open, Effect.never)))
      )
      yield* entered.await
      yield* Fiber.interrupt(fiber)
      yield* sql.withTransaction(sql`INSERT INTO items ${sql.insert({ name: "next" })}`).pipe(Effect.timeout("2 seconds"))
      assert.deepStrictEqual(yield* sql`SELECT name FROM items`, [{ name: "next" }])
    }).pipe(Effect.provide(memory)))

  it.effect("rolls back a transaction that dies, and the defect reaches the caller", () =>
    Effect.gen(function* () {
      const sql = yield* withTable
      const exit = yield* Effect.exit(sql.withTransaction(Effect.zipRight(sql`INSERT INTO items ${sql.insert({ name: "doomed" })}`, Effect.dieMessage("bug"))))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      assert.deepStrictEqual(yield* sql`SELECT name FROM items`, [])
      yield* sql.withTransaction(sql`INSERT INTO items ${sql.insert({ name: "after" })}`)
      assert.deepStrictEqual(yield* sql`SELECT name FROM items`, [{ name: "after" }])
    }).pipe(Effect.provide(memory)))

  it.effect("serialises 100 concurrent read-modify-write transactions", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE counter (n INTEGER NOT NULL)`
      yield* sql`INSERT INTO counter VALUES (0)`
      const increment = sql.withTransaction(
        Effect.gen(function* () {
          const [row] = yield* sql<{ n: number }>`SELECT n FROM counter`
          // Yield between read and write: without the lock another transaction would interleave here.
          yield* Effect.yieldNow()
          yield* sql`UPDATE counter SET n = ${(row?.n ?? 0) + 1}`
        })
      )
      yield* Effect.all(Array.from({ length: 100 }, () => increment), { concurrency: "unbounded" })
      assert.deepStrictEqual(yield* sql`SELECT n FROM counter`, [{ n: 100 }])
    }).pipe(Effect.provide(memory)))

  it.live("keeps a statement outside a transaction out of it", () =>
    Effect.gen(function* () {
      const sql = yield* withTable
      const slowFailing = sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`INSERT INTO items ${sql.insert({ name: "in tx" })}`
          yield* Effect.sleep("20 millis")
          return yield* Effect.fail("rollback")
        })
      )
      const fiber = yield* Effect.fork(Effect.either(slowFailing))
      yield* Effect.sleep("5 millis")
      yield* sql`INSERT INTO items ${sql.insert({ name: "outside" })}`
      yield* fiber.await
      assert.deepStrictEqual(yield* sql`SELECT name FROM items`, [{ name: "outside" }])
    }).pipe(Effect.provide(memory)))

  it.effect("tells an idle lock from a held or awaited one (a statement alone skips the lock only when idle)", () =>
    Effect.gen(function* () {
      const lock = yield* Effect.makeSemaphore(1)
      assert.isTrue(SqljsClient.lockIdle(lock))
      const holder = yield* Effect.fork(lock.withPermits(1)(Effect.never))
      yield* Effect.yieldNow()
      assert.isFalse(SqljsClient.lockIdle(lock))
      const waiter = yield* Effect.fork(lock.withPermits(1)(Effect.void))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(holder)
      yield* Fiber.join(waiter)
      assert.isTrue(SqljsClient.lockIdle(lock))
      const waiting = yield* Effect.fork(Effect.zipRight(lock.take(1), lock.withPermits(1)(Effect.void)))
      yield* Effect.yieldNow()
      assert.isFalse(SqljsClient.lockIdle(lock), "a fiber waits for it")
      yield* Fiber.interrupt(waiting)
      yield* lock.release(1)
      assert.isTrue(SqljsClient.lockIdle(lock))
    }))

  it.effect("exports bytes that reopen as the same database, with pragmas re-applied", () =>
    Effect.gen(function* () {
      const bytes = yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE parent (id INTEGER PRIMARY KEY)`
        yield* sql`CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent (id))`
        yield* sql`INSERT INTO parent VALUES (1)`
        yield* sql`INSERT INTO child VALUES (10, 1)`
        const exported = yield* (yield* SqljsStore).export
        // sql.js reopens its connection on export; foreign keys must still be enforced after it.
        assert.deepStrictEqual(yield* sql`PRAGMA foreign_keys`, [{ foreign_keys: 1 }])
        const orphan = yield* Effect.flip(sql`INSERT INTO child VALUES (11, 99)`)
        assert.include(orphan.message, "FOREIGN KEY")
        // Prepared statements were freed by the export; the cache must not hand out dead ones.
        assert.deepStrictEqual(yield* sql`SELECT id FROM child`, [{ id: 10 }])
        return exported
      }).pipe(Effect.provide(memory))
      const reloaded = yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        assert.deepStrictEqual(yield* sql`PRAGMA foreign_keys`, [{ foreign_keys: 1 }])
        return yield* sql`SELECT c.id, p.id AS parent FROM child c JOIN parent p ON p.id = c.parent`
      }).pipe(Effect.provide(SqljsClient.layer({ bytes })))
      assert.deepStrictEqual(reloaded, [{ id: 10, parent: 1 }])
    }))

  it.effect("reopens on an image in place: the same client sees only the image, pragmas and statements work, bad bytes leave the database as it was", () =>
    Effect.gen(function* () {
      const sql = yield* withTable
      yield* sql`CREATE TABLE parent (id INTEGER PRIMARY KEY)`
      yield* sql`CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent (id))`
      yield* sql`INSERT INTO items ${sql.insert({ name: "tea", qty: 1 })}`
      const store = yield* SqljsStore
      const image = yield* store.export
      yield* sql`INSERT INTO items ${sql.insert({ name: "later", qty: 2 })}`
      yield* sql`UPDATE items SET qty = 9 WHERE name = ${"tea"}`
      const seen: Array<string> = []
      yield* store.exclusive((db) =>
        Effect.sync(() => {
          db.reopen(image)
          db.observer = (text) => void seen.push(text)
        })
      )
      // The statement text was prepared on the old database: the cache must not hand it out again.
      assert.deepStrictEqual(yield* sql`SELECT name, qty FROM items ORDER BY id`, [{ name: "tea", qty: 1 }])
      assert.deepStrictEqual(seen, ["SELECT name, qty FROM items ORDER BY id"])
      assert.deepStrictEqual(yield* sql`PRAGMA foreign_keys`, [{ foreign_keys: 1 }])
      assert.include((yield* Effect.flip(sql`INSERT INTO child VALUES (1, 99)`)).message, "FOREIGN KEY")
      yield* sql`INSERT INTO items ${sql.insert({ name: "after", qty: 3 })}`
      const refused = yield* Effect.exit(store.exclusive((db) => Effect.sync(() => db.reopen(new TextEncoder().encode("not a database at all, certainly not")))))
      assert.isTrue(Exit.isFailure(refused))
      assert.deepStrictEqual(yield* sql`SELECT name FROM items ORDER BY id`, [{ name: "tea" }, { name: "after" }])
    }).pipe(Effect.provide(memory)))

  it.effect("maps SQLite errors to SqlError with the SQL in the message", () =>
    Effect.gen(function* () {
      const sql = yield* withTable
      const syntax = yield* Effect.flip(sql`SELEKT 1`)
      assert.instanceOf(syntax, SqlError)
      assert.include(syntax.message, "SELEKT 1")
      yield* sql`INSERT INTO items ${sql.insert({ name: "a" })}`
      const unique = yield* Effect.flip(sql`INSERT INTO items ${sql.insert({ name: "a" })}`)
      assert.include(unique.message, "UNIQUE constraint failed")
      assert.include(unique.message, "INSERT INTO")
      // A failed statement inside a transaction leaves the transaction usable and the store unlocked.
      yield* sql.withTransaction(Effect.ignore(sql`INSERT INTO items ${sql.insert({ name: "a" })}`))
      assert.deepStrictEqual(yield* sql`SELECT count(*) AS n FROM items`, [{ n: 1 }])
    }).pipe(Effect.provide(memory)))

  it.effect("refuses bytes that are not a database", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Layer.build(SqljsClient.layer({ bytes: new TextEncoder().encode("not a database at all, certainly not") })).pipe(Effect.scoped))
      assert.instanceOf(error, SqlError)
    }))

  it.effect("refuses data changes that would replay differently, and allows them in reads and DDL", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE t (n INTEGER, at TEXT DEFAULT CURRENT_TIMESTAMP)`
      for (const statement of ["INSERT INTO t (n) VALUES (random())", "UPDATE t SET at = datetime('now')", "INSERT INTO t (n, at) VALUES (1, CURRENT_TIMESTAMP)"]) {
        const error = yield* Effect.flip(sql.unsafe(statement))
        assert.include(error.message, "pass it as a parameter")
        assert.include(error.message, statement)
      }
      yield* sql`SELECT random(), datetime('now')`
      yield* sql`INSERT INTO t (n, at) VALUES (${1}, ${"2026-01-01"})`
    }).pipe(Effect.provide(memory)))

  it.effect("refuses transaction control outside withTransaction", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const error = yield* Effect.flip(sql`BEGIN`)
      assert.include(error.message, "use sql.withTransaction")
    }).pipe(Effect.provide(memory)))
})

describe("commit log feed", () => {
  const recording = () => {
    const records: Array<ReadonlyArray<LoggedStatement>> = []
    let prepared: ReadonlyArray<LoggedStatement> = []
    const log: CommitLog = {
      prepare: (statements) => {
        prepared = statements.slice()
        return new Uint8Array()
      },
      append: () => void records.push(prepared),
      appendedSeq: () => records.length,
      awaitDurable: () => Effect.void,
      failure: () => undefined
    }
    const layer = Layer.scopedContext(
      Effect.gen(function* () {
        const db = yield* SqljsClient.openDatabase()
        const { client } = yield* SqljsClient.make(db, { commitLog: log })
        return SqlClient.SqlClient.context(client)
      })
    ).pipe(Layer.provide(Reactivity.layer))
    return { records, layer }
  }

  it.effect("hands over each committed write transaction net of rolled-back savepoints, and no reads", () => {
    const { layer, records } = recording()
    return Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE t (n INTEGER)`
      yield* sql`SELECT * FROM t`
      yield* sql.withTransaction(sql`SELECT * FROM t`)
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`INSERT INTO t VALUES (${1})`
          yield* Effect.ignore(sql.withTransaction(Effect.zipRight(sql`INSERT INTO t VALUES (${2})`, Effect.fail("no"))))
          yield* sql`SELECT n FROM t`
          yield* sql`INSERT INTO t VALUES (${3})`
        })
      )
      yield* Effect.ignore(sql.withTransaction(Effect.zipRight(sql`INSERT INTO t VALUES (${4})`, Effect.fail("no"))))
      assert.deepStrictEqual(records, [
        [{ sql: "CREATE TABLE t (n INTEGER)", params: [] }],
        [{ sql: "INSERT INTO t VALUES (?)", params: [1] }, { sql: "INSERT INTO t VALUES (?)", params: [3] }]
      ])
    }).pipe(Effect.provide(layer))
  })

  it("classifies statements as reads or writes", () => {
    for (const read of ["SELECT 1", "  select * from t", "(SELECT 1)", "/* c */ SELECT 1", "PRAGMA foreign_keys", "WITH a AS (SELECT 1) SELECT * FROM a"]) {
      assert.isFalse(isWrite(read), read)
    }
    for (const write of ["INSERT INTO t VALUES (1)", "update t set n = 1", "DELETE FROM t", "CREATE TABLE x (a)", "PRAGMA user_version = 2", "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", "REPLACE INTO t VALUES (1)"]) {
      assert.isTrue(isWrite(write), write)
    }
  })
})
