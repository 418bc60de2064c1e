import { Effect, Either, Schema } from "effect"
import type { CardUid, CouponCode, CouponId, MerchantId, OrderId } from "../core/domain/ids.js"
import { OrderId as OrderIdSchema } from "../core/domain/ids.js"
import { DbInt } from "../core/domain/points.js"
import { smsHandler } from "../core/outbox.js"
import type { ProviderOffer } from "../core/ports/provider-gateway.js"
import { always, never } from "../sim/faults.js"
import type { OutsideWorld, Services } from "../sim/fleet-world.js"
import type { FaultName } from "./commands.js"
import { deployment } from "./deployment.js"
import type { Sheet } from "./model.js"
import type { Registry } from "./system.js"

/**
 * What the runner does and sees behind the API, whatever the layer: the server's own work (its outbox
 * worker's rounds, the back office's sweeps), the world outside it (the phone that receives the code,
 * the provider servers, the carrier) and what it reads to compare with the model (the sheet, the end
 * checks). In process (`localServerSide`) it is the core services and the sim outside world; against
 * a server the runner did not start (`server-side-http.ts`) it is that server's operators' API and its
 * demo gateways (`/v1/demo`).
 */

export type OutsideFault = Exclude<FaultName, "card.jam">

export interface EndObservations {
  /** Delivered orders their provider server never took (invariant 7). */
  readonly ordersNotAtProvider: ReadonlyArray<string>
  /** Deposits charged through carrier billing; undefined where they cannot be told apart from other runs'. */
  readonly depositsPoints: number | undefined
}

export interface ServerSide {
  /** One round of the outbox's work, as the server's worker would run it (nothing where the server's own worker runs). */
  readonly sendOutbox: Effect.Effect<void>
  /** The code the phone received for a request made at `askedAtMs` (the deployment's clock), or undefined if none came. */
  readonly codeFor: (phone: string, askedAtMs: number) => Effect.Effect<string | undefined>
  /** The back office's daily sweeps: coupons past expiry, then cards past their deadline. */
  readonly sweep: Effect.Effect<{ readonly expired: number; readonly expiredPoints: number; readonly overdue: number; readonly forfeited: number }>
  /** The coupon an order issued, as the server has it (`cardUid` undefined when the server does not say). */
  readonly couponOfOrder: (orderId: OrderId, kiosk: number) => Effect.Effect<{ readonly id: CouponId; readonly code: CouponCode; readonly cardUid: CardUid | null | undefined } | undefined>
  /** Every balance and count the model keeps, under the model's names (model.ts `sheetOf`). */
  readonly sheet: (registry: Registry) => Effect.Effect<Sheet>
  readonly setFault: (fault: OutsideFault, on: boolean) => Effect.Effect<void>
  /** The merchant's provider server holds this catalog. */
  readonly setProviderCatalog: (merchantId: MerchantId, offers: ReadonlyArray<ProviderOffer>) => Effect.Effect<void>
  /** Sends everything still queued (dead messages retried once, as an operator would); false if some never went. */
  readonly drain: (registry: Registry) => Effect.Effect<boolean>
  readonly endObservations: (registry: Registry) => Effect.Effect<EndObservations>
}

/** How long a customer waits for the code to reach their phone (the sim gateway delivers in 3 s). */
export const SMS_WAIT_MS = 10_000
export const codePattern = /code (\d{4,8})\b/

/** Rounds of the outbox at the end, each after the earliest back-off, before giving up on draining it. */
const DRAIN_ROUNDS_MAX = 60

const decodeAccounts = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String, credits_posted: DbInt, debits_posted: DbInt, debits_pending: DbInt })))
const decodeKiosks = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String, stacker_cards: DbInt, bin_cards: DbInt })))
const decodeOffers = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String, stock: DbInt })))

