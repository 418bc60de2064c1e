import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "./health-api.js"
import { KiosksApi } from "./kiosks-api.js"
import { MerchantsApi } from "./merchants-api.js"
import { ProvidersApi } from "./providers-api.js"
import { OperatorsApi } from "./operators-api.js"
import { CredentialsApi } from "./credentials-api.js"
import { FleetApi } from "./fleet-api.js"
import { MetricsApi } from "./metrics-api.js"
import { DemoApi } from "./demo-api.js"
import { BadRequest, Conflict, Forbidden, Gone, InternalError, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized, Unavailable, Unprocessable } from "./problem.js"

/**
 * The management server's one schema-first HTTP contract (DESIGN §7): the server implements it
 * (adapters/server), the kiosk agent calls it through `HttpApiClient` (adapters/http-client), and
 * OpenAPI (`/openapi.json`) and the docs (`/docs`) are made from it. A group per caller.
 */
export class EcouponApi extends HttpApi.make("ecoupon")
  .add(HealthApi)
  .add(KiosksApi)
  .add(MerchantsApi)
  .add(ProvidersApi)
  .add(OperatorsApi)
  .add(CredentialsApi)
  .add(FleetApi)
  .add(MetricsApi)
  .add(DemoApi)
  // Every endpoint may answer any problem: a refusal's status depends on what the core refuses.
  .addError(BadRequest)
  .addError(Unauthorized)
  .addError(Forbidden)
  .addError(NotFound)
  .addError(Conflict)
  .addError(Gone)
  .addError(PayloadTooLarge)
  .addError(Unprocessable)
  .addError(TooManyRequests)
  .addError(InternalError)
  .addError(Unavailable)
  .annotate(OpenApi.Title, "ecoupon management server")
  .annotate(OpenApi.Version, "1")
  .annotate(
    OpenApi.Description,
    "Kiosks, merchants, provider servers and operators. Credentials: `Authorization: Bearer <key or token>`; refusals are RFC 9457 problem documents (application/problem+json)."
  )
{}
