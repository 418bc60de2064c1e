import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/**
 * RFC 9457 problem documents: every refusal the API gives, in one shape. `type` is a stable URN per
 * refusal (`urn:ecoupon:problem:<slug>`; a URN because the deployment's own host is not known when the
 * contract is written), `title` names the refusal, `detail` says what happened and what to do.
 * Extension members: `reason` (the kiosk-facing refusal, see core/ports/kiosk-backend.ts),
 * `currentCatalogVersion` (with `catalog-changed`), `requestId` (every problem the server answers).
 *
 * One schema per status: the typed client picks the error schema by the response's status, and the
 * literal `status` member keeps the union of them unambiguous when the server encodes a failure.
 */
export const problemTypeOf = (slug: string): string => `urn:ecoupon:problem:${slug}`

export const PROBLEM_CONTENT_TYPE = "application/problem+json"

const problem = <S extends number>(status: S, identifier: string, description: string) => {
  const document = Schema.Struct({
    type: Schema.String,
    title: Schema.String,
    status: Schema.Literal(status),
    detail: Schema.String,
    reason: Schema.optional(Schema.String),
    currentCatalogVersion: Schema.optional(Schema.Int),
    requestId: Schema.optional(Schema.String)
  }).annotations(HttpApiSchema.annotations({ identifier, description, status }))
  return HttpApiSchema.withEncoding(document, { kind: "Json", contentType: PROBLEM_CONTENT_TYPE })
}

export const BadRequest = problem(400, "BadRequestProblem", "The request does not read as one this endpoint takes")
export const Unauthorized = problem(401, "UnauthorizedProblem", "No credential, or one the server does not accept")
export const Forbidden = problem(403, "ForbiddenProblem", "The credential is good but may not do this")
export const NotFound = problem(404, "NotFoundProblem", "Nothing by that id or code, for this caller")
export const Conflict = problem(409, "ConflictProblem", "The request conflicts with the state of what it names")
export const Gone = problem(410, "GoneProblem", "What the request names has expired or was used")
export const PayloadTooLarge = problem(413, "PayloadTooLargeProblem", "The body is over the server's limit")
export const Unprocessable = problem(422, "UnprocessableProblem", "Understood, and refused by the rules")
export const TooManyRequests = problem(429, "TooManyRequestsProblem", "Too many attempts; wait before trying again")
export const InternalError = problem(500, "InternalErrorProblem", "The server failed; the request id helps the operator find out why")
export const Unavailable = problem(503, "UnavailableProblem", "The server is not ready (starting, stopping, or its store is unavailable)")

export type Problem =
  | typeof BadRequest.Type
  | typeof Unauthorized.Type
  | typeof Forbidden.Type
  | typeof NotFound.Type
  | typeof Conflict.Type
  | typeof Gone.Type
  | typeof PayloadTooLarge.Type
  | typeof Unprocessable.Type
  | typeof TooManyRequests.Type
  | typeof InternalError.Type
  | typeof Unavailable.Type

export type ProblemStatus = Problem["status"]

/** A problem document with the given status; the caller chooses the slug and says what to do. */
export const makeProblem = <S extends ProblemStatus>(
  status: S,
  slug: string,
  title: string,
  detail: string,
  extra: { readonly reason?: string; readonly currentCatalogVersion?: number; readonly requestId?: string } = {}
): Extract<Problem, { readonly status: S }> =>
  // The object matches the member of the union whose `status` is S: the cast names that member.
  ({ type: problemTypeOf(slug), title, status, detail, ...extra }) as Extract<Problem, { readonly status: S }>
