import { Clock, Context, Effect, Hash, Layer } from "effect"
import type { MerchantId, OfferId, OrderId } from "../core/domain/ids.js"
import {
  type OrderSubmission,
  ProviderGateway,
  type ProviderGatewayService,
  type ProviderOffer
} from "../core/ports/provider-gateway.js"
import { ServiceRejected, ServiceUnavailable } from "../core/ports/service-errors.js"
import { BoundedLog, BoundedMap } from "./bounded.js"
import { type FaultKnob, type FaultSpec, FaultTable, knobsOf, type SimFaults } from "./faults.js"
import { deviceRandom } from "./rng.js"
import { withNowMs } from "./clock-now.js"

/**
 * The merchants' own servers, simulated: each holds its catalog (which the simulator changes through
 * the control service), acknowledges orders idempotently by order id (a resend after a lost answer
 * gets the first acknowledgement, and counts as a duplicate, not a second order), and can be down,
 * slow or refusing. Outages come from the `provider.*` knobs (all merchants) or from a schedule per
 * merchant. A merchant the gateway has no server for is refused: that is a configuration error.
 */

export type ProviderFaultKnob = Extract<FaultKnob, `provider.${string}`>

/** An order as the merchant's server took it (the recent ones are kept in full for inspection). */
export interface ReceivedOrder {
  readonly submission: OrderSubmission
  readonly acknowledgement: string
  readonly receivedAtMs: number
}

/** What the server remembers of every order it took: enough to answer a resend, and small. */
export interface OrderRecord {
  readonly merchantId: MerchantId
  readonly acknowledgement: string
  readonly receivedAtMs: number
  /** Resends the server answered from this record. */
  readonly duplicates: number
}

export interface ProviderStats {
  readonly orders: number
  readonly duplicates: number
  readonly rejected: number
  readonly unavailable: number
  readonly catalogFetches: number
}

export interface SimProvidersControlService {
  /** Registers the merchant's server with this catalog, or replaces its catalog. */
  readonly setCatalog: (merchantId: MerchantId, offers: ReadonlyArray<ProviderOffer>) => Effect.Effect<void>
  /** Adds or changes one offer (a price or stock change). */
  readonly upsertOffer: (merchantId: MerchantId, offer: ProviderOffer) => Effect.Effect<void>
  readonly removeOffer: (merchantId: MerchantId, offerId: OfferId) => Effect.Effect<void>
  /** Bumped by every catalog change; 0 for a merchant without a server. */
  readonly catalogVersion: (merchantId: MerchantId) => Effect.Effect<number>
  /** The merchant's server is down from `fromMs` until `untilMs` (clock time); replaces any earlier schedule. */
  readonly scheduleOutage: (merchantId: MerchantId, fromMs: number, untilMs: number) => Effect.Effect<void>
  /** The last orders the merchant's server took (up to `recentOrdersKept`), in arrival order. */
  readonly recentOrders: (merchantId: MerchantId) => Effect.Effect<ReadonlyArray<ReceivedOrder>>
  /** How many distinct orders the merchant's server took. */
  readonly ordersTaken: (merchantId: MerchantId) => Effect.Effect<number>
  /** The server's record of one order, if it took it (within `ordersKeptMax`). */
  readonly order: (orderId: OrderId) => Effect.Effect<OrderRecord | undefined>
  readonly stats: Effect.Effect<ProviderStats>
  readonly setFault: (knob: ProviderFaultKnob, spec: FaultSpec) => Effect.Effect<void>
  readonly faultsFired: Effect.Effect<Readonly<Partial<Record<ProviderFaultKnob, number>>>>
}

export class SimProvidersControl extends Context.Tag("ecoupon/sim/SimProvidersControl")<
  SimProvidersControl,
  SimProvidersControlService
>() {}

export interface SimProvidersConfig {
  readonly merchants?: ReadonlyArray<{ readonly merchantId: MerchantId; readonly offers: ReadonlyArray<ProviderOffer> }>
  readonly latencyMs?: number
  /** How late a slow answer (`provider.slow`) comes (default 15 s). */
  readonly slowMs?: number
  readonly faults?: SimFaults
  readonly seed?: number
  /** How many orders the servers remember for idempotency (default 2000000, more than a fleet run makes). */
  readonly ordersKeptMax?: number
  /** Orders kept in full per merchant for inspection (default 100). */
  readonly recentOrdersKept?: number
}

interface OrderEntry {
  readonly merchantId: MerchantId
  readonly ackNo: number
  readonly receivedAtMs: number
  /** A hash of the content, to tell a resend from a different order under the same id. */
  readonly contentHash: number
  duplicates: number
}

interface MerchantServer {
  readonly offers: Map<OfferId, ProviderOffer>
  version: number
  outage: { readonly fromMs: number; readonly untilMs: number } | undefined
  readonly recent: BoundedLog<ReceivedOrder>
  taken: number
}

const service = "provider server"
const providerKnobs = knobsOf("provider")
const contentHash = (s: OrderSubmission): number =>
  Hash.string(`${s.merchantId}|${s.offerId}|${s.couponCode}|${s.quantity}|${s.amount}|${s.deliveredAtMs}`)

