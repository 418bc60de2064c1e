import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { CardCharges } from "./cards-charge.js"
import { ProviderOrderPayload } from "./domain/order.js"
import { type OutboxHandler, outboxHandler } from "./outbox.js"
import { CarrierBilling } from "./ports/carrier-billing.js"
import { PayoutGateway } from "./ports/payout-gateway.js"
import { ProviderGateway } from "./ports/provider-gateway.js"
import { PayoutPayload, Settlements } from "./settlement.js"

/** The ports the order, card and settlement handlers talk to. */
export type OrderFlowPorts = ProviderGateway | CarrierBilling | PayoutGateway

/**
 * The outbox handlers of the order flow (orders, cards, settlement), for `Outbox.dispatchDue({ handlers })` (merge with the
 * users' `sms` handler):
 * - `provider_order`: the delivered order's content to the merchant's provider server (claim 8),
 *   idempotent there by order id. If the outbox gives up, the order is flagged for an operator.
 * - `carrier_charge`: an unreturned card's deposit (see `cards-charge.ts`).
 * - `payout`: a statement's total to the merchant through `PayoutGateway`; the statement becomes
 *   `paid` with the payout reference, or `payout_failed` if it is refused or the retries run out.
 */
export class OrderFlowHandlers extends Effect.Service<OrderFlowHandlers>()("ecoupon/OrderFlowHandlers", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const charges = yield* CardCharges
    const settlements = yield* Settlements

    const providerOrder: OutboxHandler<ProviderGateway> = outboxHandler({
      payload: ProviderOrderPayload,
      send: (payload) => Effect.flatMap(ProviderGateway, (gateway) => gateway.submitOrder(payload)),
      onDead: (payload) => sql`UPDATE orders SET flagged = 1 WHERE id = ${payload.orderId}`.pipe(Effect.orDie, Effect.asVoid)
    })

    const payout: OutboxHandler<PayoutGateway> = outboxHandler({
      payload: PayoutPayload,
      send: (payload) =>
        Effect.flatMap(PayoutGateway, (gateway) =>
          gateway.pay({ settlementId: payload.settlementId, merchantId: payload.merchantId, amount: payload.amount, reference: payload.reference })
        ),
      onSent: (payload, result) => settlements.markPaid(payload.settlementId, result.payoutRef),
      onDead: (payload) => settlements.markPayoutFailed(payload.settlementId)
    })

    const handlers: Readonly<Record<string, OutboxHandler<OrderFlowPorts>>> = {
      provider_order: providerOrder,
      carrier_charge: charges.handler,
      payout
    }
    return { handlers } as const
  }),
  dependencies: [CardCharges.Default, Settlements.Default]
}) {}
