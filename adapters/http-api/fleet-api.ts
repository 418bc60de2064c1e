import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { FleetOverview } from "../../core/domain/fleet-overview.js"
import { OperatorReadAuth } from "./security.js"

/**
 * The fleet dashboard's data: the whole fleet at a glance (every kiosk's twin and counts, alerts,
 * outbox, today's business, money by account kind), once or as a stream of server-sent events that
 * carries a new overview whenever it changes. Any operator token, auditors included.
 */
export class FleetApi extends HttpApiGroup.make("fleet")
  .add(HttpApiEndpoint.get("overview", "/").addSuccess(FleetOverview).middleware(OperatorReadAuth))
  .add(
    HttpApiEndpoint.get("events", "/events")
      .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })))
      .middleware(OperatorReadAuth)
      .annotate(
        OpenApi.Description,
        "Server-sent events: `overview` events whose data is the fleet overview (JSON), sent at once and then whenever it changes; a comment line as heartbeat every 15 s"
      )
  )
  .prefix("/v1/ops/fleet")
  .annotate(OpenApi.Description, "Operators: the fleet at a glance, once or live")
{}
