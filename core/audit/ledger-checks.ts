import type { Check } from "./check.js"
import { v } from "./check.js"

/**
 * Invariants 1 and 2 (DESIGN §5): the ledger balances, floors hold, balances derive from transfers,
 * and every granted point is somewhere it should be.
 */
export const ledgerChecks: ReadonlyArray<Check> = [
  {
    invariant: 1,
    name: "total debits equal total credits, posted and pending",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM ledger_accounts`,
    violations: (sql) => sql`
      SELECT * FROM (
        SELECT SUM(debits_posted) AS dp, SUM(credits_posted) AS cp, SUM(debits_pending) AS dpe, SUM(credits_pending) AS cpe
        FROM ledger_accounts
      ) totals
      WHERE dp <> cp OR dpe <> cpe`,
    describe: (r) => `posted debits ${v(r, "dp")} vs credits ${v(r, "cp")}; pending debits ${v(r, "dpe")} vs credits ${v(r, "cpe")}`
  },
  {
    invariant: 1,
    name: "every account's balance equals the sum of its transfers",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM ledger_accounts`,
    violations: (sql) => sql`
      SELECT a.id, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,
        COALESCE(d.posted, 0) AS d_posted, COALESCE(d.pending, 0) AS d_pending,
        COALESCE(c.posted, 0) AS c_posted, COALESCE(c.pending, 0) AS c_pending
      FROM ledger_accounts a
      LEFT JOIN (
        SELECT debit_account AS account,
          SUM(CASE WHEN flag IN ('posted', 'post_pending') THEN amount ELSE 0 END) AS posted,
          SUM(CASE WHEN flag = 'pending' AND state = 'pending' THEN amount ELSE 0 END) AS pending
        FROM ledger_transfers GROUP BY debit_account
      ) d ON d.account = a.id
      LEFT JOIN (
        SELECT credit_account AS account,
          SUM(CASE WHEN flag IN ('posted', 'post_pending') THEN amount ELSE 0 END) AS posted,
          SUM(CASE WHEN flag = 'pending' AND state = 'pending' THEN amount ELSE 0 END) AS pending
        FROM ledger_transfers GROUP BY credit_account
      ) c ON c.account = a.id
      WHERE a.debits_posted <> COALESCE(d.posted, 0) OR a.credits_posted <> COALESCE(c.posted, 0)
         OR a.debits_pending <> COALESCE(d.pending, 0) OR a.credits_pending <> COALESCE(c.pending, 0)
      ORDER BY a.id`,
    describe: (r) =>
      `${v(r, "id")}: stored debits ${v(r, "debits_posted")}/${v(r, "debits_pending")} credits ${v(r, "credits_posted")}/${v(r, "credits_pending")} (posted/pending), transfers say ${v(r, "d_posted")}/${v(r, "d_pending")} and ${v(r, "c_posted")}/${v(r, "c_pending")}`
  },
  {
    invariant: 1,
    name: "no floored account below zero (pending debits counted)",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM ledger_accounts WHERE floor_zero = 1`,
    violations: (sql) => sql`
      SELECT id, credits_posted - debits_posted - debits_pending AS available
      FROM ledger_accounts
      WHERE floor_zero = 1 AND credits_posted - debits_posted - debits_pending < 0
      ORDER BY id`,
    describe: (r) => `${v(r, "id")} is at ${v(r, "available")}`
  },
  {
    invariant: 2,
    name: "granted points = users + coupons + merchant payable + paid + institutions",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM ledger_accounts`,
    violations: (sql) => sql`
      SELECT g.granted, h.held, i.issuer
      FROM (SELECT COALESCE(SUM(amount), 0) AS granted FROM ledger_transfers WHERE code = 'grant' AND flag = 'posted') g,
           (SELECT COALESCE(SUM(credits_posted - debits_posted), 0) AS held FROM ledger_accounts
              WHERE kind IN ('user', 'coupon', 'merchant_payable', 'merchant_paid', 'institution')) h,
           (SELECT debits_posted - credits_posted AS issuer FROM ledger_accounts WHERE id = 'issuer') i
      WHERE g.granted <> h.held OR g.granted <> i.issuer`,
    describe: (r) => `granted ${v(r, "granted")}, held ${v(r, "held")}, issued from the issuer account ${v(r, "issuer")}`
  },
  {
    invariant: 2,
    name: "only grants touch the issuer; only deposits and their refunds touch deposit accounts",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM ledger_transfers`,
    violations: (sql) => sql`
      SELECT id, code, debit_account, credit_account FROM ledger_transfers
      WHERE ((debit_account = 'issuer' OR credit_account = 'issuer') AND code <> 'grant')
         OR ((debit_account IN ('deposits:carrier', 'carrier:billing') OR credit_account IN ('deposits:carrier', 'carrier:billing'))
             AND code NOT IN ('deposit', 'deposit_refund'))
         OR (code IN ('deposit', 'deposit_refund')
             AND NOT (debit_account IN ('deposits:carrier', 'carrier:billing') AND credit_account IN ('deposits:carrier', 'carrier:billing')))
      ORDER BY id`,
    describe: (r) => `transfer ${v(r, "id")} (${v(r, "code")}) moves ${v(r, "debit_account")} -> ${v(r, "credit_account")}`
  },
  {
    invariant: 3,
    name: "every pending transfer is resolved at most once, and its state says how",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM ledger_transfers WHERE flag = 'pending'`,
    violations: (sql) => sql`
      SELECT p.id, p.state, COUNT(r.id) AS resolutions,
        SUM(CASE WHEN r.flag = 'post_pending' THEN 1 ELSE 0 END) AS posts,
        SUM(CASE WHEN r.amount <> p.amount OR r.debit_account <> p.debit_account OR r.credit_account <> p.credit_account THEN 1 ELSE 0 END) AS mismatched
      FROM ledger_transfers p
      LEFT JOIN ledger_transfers r ON r.pending_id = p.id
      WHERE p.flag = 'pending'
      GROUP BY p.id, p.state
      HAVING COUNT(r.id) > 1
          OR (p.state = 'pending' AND COUNT(r.id) <> 0)
          OR (p.state = 'posted' AND (COUNT(r.id) <> 1 OR SUM(CASE WHEN r.flag = 'post_pending' THEN 1 ELSE 0 END) <> 1))
          OR (p.state = 'voided' AND (COUNT(r.id) <> 1 OR SUM(CASE WHEN r.flag = 'void_pending' THEN 1 ELSE 0 END) <> 1))
          OR SUM(CASE WHEN r.amount <> p.amount OR r.debit_account <> p.debit_account OR r.credit_account <> p.credit_account THEN 1 ELSE 0 END) > 0
      ORDER BY p.id`,
    describe: (r) => `pending ${v(r, "id")} is ${v(r, "state")} with ${v(r, "resolutions")} resolutions (${v(r, "posts")} posts, ${v(r, "mismatched")} not matching it)`
  }
]
