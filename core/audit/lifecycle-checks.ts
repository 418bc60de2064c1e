import type { Check } from "./check.js"
import { v } from "./check.js"

/**
 * Invariants 3, 4, 5, 6, 8 and 9 (DESIGN §5), over orders, coupons, cards, redemptions and
 * statements. Conventions they rely on (the services keep them): an order's pending transfer has code
 * `order` and ref = the order id; a redemption's transfer has code `redeem` and ref = the redemption
 * id; a statement's transfer has code `settle` and ref = the settlement id; a deposit transfer has
 * code `deposit` and ref = the card UID; card stock movements of kind dispense/capture have ref = the
 * card UID.
 */
export const lifecycleChecks: ReadonlyArray<Check> = [
  {
    invariant: 3,
    name: "every order is placed, delivered or aborted, and its pending transfer agrees",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM orders`,
    violations: (sql) => sql`
      SELECT o.id, o.state, COUNT(t.id) AS transfers, MIN(t.state) AS transfer_state, MIN(c.state) AS coupon_state
      FROM orders o
      LEFT JOIN ledger_transfers t ON t.ref = o.id AND t.code = 'order' AND t.flag = 'pending'
      LEFT JOIN coupons c ON c.order_id = o.id
      GROUP BY o.id, o.state
      HAVING o.state NOT IN ('placed', 'delivered', 'aborted')
          OR COUNT(t.id) <> 1
          OR (o.state = 'placed' AND (MIN(t.state) <> 'pending' OR MIN(c.state) <> 'reserved'))
          OR (o.state = 'delivered' AND (MIN(t.state) <> 'posted' OR MIN(c.state) IN ('reserved', 'void')))
          OR (o.state = 'aborted' AND (MIN(t.state) <> 'voided' OR MIN(c.state) <> 'void'))
      ORDER BY o.id`,
    describe: (r) =>
      `order ${v(r, "id")} is ${v(r, "state")} with ${v(r, "transfers")} order transfers (${v(r, "transfer_state")}) and coupon ${v(r, "coupon_state")}`
  },
  {
    invariant: 4,
    name: "no coupon redeems more than its value",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM coupons`,
    violations: (sql) => sql`
      SELECT c.id, c.value_points, SUM(r.amount) AS redeemed
      FROM coupons c JOIN redemptions r ON r.coupon_id = c.id AND r.state = 'redeemed'
      GROUP BY c.id, c.value_points
      HAVING SUM(r.amount) > c.value_points
      ORDER BY c.id`,
    describe: (r) => `coupon ${v(r, "id")} worth ${v(r, "value_points")} has ${v(r, "redeemed")} redeemed`
  },
  {
    invariant: 4,
    name: "no redemption after expiry, of a voided coupon, or of another merchant's coupon",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM redemptions`,
    violations: (sql) => sql`
      SELECT r.id, r.coupon_id, r.redeemed_at_ms, c.expires_at_ms, c.state, r.merchant_id, c.merchant_id AS coupon_merchant
      FROM redemptions r JOIN coupons c ON c.id = r.coupon_id
      WHERE r.redeemed_at_ms >= c.expires_at_ms OR c.state IN ('void', 'reserved') OR r.merchant_id <> c.merchant_id
      ORDER BY r.id`,
    describe: (r) =>
      `redemption ${v(r, "id")} of coupon ${v(r, "coupon_id")} (${v(r, "state")}, merchant ${v(r, "coupon_merchant")}) by ${v(r, "merchant_id")} at ${v(r, "redeemed_at_ms")}, expiry ${v(r, "expires_at_ms")}`
  },
  {
    invariant: 4,
    name: "each coupon's ledger account holds its value less what left it",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM coupons`,
    violations: (sql) => sql`
      SELECT c.id, c.state, c.value_points, a.credits_posted, a.credits_pending
      FROM coupons c JOIN ledger_accounts a ON a.id = 'coupon:' || c.id
      WHERE (c.state = 'void' AND a.credits_posted + a.credits_pending <> 0)
         OR (c.state = 'reserved' AND a.credits_pending <> c.value_points)
         OR (c.state NOT IN ('void', 'reserved') AND a.credits_posted - COALESCE((
              SELECT SUM(t.amount) FROM ledger_transfers t
              WHERE t.credit_account = a.id AND t.code = 'redeem_rollback'), 0) <> c.value_points)
      ORDER BY c.id`,
    describe: (r) =>
      `coupon ${v(r, "id")} (${v(r, "state")}, worth ${v(r, "value_points")}) has credits ${v(r, "credits_posted")} posted, ${v(r, "credits_pending")} pending`
  },
  {
    invariant: 5,
    name: "each kiosk's stacker and bin counts match its card movements",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM kiosks`,
    violations: (sql) => sql`
      SELECT k.id, k.stacker_cards, k.bin_cards, k.bin_capacity,
        COALESCE(SUM(m.delta_stacker), 0) AS moved_stacker, COALESCE(SUM(m.delta_bin), 0) AS moved_bin
      FROM kiosks k LEFT JOIN card_stock_movements m ON m.kiosk_id = k.id
      GROUP BY k.id, k.stacker_cards, k.bin_cards, k.bin_capacity
      HAVING k.stacker_cards <> COALESCE(SUM(m.delta_stacker), 0) OR k.bin_cards <> COALESCE(SUM(m.delta_bin), 0)
          OR k.stacker_cards < 0 OR k.bin_cards < 0 OR k.bin_cards > k.bin_capacity
      ORDER BY k.id`,
    describe: (r) =>
      `kiosk ${v(r, "id")} says stacker ${v(r, "stacker_cards")}, bin ${v(r, "bin_cards")}/${v(r, "bin_capacity")}; movements say ${v(r, "moved_stacker")} and ${v(r, "moved_bin")}`
  },
  {
    invariant: 5,
    name: "every card is in one known state, dispensed once, captured where its state says",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM cards`,
    // One pass over the movements, grouped by card, joined to the cards: linear at fleet scale.
    violations: (sql) => sql`
      SELECT c.uid, c.state, c.kiosk_id, c.return_kiosk_id,
        COALESCE(m.dispensed, 0) AS dispensed, m.dispensed_from, COALESCE(m.captures, 0) AS captures
      FROM cards c
      LEFT JOIN (
        SELECT ref,
          SUM(CASE WHEN kind = 'dispense' THEN 1 ELSE 0 END) AS dispensed,
          MIN(CASE WHEN kind = 'dispense' THEN kiosk_id END) AS dispensed_from,
          SUM(CASE WHEN kind = 'capture' THEN 1 ELSE 0 END) AS captures
        FROM card_stock_movements WHERE kind IN ('dispense', 'capture') GROUP BY ref
      ) m ON m.ref = c.uid
      WHERE c.state NOT IN ('dispensing', 'with_user', 'returned', 'retained', 'overdue', 'charged', 'closed')
         OR COALESCE(m.dispensed, 0) <> 1 OR m.dispensed_from <> c.kiosk_id
         OR (c.state IN ('returned', 'retained') AND COALESCE(m.captures, 0) <> 1)
         OR (c.state IN ('dispensing', 'with_user', 'overdue') AND COALESCE(m.captures, 0) <> 0)
      ORDER BY c.uid`,
    describe: (r) =>
      `card ${v(r, "uid")} is ${v(r, "state")} (from ${v(r, "kiosk_id")}, returned at ${v(r, "return_kiosk_id")}) with ${v(r, "dispensed")} dispenses (from ${v(r, "dispensed_from")}) and ${v(r, "captures")} captures`
  },
  {
    invariant: 6,
    name: "each redemption moved points exactly once",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM redemptions`,
    violations: (sql) => sql`
      SELECT r.id, r.amount, COUNT(t.id) AS transfers, SUM(t.amount) AS moved
      FROM redemptions r LEFT JOIN ledger_transfers t ON t.ref = r.id AND t.code = 'redeem'
      GROUP BY r.id, r.amount
      HAVING COUNT(t.id) <> 1 OR SUM(t.amount) <> r.amount
      ORDER BY r.id`,
    describe: (r) => `redemption ${v(r, "id")} of ${v(r, "amount")} has ${v(r, "transfers")} redeem transfers moving ${v(r, "moved")}`
  },
  {
    invariant: 8,
    name: "statements sum to their lines; lines are live redemptions of the merchant and period",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM settlements`,
    violations: (sql) => sql`
      SELECT s.id, s.merchant_id, s.total_points, COALESCE(SUM(l.amount), 0) AS lines_total,
        SUM(CASE WHEN r.merchant_id <> s.merchant_id OR r.redeemed_at_ms < s.period_start_ms
                   OR r.redeemed_at_ms >= s.period_end_ms OR r.state <> 'redeemed' OR l.amount <> r.amount THEN 1 ELSE 0 END) AS bad_lines,
        (SELECT COALESCE(SUM(t.amount), 0) FROM ledger_transfers t WHERE t.ref = s.id AND t.code = 'settle') AS settled
      FROM settlements s
      LEFT JOIN settlement_lines l ON l.settlement_id = s.id
      LEFT JOIN redemptions r ON r.id = l.redemption_id
      GROUP BY s.id, s.merchant_id, s.total_points
      HAVING s.total_points <> COALESCE(SUM(l.amount), 0)
          OR SUM(CASE WHEN r.merchant_id <> s.merchant_id OR r.redeemed_at_ms < s.period_start_ms
                   OR r.redeemed_at_ms >= s.period_end_ms OR r.state <> 'redeemed' OR l.amount <> r.amount THEN 1 ELSE 0 END) > 0
          OR (SELECT COALESCE(SUM(t.amount), 0) FROM ledger_transfers t WHERE t.ref = s.id AND t.code = 'settle') <> s.total_points
      ORDER BY s.id`,
    describe: (r) =>
      `statement ${v(r, "id")} of ${v(r, "merchant_id")} totals ${v(r, "total_points")}, lines ${v(r, "lines_total")} (${v(r, "bad_lines")} bad), settled ${v(r, "settled")}`
  },
  {
    invariant: 9,
    name: "a returned card is never charged; an unreturned card is charged at most once",
    checked: (sql) => sql`SELECT COUNT(*) AS n FROM cards`,
    // Deposits grouped by card once; the outbox row is found by its unique key (carrier_charge:<uid>).
    violations: (sql) => sql`
      SELECT c.uid, c.state, c.charge_state, COALESCE(d.deposits, 0) AS deposits, o.state AS charge_message
      FROM cards c
      LEFT JOIN (
        SELECT ref, COUNT(*) AS deposits FROM ledger_transfers WHERE code = 'deposit' GROUP BY ref
      ) d ON d.ref = c.uid
      LEFT JOIN outbox o ON o.idempotency_key = 'carrier_charge:' || c.uid
      WHERE (c.state = 'returned' AND (c.charge_state <> 'none' OR COALESCE(d.deposits, 0) > 0))
         OR COALESCE(d.deposits, 0) > 1
         OR (COALESCE(d.deposits, 0) = 1 AND o.id IS NULL)
      ORDER BY c.uid`,
    describe: (r) =>
      `card ${v(r, "uid")} is ${v(r, "state")} (charge ${v(r, "charge_state")}) with ${v(r, "deposits")} deposit transfers; its carrier charge message is ${v(r, "charge_message")}`
  }
]
