import { HttpApiBuilder } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { createServer } from "node:http"
import { Clock, Console, Effect, Layer } from "effect"
import { CouponCode, CouponId } from "../../core/domain/ids.js"
import { Delivery, Placement } from "../../core/domain/order.js"
import { HTTP_DEFAULTS } from "../../adapters/server/http-server.js"
import { requestPipeline } from "../../adapters/server/request-pipeline.js"
import { routeNamer } from "../../adapters/server/route-names.js"
import { FloorApi } from "./serve-floor-api.js"

/**
 * The serve benchmark's floor server, its own process (`node --import tsx serve-floor-server.ts`):
 * the management server's HTTP stack (Node's listener with the same timeouts, HttpApiBuilder, the
 * same request pipeline: request ids, limits, problem documents, Server-Timing) over a group whose
 * two endpoints answer at once from the request alone. Prints "listening on <url>"; SIGTERM or
 * SIGINT stops it.
 */
const COUPON_CODE = CouponCode.make("ABCD-EFGH-JKMN")

const FloorKiosksLive = HttpApiBuilder.group(FloorApi, "kiosks", (handlers) =>
  handlers
    .handle("place", ({ payload }) =>
      Effect.map(Clock.currentTimeMillis, (nowMs) =>
        new Placement({
          orderId: payload.orderId,
          couponId: CouponId.make(`cpn_${payload.orderId.slice(4)}`),
          couponCode: COUPON_CODE,
          merchantId: payload.offerId.replace(/^off_/, "mer_") as Placement["merchantId"],
          offerId: payload.offerId,
          quantity: payload.quantity,
          unitPricePoints: 100,
          amountPoints: 100 * payload.quantity,
          medium: payload.medium,
          placedAtMs: nowMs
        })))
    .handle("deliver", ({ path, payload }) =>
      Effect.map(Clock.currentTimeMillis, (nowMs) =>
        new Delivery({
          orderId: path.orderId,
          couponId: CouponId.make(`cpn_${path.orderId.slice(4)}`),
          couponCode: COUPON_CODE,
          valuePoints: 100,
          medium: payload.medium._tag,
          cardUid: null,
          cardDeadlineMs: null,
          issuedAtMs: nowMs,
          expiresAtMs: nowMs + 30 * 86_400_000
        })))
)

const server = createServer({ requestTimeout: HTTP_DEFAULTS.requestTimeoutMs, headersTimeout: 10_000, keepAliveTimeout: 5_000 })

const FloorServerLive = HttpApiBuilder.serve().pipe(
  Layer.provide(HttpApiBuilder.middleware(requestPipeline({ ...HTTP_DEFAULTS, nameRoute: routeNamer(FloorApi), draining: () => false }))),
  Layer.provide(HttpApiBuilder.api(FloorApi).pipe(Layer.provide(FloorKiosksLive))),
  Layer.provideMerge(NodeHttpServer.layer(() => server, { host: "127.0.0.1", port: 0 }))
)

NodeRuntime.runMain(
  Effect.gen(function* () {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    yield* Console.log(`serve floor: listening on http://127.0.0.1:${port}`)
    return yield* Effect.never
  }).pipe(Effect.provide(FloorServerLive))
)
