import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { testStores } from "./testing.js"

// What core relies on from every store, checked on each one `testStores` offers (PostgreSQL only
// when ECOUPON_TEST_DATABASE_URL is set). Integers are compared through Number(): PostgreSQL returns
// BIGINT and COUNT as strings.
for (const store of testStores) {
  describe(`store contract on ${store.name}`, () => {
    const withTable = Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.as(sql`CREATE TABLE conformance (id TEXT PRIMARY KEY, n BIGINT NOT NULL)`, sql))

    it.effect("names its dialect", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        assert.strictEqual(sql.onDialectOrElse({ sqlite: () => "sqlite", pg: () => "postgres", orElse: () => "other" }), store.name === "sqljs" ? "sqlite" : "postgres")
      }).pipe(Effect.provide(store.layer)))

    it.effect("returns rows from INSERT ... RETURNING and UPDATE ... RETURNING", () =>
      Effect.gen(function* () {
        const sql = yield* withTable
        const inserted = yield* sql<{ id: string; n: unknown }>`INSERT INTO conformance ${sql.insert({ id: "a", n: 1 })} RETURNING id, n`
        assert.deepStrictEqual(inserted.map((row) => [row.id, Number(row.n)]), [["a", 1]])
        const updated = yield* sql<{ n: unknown }>`UPDATE conformance SET n = n + ${2} WHERE id = ${"a"} RETURNING n`
        assert.strictEqual(Number(updated[0]?.n), 3)
      }).pipe(Effect.provide(store.layer)))

    it.effect("commits, rolls back, and rolls a nested transaction back to its savepoint", () =>
      Effect.gen(function* () {
        const sql = yield* withTable
        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO conformance ${sql.insert({ id: "outer", n: 1 })}`
            const inner = yield* Effect.either(sql.withTransaction(Effect.zipRight(sql`INSERT INTO conformance ${sql.insert({ id: "inner", n: 2 })}`, Effect.fail("no"))))
            assert.isTrue(Either.isLeft(inner))
          })
        )
        yield* Effect.either(sql.withTransaction(Effect.zipRight(sql`INSERT INTO conformance ${sql.insert({ id: "lost", n: 3 })}`, Effect.fail("no"))))
        const ids = yield* sql<{ id: string }>`SELECT id FROM conformance ORDER BY id`
        assert.deepStrictEqual(ids.map((row) => row.id), ["outer"])
      }).pipe(Effect.provide(store.layer)))

    it.effect("keeps integers exact up to 2^53 and enforces constraints", () =>
      Effect.gen(function* () {
        const sql = yield* withTable
        yield* sql`INSERT INTO conformance ${sql.insert({ id: "big", n: Number.MAX_SAFE_INTEGER })}`
        const [row] = yield* sql<{ n: unknown }>`SELECT n FROM conformance WHERE id = ${"big"}`
        assert.strictEqual(Number(row?.n), Number.MAX_SAFE_INTEGER)
        const duplicate = yield* Effect.flip(sql`INSERT INTO conformance ${sql.insert({ id: "big", n: 1 })}`)
        assert.strictEqual(duplicate._tag, "SqlError")
      }).pipe(Effect.provide(store.layer)))
  })
}
