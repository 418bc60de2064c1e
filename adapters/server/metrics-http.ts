import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { EcouponApi } from "../http-api/api.js"
import { ServerMetrics } from "./metrics/server-metrics.js"

/** `/metrics`: the server's registry rendered as Prometheus text (metrics/server-metrics.ts). */
export const MetricsHttpLive = HttpApiBuilder.group(EcouponApi, "metrics", (handlers) =>
  Effect.map(ServerMetrics, (metrics) => handlers.handle("metrics", () => metrics.render))
)
