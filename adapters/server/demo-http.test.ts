import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { sqljsTestLayer } from "../store/testing.js"
import { couponBoughtOverHttp, deployment, liveServer } from "./testing.js"

/**
 * `/v1/demo` on a server with real gateways (no `DemoGateways` given): 404 `not-demo-gateways` after
 * the credential is checked; and the operators' reads the scenario runner's `--server` layer compares
 * with its model: ledger balances and a region's catalog with its stock. (On the demo gateways, the
 * scenarios against `ecoupon serve --gateways demo`: scenarios/layer-http-remote.test.ts; every
 * endpoint's 401/403: auth-matrix.test.ts.)
 */

const post = (url: string, token: string, body: unknown) =>
  Effect.promise(() => fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) }))

describe("the demo gateways' controls and the operators' reads", () => {
  it.scopedLive("answers 404 not-demo-gateways off the demo gateways, and shows balances and stock to operators", () =>
    Effect.gen(function* () {
      const server = yield* liveServer(sqljsTestLayer)
      const auditor = yield* server.issue("operator", "reader", "auditor")
      const inbox = yield* post(`${server.baseUrl}/v1/demo/sms/inbox`, auditor, { phone: "+821012345678" })
      const problem = (yield* Effect.promise(() => inbox.json())) as { readonly type: string; readonly detail: string }
      expect([inbox.status, problem.type]).toEqual([404, "urn:ecoupon:problem:not-demo-gateways"])
      expect(problem.detail).toContain("--gateways demo")
      const anonymous = yield* Effect.promise(() => fetch(`${server.baseUrl}/v1/demo/sms/inbox`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ phone: "+821012345678" }) }))
      expect(anonymous.status).toBe(401)

      const delivery = yield* couponBoughtOverHttp(server, "+821055512345", "demo_reads")
      const balances = yield* post(`${server.baseUrl}/v1/ops/balances`, auditor, { accounts: [`coupon:${delivery.couponId}`, "institution:ins_nobody"] })
      expect(balances.status).toBe(200)
      expect(yield* Effect.promise(() => balances.json())).toEqual([{ account: `coupon:${delivery.couponId}`, posted: deployment.offerPricePoints, pending: 0, available: deployment.offerPricePoints }])
      const malformed = yield* post(`${server.baseUrl}/v1/ops/balances`, auditor, { accounts: ["somebody's phone"] })
      expect(malformed.status).toBe(400)

      const catalog = yield* Effect.promise(() => fetch(`${server.baseUrl}/v1/ops/regions/${deployment.region1}/catalog`, { headers: { authorization: `Bearer ${auditor}` } }))
      const view = (yield* Effect.promise(() => catalog.json())) as { readonly offers: ReadonlyArray<{ readonly id: string; readonly stock: number }> }
      expect(view.offers.map((offer) => [offer.id, offer.stock])).toEqual([[deployment.offer, deployment.offerStock - 1]])
    }), 60_000)
})
