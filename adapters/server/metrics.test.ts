import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Layer } from "effect"
import * as DurableStore from "../store/durable-store.js"
import { runMigrations } from "../store/migrate.js"
import { couponBoughtOverHttp, liveServer } from "./testing.js"

/**
 * `/metrics` over real HTTP on the durable embedded store: refused without an operator token,
 * well-formed Prometheus text for an auditor's, and its figures follow what the test did (requests
 * per route, the journal's fsyncs, an order, a coupon, a dead letter).
 */

const durableStore = (directory: string) =>
  Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(Layer.provideMerge(Layer.orDie(DurableStore.layer({ directory, snapshotOnClose: false }))))

const get = (url: string, token?: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
    return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() }
  })

/** The exposition's samples by series (`name{labels}`), checking every line's grammar on the way. */
const parse = (text: string): Map<string, number> => {
  const samples = new Map<string, number>()
  const typed = new Set<string>()
  for (const line of text.split("\n")) {
    if (line === "") continue
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line)
    if (comment !== null) {
      if (comment[1] === "TYPE") typed.add(comment[2] ?? "")
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line)
    expect(sample, `not a Prometheus sample line: ${line}`).not.toBeNull()
    const name = sample?.[1] ?? ""
    expect(typed.has(name) || typed.has(name.replace(/_(bucket|sum|count)$/, "")), `no TYPE before ${name}`).toBe(true)
    samples.set(`${name}${sample?.[2] ?? ""}`, Number(sample?.[3]))
  }
  return samples
}

describe("/metrics", () => {
  it.scopedLive("answers operators in Prometheus text with requests, fsyncs and the business as it is", () => {
    const directory = mkdtempSync(join(tmpdir(), "ecoupon-metrics-"))
    return Effect.gen(function* () {
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(directory, { recursive: true, force: true })))
      const server = yield* liveServer(durableStore(directory))
      const auditor = yield* server.issue("operator", "scraper", "auditor")
      const kioskKey = yield* server.issue("kiosk", "ksk_http1")

      expect((yield* get(`${server.baseUrl}/metrics`)).status).toBe(401)
      expect((yield* get(`${server.baseUrl}/metrics`, kioskKey)).status).toBe(403)

      for (let i = 0; i < 3; i++) expect((yield* get(`${server.baseUrl}/healthz`)).status).toBe(200)
      expect((yield* get(`${server.baseUrl}/no/such/path`)).status).toBe(404)
      yield* couponBoughtOverHttp(server, "+821055501111", "metrics")
      const sql = Context.get(server.context, SqlClient.SqlClient)
      yield* sql`INSERT INTO outbox (id, kind, idempotency_key, payload, state, attempts, next_attempt_ms, created_at_ms)
        VALUES ('obx_metrics_dead', 'payout', 'payout:metrics', '{}', 'dead', 8, 0, 0)`.pipe(Effect.orDie)

      const scraped = yield* get(`${server.baseUrl}/metrics`, auditor)
      expect(scraped.status).toBe(200)
      expect(scraped.type).toBe("text/plain; version=0.0.4; charset=utf-8")
      const samples = parse(scraped.text)

      expect(samples.get('ecoupon_http_requests_total{route="health.healthz",status="200"}')).toBe(3)
      expect(samples.get('ecoupon_http_requests_total{route="unmatched",status="404"}')).toBe(1)
      expect(samples.get('ecoupon_http_requests_total{route="metrics.metrics",status="401"}')).toBe(1)
      expect(samples.get('ecoupon_http_requests_total{route="metrics.metrics",status="403"}')).toBe(1)
      expect(samples.get('ecoupon_http_requests_total{route="kiosks.place",status="200"}')).toBe(1)
      // Cumulative buckets: +Inf holds every request of the route, and no bucket holds more than the next.
      const buckets = [...samples.entries()].filter(([series]) => series.startsWith('ecoupon_http_request_duration_seconds_bucket{route="health.healthz"'))
      expect(buckets.length).toBeGreaterThan(5)
      expect(buckets.map(([, count]) => count)).toEqual([...buckets.map(([, count]) => count)].sort((a, b) => a - b))
      expect(samples.get('ecoupon_http_request_duration_seconds_bucket{route="health.healthz",le="+Inf"}')).toBe(3)
      expect(samples.get('ecoupon_http_request_duration_seconds_count{route="health.healthz"}')).toBe(3)

      // The order's transactions were each fsynced before they were acknowledged.
      expect(samples.get("ecoupon_journal_fsync_seconds_count") ?? 0).toBeGreaterThan(0)
      expect(samples.get('ecoupon_journal_fsync_seconds_bucket{le="+Inf"}')).toBe(samples.get("ecoupon_journal_fsync_seconds_count"))

      expect(samples.get("ecoupon_orders_total")).toBe(1)
      expect(samples.get('ecoupon_orders_by_state{state="delivered"}')).toBe(1)
      expect(samples.get("ecoupon_coupons_total")).toBe(1)
      expect(samples.get('ecoupon_coupons_by_state{state="active"}')).toBe(1)
      expect(samples.get("ecoupon_redemptions_total")).toBe(0)
      expect(samples.get('ecoupon_outbox_dead{kind="payout"}')).toBe(1)
      // The order's provider submission and the one-time code's SMS wait: no worker runs in this test.
      expect(samples.get('ecoupon_outbox_pending{kind="sms"}')).toBe(1)
    })
  }, 30_000)
})