export const makeSimProviders = (
  config: SimProvidersConfig = {}
): Effect.Effect<{ readonly port: ProviderGatewayService; readonly control: SimProvidersControlService }> =>
  Effect.gen(function*() {
    const random = yield* deviceRandom(config.seed)
    const faults = new FaultTable<ProviderFaultKnob>(providerKnobs, config.faults ?? {}, random, yield* Clock.currentTimeMillis)
    const latencyMs = config.latencyMs ?? 0
    const slowMs = config.slowMs ?? 15_000
    const servers = new Map<MerchantId, MerchantServer>()
    const recentOrdersKept = config.recentOrdersKept ?? 100
    const byOrder = new BoundedMap<OrderId, OrderEntry>(config.ordersKeptMax ?? 2_000_000)
    const stats = { orders: 0, duplicates: 0, rejected: 0, unavailable: 0, catalogFetches: 0 }

    const serverOf = (merchantId: MerchantId): MerchantServer => {
      const known = servers.get(merchantId)
      if (known !== undefined) return known
      const server: MerchantServer = { offers: new Map(), version: 0, outage: undefined, recent: new BoundedLog(recentOrdersKept), taken: 0 }
      servers.set(merchantId, server)
      return server
    }

    /** The common part of every call: known merchant, outage, then the work, then slowness and latency. */
    const call = <A>(
      merchantId: MerchantId,
      work: (server: MerchantServer, nowMs: number) => Effect.Effect<A, ServiceRejected>
    ): Effect.Effect<A, ServiceUnavailable | ServiceRejected> =>
      withNowMs((nowMs): Effect.Effect<A, ServiceUnavailable | ServiceRejected> => {
        const server = servers.get(merchantId)
        if (server === undefined) {
          return Effect.fail(new ServiceRejected({ service, reason: `no provider server is configured for ${merchantId}` }))
        }
        const down = server.outage !== undefined && nowMs >= server.outage.fromMs && nowMs < server.outage.untilMs
        if (down || faults.fires("provider.outage", nowMs)) {
          stats.unavailable++
          return Effect.fail(new ServiceUnavailable({ service, detail: `${merchantId} answers 503` }))
        }
        const waitMs = latencyMs + (faults.fires("provider.slow", nowMs) ? slowMs : 0)
        return Effect.zipLeft(work(server, nowMs), waitMs > 0 ? Effect.sleep(waitMs) : Effect.void)
      })

    const port: ProviderGatewayService = {
      submitOrder: (submission) =>
        Effect.flatMap(
          call(submission.merchantId, (server, nowMs) => {
            const known = byOrder.get(submission.orderId)
            const hash = contentHash(submission)
            if (known !== undefined) {
              if (known.contentHash !== hash) {
                stats.rejected++
                return Effect.fail(new ServiceRejected({ service, reason: `order ${submission.orderId} was already sent with other content` }))
              }
              stats.duplicates++
              known.duplicates++
              return Effect.succeed({ acknowledgement: `ack_${known.ackNo}` })
            }
            if (faults.fires("provider.reject", nowMs)) {
              stats.rejected++
              return Effect.fail(new ServiceRejected({ service, reason: "the merchant refused the order" }))
            }
            const ackNo = ++stats.orders
            const acknowledgement = `ack_${ackNo}`
            server.taken++
            server.recent.push({ submission, acknowledgement, receivedAtMs: nowMs })
            byOrder.set(submission.orderId, { merchantId: submission.merchantId, ackNo, receivedAtMs: nowMs, contentHash: hash, duplicates: 0 })
            return Effect.succeed({ acknowledgement })
          }),
          (answer) =>
            withNowMs((nowMs) =>
              faults.fires("provider.lostAck", nowMs)
                ? Effect.fail(new ServiceUnavailable({ service, detail: "the acknowledgement was lost after the order was taken" }))
                : Effect.succeed(answer))
        ),

      fetchCatalog: (merchantId) =>
        call(merchantId, (server) => {
          stats.catalogFetches++
          return Effect.succeed(Array.from(server.offers.values()))
        })
    }

    const change = (merchantId: MerchantId, edit: (server: MerchantServer) => void) =>
      Effect.sync(() => {
        const server = serverOf(merchantId)
        edit(server)
        server.version++
      })

    for (const { merchantId, offers } of config.merchants ?? []) {
      yield* change(merchantId, (server) => offers.forEach((offer) => server.offers.set(offer.offerId, offer)))
    }

    const control: SimProvidersControlService = {
      setCatalog: (merchantId, offers) =>
        change(merchantId, (server) => {
          server.offers.clear()
          for (const offer of offers) server.offers.set(offer.offerId, offer)
        }),
      upsertOffer: (merchantId, offer) => change(merchantId, (server) => void server.offers.set(offer.offerId, offer)),
      removeOffer: (merchantId, offerId) => change(merchantId, (server) => void server.offers.delete(offerId)),
      catalogVersion: (merchantId) => Effect.sync(() => servers.get(merchantId)?.version ?? 0),
      scheduleOutage: (merchantId, fromMs, untilMs) =>
        Effect.sync(() => {
          serverOf(merchantId).outage = { fromMs, untilMs }
        }),
      recentOrders: (merchantId) => Effect.sync(() => servers.get(merchantId)?.recent.toArray() ?? []),
      ordersTaken: (merchantId) => Effect.sync(() => servers.get(merchantId)?.taken ?? 0),
      order: (orderId) =>
        Effect.sync(() => {
          const known = byOrder.get(orderId)
          return known === undefined
            ? undefined
            : { merchantId: known.merchantId, acknowledgement: `ack_${known.ackNo}`, receivedAtMs: known.receivedAtMs, duplicates: known.duplicates }
        }),
      stats: Effect.sync(() => ({ ...stats })),
      setFault: (knob, spec) => Effect.sync(() => faults.set(knob, spec)),
      faultsFired: Effect.sync(() => faults.firedCounts())
    }
    return { port, control }
  })

export const SimProvidersLive = (config: SimProvidersConfig = {}): Layer.Layer<ProviderGateway | SimProvidersControl> =>
  Layer.effectContext(
    Effect.map(makeSimProviders(config), ({ control, port }) =>
      Context.make(ProviderGateway, port).pipe(Context.add(SimProvidersControl, control)))
  )
