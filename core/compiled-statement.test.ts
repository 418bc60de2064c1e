import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { nativeTestLayer, testStores } from "../adapters/store/testing.js"
import { compileStatement } from "./compiled-statement.js"

for (const store of [...testStores, { name: "native", layer: nativeTestLayer }]) {
  describe(`compileStatement on ${store.name}`, () => {
    const setup = Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const insert = compileStatement(sql, (p) => sql`
        INSERT INTO ledger_accounts (id, kind, floor_zero, created_at_ms) VALUES (${p(0)}, 'user', ${p(1)}, ${p(2)})
        ON CONFLICT (id) DO NOTHING`)
      const select = compileStatement<{ readonly id: string; readonly floor_zero: number }>(sql, (p) => sql`
        SELECT id, floor_zero FROM ledger_accounts WHERE id IN (${p(0)}, ${p(1)}) ORDER BY id`)
      return { sql, insert, select }
    })

    for (const tracing of [false, true]) {
      // Tracing off: straight on the transaction's connection; on: through sql.unsafe, spans kept.
      it.effect(`answers rows and changed-row counts, in a transaction and outside it (tracing ${tracing ? "on" : "off"})`, () =>
        Effect.gen(function* () {
          const { sql, insert, select } = yield* setup
          const inside = yield* sql.withTransaction(Effect.all([insert.changes("user:a", 1, 5), insert.changes("user:a", 1, 6), select("user:a", "user:none")]))
          expect(inside[0]).toBe(1)
          expect(inside[1]).toBe(0)
          expect(inside[2].map((row) => [row.id, Number(row.floor_zero)])).toEqual([["user:a", 1]])
          const outside = yield* Effect.all([insert.changes("user:b", 0, 7), insert.changes("user:b", 0, 7), select("user:a", "user:b")])
          expect(outside[0]).toBe(1)
          expect(outside[1]).toBe(0)
          expect(outside[2].map((row) => row.id)).toEqual(["user:a", "user:b"])
        }).pipe(Effect.withTracerEnabled(tracing), Effect.provide(store.layer)))
    }

    it.effect("runs as part of the transaction: a rollback takes back what it wrote", () =>
      Effect.gen(function* () {
        const { sql, insert, select } = yield* setup
        const exit = yield* Effect.exit(sql.withTransaction(Effect.zipRight(insert.changes("user:c", 1, 1), Effect.fail("refused" as const))))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(yield* select("user:c", "user:c")).toEqual([])
      }).pipe(Effect.withTracerEnabled(false), Effect.provide(store.layer)))

    it.effect("refuses a bound value that is not a param: it would be frozen into every run", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        expect(() => compileStatement(sql, (p) => sql`SELECT id FROM ledger_accounts WHERE id = ${p(0)} AND kind = ${"user"}`)).toThrow(/not a param/)
      }).pipe(Effect.provide(store.layer)))
  })
}
