import { HttpApi } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { EcouponApi } from "../http-api/api.js"
import { testStores } from "../store/testing.js"
import { ApiKeys } from "./credentials/api-keys.js"
import { deployment, liveServer } from "./testing.js"

/**
 * DESIGN §7, "every endpoint refuses what it should": every endpoint of the API that takes a
 * credential, asked with no credential, a malformed one, a good key id with a wrong secret, a
 * revoked credential, a credential of another kind of caller, and (operators) a role too weak, is
 * refused with 401 or 403 as a problem document, and the store is as it was.
 */
type Caller = "kiosk" | "merchant" | "operatorRead" | "operatorWrite" | "admin"

interface Route {
  readonly name: string
  readonly method: string
  readonly path: string
  readonly caller: Caller
}

const callerOf = (middleware: ReadonlySet<{ readonly key: string }>): Caller | undefined => {
  const keys = [...middleware].map((tag) => tag.key)
  if (keys.includes("KioskAuth")) return "kiosk"
  if (keys.includes("MerchantAuth")) return "merchant"
  if (keys.includes("OperatorReadAuth")) return "operatorRead"
  if (keys.includes("OperatorWriteAuth")) return "operatorWrite"
  if (keys.includes("AdminAuth")) return "admin"
  return undefined
}

/** Path parameters filled with ids of the deployment (so a route that got through would act on something real). */
const fill = (path: string) =>
  path
    .replace(":kioskId", deployment.kiosk1)
    .replace(":regionId", deployment.region1)
    .replace(":merchantId", deployment.merchant)
    .replace(":orderId", "ord_matrix")
    .replace(":challengeId", "otp_matrix")
    .replace(":sessionId", "ses_matrix")
    .replace(":code", "7K3M-Q9RT-2XWB")
    .replace(":redemptionId", "rdm_matrix")
    .replace(":settlementId", "stl_matrix")
    .replace(":keyId", "0000000000000000")
    .replace(":id", "obx_matrix")

const routes: Array<Route> = []
HttpApi.reflect(EcouponApi as unknown as HttpApi.HttpApi.AnyWithProps, {
  onGroup: () => {},
  onEndpoint: ({ endpoint, group, middleware }) => {
    const caller = callerOf(middleware as ReadonlySet<{ readonly key: string }>)
    if (caller !== undefined) routes.push({ name: `${group.identifier}.${endpoint.name}`, method: endpoint.method, path: fill(endpoint.path), caller })
  }
})

/** What the store holds, as far as any of these endpoints could change it. */
const fingerprint = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const parts: Array<unknown> = []
  for (const table of ["institutions", "regions", "kiosks", "orders", "coupons", "redemptions", "settlements", "outbox", "ledger_transfers", "users", "otp_challenges", "sessions", "merchant_secrets", "webhook_deliveries", "card_stock_movements", "offers", "catalog_changes", "cards", "settlement_lines"]) {
    parts.push([table, Number((yield* sql`SELECT COUNT(*) AS n FROM ${sql(table)}`)[0]?.["n"])])
  }
  parts.push(yield* sql`SELECT id, status FROM merchants ORDER BY id`)
  parts.push(yield* sql`SELECT key_id, revoked_at_ms FROM api_keys ORDER BY key_id`)
  parts.push(yield* sql`SELECT kiosk_id, desired_version, reported_version FROM kiosk_twins ORDER BY kiosk_id`)
  return JSON.stringify(parts)
})

for (const store of testStores) {
  describe(`the auth matrix on ${store.name}`, () => {
    it.scopedLive("refuses every credentialed endpoint every wrong credential, writing nothing", () =>
      Effect.gen(function* () {
        const server = yield* liveServer(store.layer)
        const kioskKey = yield* server.issue("kiosk", deployment.kiosk1)
        const merchantKey = yield* server.issue("merchant", deployment.merchant)
        const admin = yield* server.issue("operator", "root", "admin")
        const operator = yield* server.issue("operator", "ops", "operator")
        const auditor = yield* server.issue("operator", "eyes", "auditor")
        const revoke = (credential: string) =>
          Effect.gen(function* () {
            const revoked = yield* Effect.flatMap(ApiKeys, (keys) => keys.issue(credential.startsWith("ek_") ? "kiosk" : credential.startsWith("em_") ? "merchant" : "operator", credential.startsWith("ek_") ? deployment.kiosk1 : credential.startsWith("em_") ? deployment.merchant : "gone", credential.startsWith("eo_") ? "admin" : null))
            yield* Effect.flatMap(ApiKeys, (keys) => keys.revoke(revoked.record.keyId))
            return revoked.credential
          }).pipe(Effect.provide(server.context))
        const own: Record<Caller, string> = { kiosk: kioskKey, merchant: merchantKey, operatorRead: auditor, operatorWrite: operator, admin }
        const revokedOf: Record<Caller, string> = {
          kiosk: yield* revoke(kioskKey),
          merchant: yield* revoke(merchantKey),
          operatorRead: yield* revoke(admin),
          operatorWrite: yield* revoke(admin),
          admin: yield* revoke(admin)
        }
        const otherKind: Record<Caller, string> = { kiosk: merchantKey, merchant: admin, operatorRead: kioskKey, operatorWrite: merchantKey, admin: kioskKey }
        const weakerRole: Partial<Record<Caller, string>> = { operatorWrite: auditor, admin: operator }
        const before = yield* fingerprint.pipe(Effect.provide(server.context))

        const tried: Array<string> = []
        for (const route of routes) {
          const good = own[route.caller]
          const wrongSecret = `${good.slice(0, good.indexOf(".") + 1)}${"A".repeat(43)}`
          const cases: Array<readonly [string, string | undefined, number]> = [
            ["none", undefined, 401],
            ["malformed", "Bearer not-a-key", 401],
            ["wrong secret", `Bearer ${wrongSecret}`, 401],
            ["revoked", `Bearer ${revokedOf[route.caller]}`, 401],
            ["other kind", `Bearer ${otherKind[route.caller]}`, 403]
          ]
          const weaker = weakerRole[route.caller]
          if (weaker !== undefined) cases.push(["weaker role", `Bearer ${weaker}`, 403])
          for (const [label, authorization, status] of cases) {
            const response = yield* Effect.promise(() =>
              fetch(`${server.baseUrl}${route.path}`, {
                method: route.method,
                headers: { "content-type": "application/json", ...(authorization !== undefined ? { authorization } : {}) },
                ...(route.method === "GET" ? {} : { body: "{}" })
              })
            )
            const body = (yield* Effect.promise(() => response.json())) as { readonly status?: number; readonly type?: string }
            tried.push(`${route.name} ${label} -> ${response.status} ${response.headers.get("content-type")}`)
            expect([route.name, label, response.status, response.headers.get("content-type"), body.status]).toEqual([route.name, label, status, "application/problem+json", status])
          }
        }
        expect(routes.length).toBeGreaterThan(35)
        expect(tried.length).toBeGreaterThan(200)
        expect(yield* fingerprint.pipe(Effect.provide(server.context))).toEqual(before)
      }))
  })
}
