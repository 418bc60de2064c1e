import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Effect, type Scope } from "effect"
import { AuditReport } from "../core/domain/audit.js"
import type { MerchantId } from "../core/domain/ids.js"
import { EcouponApi } from "../adapters/http-api/api.js"
import { DELIVERY_HEADER, SIGNATURE_HEADER, signatureOf, TIMESTAMP_HEADER } from "../adapters/server/credentials/webhook-signature.js"
import type { Office, Refusal } from "./office.js"

/**
 * The office over HTTP, as the people and machines around the kiosks reach a real server: each
 * merchant's till with its own key (`/v1/merchant`), an operator with an operator token (`/v1/ops`),
 * each merchant's provider server signing its catalog pushes with the merchant's secret
 * (`/v1/providers`). A refusal is the problem document's type turned back into the core's error tag
 * (the server names problems after them, adapters/server/problems.ts); anything else the server or
 * the connection answers (a 5xx, a refused credential, a reset) is a defect of the run, not an answer.
 */

export interface HttpOfficeCredentials {
  readonly baseUrl: string
  /** An admin's or an operator's token (`eo_...`). */
  readonly operatorToken: string
  /** Each merchant's key (`em_...`) and webhook secret. */
  readonly merchants: ReadonlyMap<MerchantId, { readonly key: string; readonly secret: string }>
}

const PROBLEM_PREFIX = "urn:ecoupon:problem:"

/** `coupon-balance-too-low` → `CouponBalanceTooLow`. */
const tagOfSlug = (slug: string) => slug.split("-").map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join("")

const isProblem = (error: unknown): error is { readonly type: string; readonly status: number; readonly detail: string } =>
  typeof error === "object" && error !== null && "type" in error && "status" in error && typeof (error as { readonly type: unknown }).type === "string"

/** A domain refusal as its tag; every other failure ends the run as a defect that says what the server answered. */
const refusals = <A, E>(what: string, effect: Effect.Effect<A, E>): Effect.Effect<A, Refusal> =>
  Effect.catchAll(effect, (error) =>
    isProblem(error) && error.status < 500 && error.status !== 401 && error.status !== 403 && error.type.startsWith(PROBLEM_PREFIX)
      ? Effect.fail({ _tag: tagOfSlug(error.type.slice(PROBLEM_PREFIX.length)) })
      : Effect.dieMessage(`${what}: the server answered ${isProblem(error) ? `${error.status} ${error.type}: ${error.detail}` : String(error)}`)
  )

const clientWith = (baseUrl: string, credential: string) =>
  HttpApiClient.make(EcouponApi, { baseUrl, transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(credential)) })

/** The office over the API at `credentials.baseUrl`, on the HttpClient the caller provides. */
export const makeHttpOffice = (credentials: HttpOfficeCredentials): Effect.Effect<Office, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const operator = yield* clientWith(credentials.baseUrl, credentials.operatorToken)
    const tills = new Map<MerchantId, Effect.Effect.Success<ReturnType<typeof clientWith>>>()
    for (const [merchantId, { key }] of credentials.merchants) tills.set(merchantId, yield* clientWith(credentials.baseUrl, key))
    const tillOf = (merchantId: MerchantId) => {
      const till = tills.get(merchantId)
      return till === undefined ? Effect.dieMessage(`the runner holds no key of merchant ${merchantId}`) : Effect.succeed(till)
    }
    let deliveries = 0
    const office: Office = {
      redeem: (request) =>
        Effect.flatMap(tillOf(request.merchantId), (till) =>
          refusals("redeem", till.merchants.redeem({ payload: { redemptionId: request.redemptionId, couponCode: request.couponCode, amount: request.amount } }))
        ),
      rollback: (redemptionId, merchantId) =>
        Effect.flatMap(tillOf(merchantId), (till) => Effect.asVoid(refusals("roll back", till.merchants.rollback({ path: { redemptionId } })))),
      grant: (userId, points, transferId) => Effect.asVoid(refusals("grant", operator.operators.grant({ payload: { userId, points, transferId } }))),
      settle: (periodEndMs) => Effect.orDie(refusals("settle", operator.operators.runSettlement({ payload: { periodEndMs } }))),
      pushCatalog: (merchantId, offers) =>
        Effect.gen(function* () {
          const secret = credentials.merchants.get(merchantId)?.secret
          if (secret === undefined) return yield* Effect.dieMessage(`the runner holds no webhook secret of merchant ${merchantId}`)
          const body = JSON.stringify({ offers, replace: true })
          const timestamp = String(Math.floor((yield* Clock.currentTimeMillis) / 1000))
          deliveries += 1
          const request = HttpClientRequest.post(`${credentials.baseUrl}/v1/providers/${merchantId}/catalog`).pipe(
            HttpClientRequest.setHeaders({
              [TIMESTAMP_HEADER]: timestamp,
              [DELIVERY_HEADER]: `scenario.${merchantId}.${timestamp}.${deliveries}`,
              [SIGNATURE_HEADER]: signatureOf(secret, timestamp, body)
            }),
            HttpClientRequest.bodyText(body, "application/json")
          )
          const response = yield* Effect.orDie(http.execute(request))
          if (response.status === 200) return
          const answer: unknown = yield* Effect.orDie(response.json)
          return yield* refusals("push the catalog", Effect.fail(answer))
        }),
      audit: Effect.map(Effect.orDie(refusals("audit", operator.operators.audit())), (answer) => new AuditReport({ checkedAtMs: answer.checkedAtMs, checks: answer.checks }))
    }
    return office
  })
