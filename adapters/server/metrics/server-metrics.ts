import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { DbInt } from "../../../core/domain/points.js"
import { DurableStore } from "../../store/durable-store.js"
import type { RequestSample } from "../request-pipeline.js"
import { Counter, Histogram, renderFamily, type Sample } from "./prometheus-text.js"

/**
 * What `/metrics` says (Prometheus text): the server's own figures, counted in this process since it
 * started (requests and their latency per route, the journal's fsync latency on the embedded store),
 * and the business as the store has it at scrape time (outbox depth and dead letters by kind, orders,
 * coupons and redemptions by state). Store figures are the deployment's, so several servers on one
 * PostgreSQL all report the same totals: aggregate them with max, not sum.
 */

const HTTP_BOUNDS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const FSYNC_BOUNDS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

const GroupRow = Schema.Struct({ label: Schema.String, n: DbInt })
const decodeGroups = Schema.decodeUnknown(Schema.Array(GroupRow))

export class ServerMetrics extends Effect.Service<ServerMetrics>()("ecoupon/server/ServerMetrics", {
  scoped: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const requests = new Counter("ecoupon_http_requests_total", "HTTP requests answered, by route (group.endpoint) and status")
    const latency = new Histogram("ecoupon_http_request_duration_seconds", "Time from a request's arrival to its answer, by route", HTTP_BOUNDS_S)
    const fsync = new Histogram("ecoupon_journal_fsync_seconds", "The embedded store's journal: time each group commit's fdatasync took", FSYNC_BOUNDS_S)

    const durable = yield* Effect.serviceOption(DurableStore)
    if (durable._tag === "Some") {
      const stop = durable.value.onFsync((durationMs) => fsync.observe(durationMs / 1000))
      yield* Effect.addFinalizer(() => Effect.sync(stop))
    }

    const observe = (sample: RequestSample): Effect.Effect<void> =>
      Effect.sync(() => {
        requests.inc({ route: sample.route, status: String(sample.status) })
        latency.observe(sample.durationMs / 1000, { route: sample.route })
      })

    const groups = (query: Effect.Effect<ReadonlyArray<unknown>, unknown>, label: string): Effect.Effect<ReadonlyArray<Sample>> =>
      query.pipe(
        Effect.flatMap(decodeGroups),
        Effect.map((rows) => rows.map((row) => ({ labels: { [label]: row.label }, value: row.n }))),
        Effect.orDie
      )

    const storeFamilies = Effect.gen(function* () {
      const pending = yield* groups(sql`SELECT kind AS label, COUNT(*) AS n FROM outbox WHERE state = 'pending' GROUP BY kind`, "kind")
      const dead = yield* groups(sql`SELECT kind AS label, COUNT(*) AS n FROM outbox WHERE state = 'dead' GROUP BY kind`, "kind")
      const orders = yield* groups(sql`SELECT state AS label, COUNT(*) AS n FROM orders GROUP BY state`, "state")
      const coupons = yield* groups(sql`SELECT state AS label, COUNT(*) AS n FROM coupons GROUP BY state`, "state")
      const redemptions = yield* groups(sql`SELECT state AS label, COUNT(*) AS n FROM redemptions GROUP BY state`, "state")
      const total = (samples: ReadonlyArray<Sample>) => [{ labels: {}, value: samples.reduce((sum, sample) => sum + sample.value, 0) }]
      return [
        renderFamily("ecoupon_outbox_pending", "Outbox messages waiting to be sent (due now or backing off), by kind", "gauge", pending),
        renderFamily("ecoupon_outbox_dead", "Outbox messages that gave up (dead letters: list and retry them at /v1/ops/outbox/dead), by kind", "gauge", dead),
        renderFamily("ecoupon_orders_total", "Orders ever placed (the store's count)", "counter", total(orders)),
        renderFamily("ecoupon_orders_by_state", "Orders by state", "gauge", orders),
        renderFamily("ecoupon_coupons_total", "Coupons ever made, reserved ones included (the store's count)", "counter", total(coupons)),
        renderFamily("ecoupon_coupons_by_state", "Coupons by state", "gauge", coupons),
        renderFamily("ecoupon_redemptions_total", "Redemptions ever made, rolled back ones included (the store's count)", "counter", total(redemptions)),
        renderFamily("ecoupon_redemptions_by_state", "Redemptions by state", "gauge", redemptions)
      ].join("")
    })

    /** The whole exposition. */
    const render: Effect.Effect<string> = Effect.map(storeFamilies, (store) =>
      [requests.render(), latency.render(), durable._tag === "Some" ? fsync.render() : "", store].join("")
    )

    return { observe, render, requests, latency, fsync } as const
  })
}) {}
