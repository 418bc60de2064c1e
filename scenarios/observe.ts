import { Effect, Either, Schema } from "effect"
import type { AuditReport } from "../core/domain/audit.js"
import { OrderId } from "../core/domain/ids.js"
import { DbInt } from "../core/domain/points.js"
import { faultNames } from "./commands.js"
import { deployment } from "./deployment.js"
import { sendOutbox, setFaultOf } from "./execute.js"
import type { Sheet } from "./model.js"
import type { ScenarioEnv } from "./system.js"

/**
 * What the system shows, read straight from its store: the same balances and counts `sheetOf` lists
 * for the model, under the same names. And the end of every run: faults healed, every message sent,
 * then the auditor (invariants 1-6, 8, 9) and the providers' side (7).
 */

const decodeAccounts = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String, credits_posted: DbInt, debits_posted: DbInt, debits_pending: DbInt })))
const decodeKiosks = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String, stacker_cards: DbInt, bin_cards: DbInt })))
const decodeOffers = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String, stock: DbInt })))

export const systemSheet = (env: ScenarioEnv): Effect.Effect<Sheet> =>
  Effect.gen(function* () {
    const { sql } = env.services
    const accounts = yield* sql`SELECT id, credits_posted, debits_posted, debits_pending FROM ledger_accounts`.pipe(Effect.flatMap(decodeAccounts), Effect.orDie)
    const posted = new Map<string, { readonly posted: number; readonly available: number }>()
    for (const a of accounts) posted.set(a.id, { posted: a.credits_posted - a.debits_posted, available: a.credits_posted - a.debits_posted - a.debits_pending })
    const sheet: Record<string, number> = {}
    env.registry.users.forEach((userId, i) => {
      if (userId !== undefined) sheet[`points of customer ${i}`] = posted.get(`user:${userId}`)?.available ?? 0
    })
    env.registry.coupons.forEach((coupon, i) => {
      sheet[`left on coupon #${i}`] = posted.get(`coupon:${coupon.id}`)?.posted ?? 0
    })
    for (const merchant of deployment.merchants) {
      sheet[`payable ${merchant}`] = posted.get(`merchant:${merchant}:payable`)?.posted ?? 0
      sheet[`paid ${merchant}`] = posted.get(`merchant:${merchant}:paid`)?.posted ?? 0
    }
    for (const institution of deployment.institutions) sheet[`institution ${institution}`] = posted.get(`institution:${institution}`)?.posted ?? 0
    const offers = yield* sql`SELECT id, stock FROM offers`.pipe(Effect.flatMap(decodeOffers), Effect.orDie)
    for (const offer of deployment.offers) sheet[`stock ${offer.id}`] = offers.find((row) => row.id === offer.id)?.stock ?? 0
    const kiosks = yield* sql`SELECT id, stacker_cards, bin_cards FROM kiosks`.pipe(Effect.flatMap(decodeKiosks), Effect.orDie)
    for (const kiosk of deployment.kiosks) {
      const row = kiosks.find((k) => k.id === kiosk)
      sheet[`stacker ${kiosk}`] = row?.stacker_cards ?? 0
      sheet[`bin ${kiosk}`] = row?.bin_cards ?? 0
    }
    return sheet
  })

/** The lines on which two sheets differ, as `name: expected X, system Y`. */
export const sheetDifferences = (expected: Sheet, actual: Sheet): ReadonlyArray<string> => {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
  return names.filter((name) => expected[name] !== actual[name]).map((name) => `${name}: model ${expected[name] ?? "none"}, system ${actual[name] ?? "none"}`)
}

export interface EndChecks {
  readonly audit: AuditReport
  /** Delivered orders their provider server never took (invariant 7). */
  readonly ordersNotAtProvider: ReadonlyArray<string>
  /** Deposits charged through carrier billing. */
  readonly depositsPoints: number
  readonly outboxDrained: boolean
}

/** Rounds of the outbox at the end, each after the earliest back-off, before giving up on draining it. */
const DRAIN_ROUNDS_MAX = 60

/** Heals every fault, sends what is left (dead messages retried once, as an operator would), reconciles the kiosks, audits. */
export const finish = (env: ScenarioEnv): Effect.Effect<EndChecks> =>
  Effect.gen(function* () {
    for (const fault of faultNames) yield* setFaultOf(env, fault, false)
    const { outbox, sql } = env.services
    for (const message of yield* outbox.list({ state: "dead", limit: 500 })) yield* Effect.ignore(outbox.retry(message.id))
    let drained = false
    for (let round = 0; round < DRAIN_ROUNDS_MAX && !drained; round++) {
      const summary = yield* sendOutbox(env)
      if (summary.claimed > 0) continue
      drained = (yield* outbox.list({ state: "pending", limit: 1 })).length === 0
      if (!drained) yield* env.advance(60_000)
    }
    for (const station of env.stations) yield* station.flow.reconcile
    const delivered = yield* sql`SELECT id FROM orders WHERE state = 'delivered' AND flagged = 0 ORDER BY id`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: OrderId })))),
      Effect.orDie
    )
    const ordersNotAtProvider: Array<string> = []
    for (const row of delivered) if ((yield* env.outside.providers.order(row.id)) === undefined) ordersNotAtProvider.push(row.id)
    const deposits = yield* Effect.either(env.services.sql`SELECT credits_posted - debits_posted AS points FROM ledger_accounts WHERE id = 'deposits:carrier'`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ points: DbInt }))))
    ))
    const depositsPoints = Either.isRight(deposits) ? deposits.right[0]?.points ?? 0 : 0
    return { audit: yield* env.office.audit, ordersNotAtProvider, depositsPoints, outboxDrained: drained }
  })
