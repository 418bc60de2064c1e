import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runMigrations } from "../store/migrate.js"
import * as SqljsClient from "../store/sqljs-client.js"
import { auditDatabase } from "./audit-command.js"

/** A migrated sql.js database exported to a file, after `tamper` ran on it. */
const databaseFile = (tamper: Effect.Effect<void, unknown, SqlClient.SqlClient>) =>
  Effect.gen(function* () {
    yield* runMigrations()
    yield* tamper
    const bytes = yield* Effect.flatMap(SqljsClient.SqljsStore, (store) => store.export)
    const path = join(mkdtempSync(join(tmpdir(), "ecoupon-audit-")), "db.sqlite")
    writeFileSync(path, bytes)
    return path
  }).pipe(Effect.provide(Layer.fresh(SqljsClient.layer())), Effect.orDie)

describe("ecoupon audit", () => {
  it("finds a fresh database clean", async () => {
    const path = await Effect.runPromise(databaseFile(Effect.void))
    const { where, report } = await Effect.runPromise(auditDatabase(Option.some(path)))
    expect(where).toContain(path)
    expect(report.ok).toBe(true)
  })

  it("names the violation when a balance was edited behind the ledger's back", async () => {
    const tamper = Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql`INSERT INTO ledger_accounts (id, kind, floor_zero, credits_posted, created_at_ms) VALUES ('user:usr_x', 'user', 1, 500, 0)`
    )
    const path = await Effect.runPromise(databaseFile(tamper))
    const { report } = await Effect.runPromise(auditDatabase(Option.some(path)))
    expect(report.ok).toBe(false)
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name)
    expect(failed).toContain("every account's balance equals the sum of its transfers")
    expect(failed).toContain("total debits equal total credits, posted and pending")
    expect(report.checks.flatMap((c) => c.violations).join("\n")).toContain("user:usr_x")
  })

  it("names a card that was never dispensed and a returned card that was charged", async () => {
    const tamper = Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.all([
        sql`INSERT INTO institutions (id, name, created_at_ms) VALUES ('ins_a', 'A', 0)`,
        sql`INSERT INTO regions (id, name, institution_id, created_at_ms) VALUES ('reg_a', 'A', 'ins_a', 0)`,
        sql`INSERT INTO kiosks (id, region_id, name, bin_capacity, created_at_ms) VALUES ('ksk_a', 'reg_a', 'A', 10, 0)`,
        sql`INSERT INTO users (id, phone, registered_at_ms) VALUES ('usr_a', '+821000000001', 0)`,
        sql`INSERT INTO merchants (id, name, status, created_at_ms, updated_at_ms) VALUES ('mer_a', 'A', 'registered', 0, 0)`,
        sql`INSERT INTO offers (id, merchant_id, title, price_points, stock, valid_from_ms, valid_until_ms, coupon_validity_ms, status, version, updated_at_ms)
            VALUES ('off_a', 'mer_a', 'A', 100, 1, 0, 1, 1, 'active', 1, 0)`,
        sql`INSERT INTO orders (id, kiosk_id, user_id, merchant_id, offer_id, quantity, unit_price_points, amount, catalog_version, medium, state, request_key, placed_at_ms)
            VALUES ('ord_a', 'ksk_a', 'usr_a', 'mer_a', 'off_a', 1, 100, 100, 1, 'card', 'delivered', 'k', 0)`,
        sql`INSERT INTO cards (uid, state, kiosk_id, order_id, user_id, deposit_points, charge_state, dispensed_at_ms, updated_at_ms)
            VALUES ('04A1B2C3D4E5F6', 'returned', 'ksk_a', 'ord_a', 'usr_a', 3000, 'confirmed', 0, 0)`,
        sql`INSERT INTO ledger_transfers (id, debit_account, credit_account, amount, flag, state, code, ref, created_at_ms)
            VALUES ('deposit:04A1B2C3D4E5F6', 'carrier:billing', 'deposits:carrier', 3000, 'posted', 'posted', 'deposit', '04A1B2C3D4E5F6', 0)`
      ])
    )
    const path = await Effect.runPromise(databaseFile(tamper))
    const { report } = await Effect.runPromise(auditDatabase(Option.some(path)))
    const violations = (invariant: number) => report.checks.filter((c) => c.invariant === invariant).flatMap((c) => c.violations).join("\n")
    expect(violations(5)).toContain("card 04A1B2C3D4E5F6 is returned")
    expect(violations(5)).toContain("0 dispenses")
    expect(violations(9)).toContain("card 04A1B2C3D4E5F6 is returned (charge confirmed) with 1 deposit transfers")
  })

  it("refuses a file that is not a database, saying which", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "ecoupon-audit-")), "notes.txt")
    writeFileSync(path, "not sqlite at all, just some text that is long enough to not be a header")
    const result = await Effect.runPromise(Effect.either(auditDatabase(Option.some(path))))
    expect(result._tag === "Left" && result.left.message).toContain(path)
  })
})
