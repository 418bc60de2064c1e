import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Unavailable } from "./problem.js"

/** Liveness and readiness, open to anyone (a load balancer asks without credentials). */
export const Health = Schema.Struct({ status: Schema.Literal("ok") })
export const Readiness = Schema.Struct({
  status: Schema.Literal("ready"),
  store: Schema.String,
  migrationsApplied: Schema.Int,
  migrationsKnown: Schema.Int
})

export class HealthApi extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Health))
  .add(HttpApiEndpoint.get("readyz", "/readyz").addSuccess(Readiness).addError(Unavailable))
  .annotate(OpenApi.Description, "Liveness (the process answers) and readiness (the store is open and its schema current)")
{}
