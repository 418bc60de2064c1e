import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { makeProblem } from "../http-api/problem.js"
import { EcouponApi } from "../http-api/api.js"
import { DemoGateways, type DemoGatewaysService } from "./demo-gateways.js"

/**
 * `/v1/demo` (adapters/http-api/demo-api.ts): the demo gateways' controls, behind operator tokens.
 * On a server with real gateways there is nothing to show: every endpoint answers 404
 * `not-demo-gateways`, after the credential is checked like anywhere else.
 */

const notDemo = makeProblem(
  404,
  "not-demo-gateways",
  "Not a demo server",
  "this server runs on real gateways (serve --gateways http); /v1/demo answers only on a server started with --gateways demo"
)

export const DemoHttpLive = HttpApiBuilder.group(EcouponApi, "demo", (handlers) =>
  Effect.gen(function* () {
    const demo = yield* DemoGateways
    const on = <A>(use: (gateways: DemoGatewaysService) => Effect.Effect<A, typeof notDemo>) => (demo === undefined ? Effect.fail(notDemo) : use(demo))
    return handlers
      .handle("inbox", ({ payload }) => on((gateways) => Effect.map(gateways.inbox(payload.phone), (messages) => ({ messages }))))
      .handle("setProviderCatalog", ({ path, payload }) => on((gateways) => gateways.setCatalog(path.merchantId, payload.offers)))
      .handle("providerOrder", ({ path }) =>
        on((gateways) =>
          Effect.flatMap(gateways.order(path.orderId), (record) =>
            record === undefined
              ? Effect.fail(makeProblem(404, "order-not-at-provider", "No provider took this order", `no demo provider server has taken order ${path.orderId} (yet)`))
              : Effect.succeed({ orderId: path.orderId, ...record })
          )
        )
      )
  })
)
