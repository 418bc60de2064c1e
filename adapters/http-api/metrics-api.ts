import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { OperatorReadAuth } from "./security.js"

/**
 * `/metrics` in the Prometheus text format, for any operator token (auditors included: a read-only
 * auditor token is what a Prometheus scrape job should carry, as `authorization.credentials`). Not
 * open: the figures tell an outsider the business's volume and which routes are slow.
 */
export class MetricsApi extends HttpApiGroup.make("metrics")
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/plain; version=0.0.4; charset=utf-8" })))
      .middleware(OperatorReadAuth)
  )
  .annotate(
    OpenApi.Description,
    "Prometheus metrics: requests and latency per route, the journal's fsync latency (embedded store), outbox depth and dead letters, orders, coupons and redemptions. Any operator token; give a scrape job an auditor's"
  )
{}
