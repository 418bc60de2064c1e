import { Effect, Layer } from "effect"
import { CarrierBilling } from "../ports/carrier-billing.js"
import { PayoutGateway } from "../ports/payout-gateway.js"
import { ProviderGateway } from "../ports/provider-gateway.js"
import { ServiceRejected, ServiceUnavailable } from "../ports/service-errors.js"

/** How a fake outside service answers one kind of call. */
export type Answer = "ok" | "reject" | "unavailable"

const answer = <A>(service: string, how: Answer, value: A): Effect.Effect<A, ServiceUnavailable | ServiceRejected> =>
  how === "ok"
    ? Effect.succeed(value)
    : how === "reject"
      ? Effect.fail(new ServiceRejected({ service, reason: "declined by the fake" }))
      : Effect.fail(new ServiceUnavailable({ service, detail: "the fake is down" }))

/**
 * Small in-test layers for the ports the order flow's outbox handlers call. Each records its calls
 * (`"prepare <correlator> <amount>"`, ...) and answers as the mutable `answers` say, so a test can
 * change its mind between dispatches.
 */
export const fakeCarrier = () => {
  const calls: Array<string> = []
  const answers: { prepare: Answer; confirm: Answer; cancel: Answer } = { prepare: "ok", confirm: "ok", cancel: "ok" }
  const layer = Layer.succeed(CarrierBilling, {
    prepare: (charge) => Effect.suspend(() => (calls.push(`prepare ${charge.correlator} ${charge.amount}`), answer("carrier", answers.prepare, { authorisation: `auth-${charge.correlator}` }))),
    confirm: (correlator) => Effect.suspend(() => (calls.push(`confirm ${correlator}`), answer("carrier", answers.confirm, undefined))),
    cancel: (correlator) => Effect.suspend(() => (calls.push(`cancel ${correlator}`), answer("carrier", answers.cancel, undefined))),
    refund: (correlator, amount) => Effect.suspend(() => (calls.push(`refund ${correlator} ${amount}`), answer("carrier", "ok", undefined)))
  })
  return { calls, answers, layer }
}

export const fakeProvider = () => {
  const calls: Array<string> = []
  const answers: { submit: Answer } = { submit: "ok" }
  const layer = Layer.succeed(ProviderGateway, {
    submitOrder: (submission) => Effect.suspend(() => (calls.push(`submit ${submission.orderId}`), answer("provider", answers.submit, { acknowledgement: `ack-${submission.orderId}` }))),
    fetchCatalog: () => Effect.succeed([])
  })
  return { calls, answers, layer }
}

export const fakePayouts = () => {
  const calls: Array<string> = []
  const answers: { pay: Answer } = { pay: "ok" }
  const layer = Layer.succeed(PayoutGateway, {
    pay: (payout) => Effect.suspend(() => (calls.push(`pay ${payout.settlementId} ${payout.amount}`), answer("payouts", answers.pay, { payoutRef: `po-${payout.settlementId}` })))
  })
  return { calls, answers, layer }
}

/** All three fakes, with one layer providing every port. */
export const fakePorts = () => {
  const carrier = fakeCarrier()
  const provider = fakeProvider()
  const payouts = fakePayouts()
  return { carrier, provider, payouts, layer: Layer.mergeAll(carrier.layer, provider.layer, payouts.layer) }
}