/** The sheet read straight from the store: the same balances and counts `sheetOf` lists for the model. */
export const storeSheet = (services: Services, registry: Registry): Effect.Effect<Sheet> =>
  Effect.gen(function* () {
    const { sql } = services
    const accounts = yield* sql`SELECT id, credits_posted, debits_posted, debits_pending FROM ledger_accounts`.pipe(Effect.flatMap(decodeAccounts), Effect.orDie)
    const posted = new Map<string, { readonly posted: number; readonly available: number }>()
    for (const a of accounts) posted.set(a.id, { posted: a.credits_posted - a.debits_posted, available: a.credits_posted - a.debits_posted - a.debits_pending })
    const sheet: Record<string, number> = {}
    registry.users.forEach((userId, i) => {
      if (userId !== undefined) sheet[`points of customer ${i}`] = posted.get(`user:${userId}`)?.available ?? 0
    })
    registry.coupons.forEach((coupon, i) => {
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

/** One round of the outbox, as the server's worker would run it: SMS codes, provider orders, deposit charges, payouts. */
const roundOf = (services: Services, outside: OutsideWorld) =>
  services.outbox.dispatchDue({ handlers: { ...services.orderHandlers.handlers, sms: smsHandler } }).pipe(Effect.provide(outside.context))

/** The server side in this process: its core services (possibly defect-wrapped) and the sim outside world. */
export const localServerSide = (services: Services, outside: OutsideWorld, advance: (ms: number) => Effect.Effect<void>): ServerSide => {
  const round = roundOf(services, outside)
  return {
    sendOutbox: Effect.asVoid(round),
    codeFor: (phone, askedAtMs) =>
      Effect.gen(function* () {
        yield* round
        yield* advance(SMS_WAIT_MS)
        const message = yield* outside.sms.lastDelivered(phone as never)
        return message !== undefined && message.sentAtMs >= askedAtMs ? codePattern.exec(message.text)?.[1] : undefined
      }),
    sweep: Effect.gen(function* () {
      let expired = 0
      let expiredPoints = 0
      for (let batch = 0; batch < 100; batch++) {
        const sweep = yield* services.redemptions.expireDue()
        expired += sweep.expiredCoupons
        expiredPoints += sweep.forwardedPoints
        if (!sweep.more) break
      }
      let overdue = 0
      let forfeited = 0
      for (let batch = 0; batch < 100; batch++) {
        const sweep = yield* services.cards.sweepOverdue()
        overdue += sweep.overdueCards
        forfeited += sweep.forfeitedPoints
        if (!sweep.more) break
      }
      return { expired, expiredPoints, overdue, forfeited }
    }),
    couponOfOrder: (orderId) =>
      services.sql<{ readonly id: CouponId; readonly code: CouponCode; readonly card_uid: CardUid | null }>`SELECT id, code, card_uid FROM coupons WHERE order_id = ${orderId}`.pipe(
        Effect.orDie,
        Effect.map((rows) => (rows[0] === undefined ? undefined : { id: rows[0].id, code: rows[0].code, cardUid: rows[0].card_uid }))
      ),
    sheet: (registry) => storeSheet(services, registry),
    setFault: (fault, on) => {
      const spec = on ? always : never
      switch (fault) {
        case "sms.loss":
          return outside.sms.setFault(fault, spec)
        case "provider.outage":
          return outside.providers.setFault(fault, spec)
        case "carrier.decline":
        case "carrier.outage":
          return outside.carrier.setFault(fault, spec)
      }
    },
    setProviderCatalog: (merchantId, offers) => outside.providers.setCatalog(merchantId, offers),
    drain: () =>
      Effect.gen(function* () {
        const { outbox } = services
        for (const message of yield* outbox.list({ state: "dead", limit: 500 })) yield* Effect.ignore(outbox.retry(message.id))
        for (let attempt = 0; attempt < DRAIN_ROUNDS_MAX; attempt++) {
          const summary = yield* round
          if (summary.claimed > 0) continue
          if ((yield* outbox.list({ state: "pending", limit: 1 })).length === 0) return true
          yield* advance(60_000)
        }
        return false
      }),
    endObservations: () =>
      Effect.gen(function* () {
        const { sql } = services
        const delivered = yield* sql`SELECT id FROM orders WHERE state = 'delivered' AND flagged = 0 ORDER BY id`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: OrderIdSchema })))),
          Effect.orDie
        )
        const ordersNotAtProvider: Array<string> = []
        for (const row of delivered) if ((yield* outside.providers.order(row.id)) === undefined) ordersNotAtProvider.push(row.id)
        const deposits = yield* Effect.either(sql`SELECT credits_posted - debits_posted AS points FROM ledger_accounts WHERE id = 'deposits:carrier'`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ points: DbInt }))))
        ))
        return { ordersNotAtProvider, depositsPoints: Either.isRight(deposits) ? deposits.right[0]?.points ?? 0 : 0 }
      })
  }
}
