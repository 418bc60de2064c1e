import { Effect, Layer, Option, Redacted } from "effect"
import type { KioskId } from "../../core/domain/ids.js"
import { Kiosks } from "../../core/kiosks.js"
import { makeProblem } from "../http-api/problem.js"
import {
  AdminAuth,
  KioskAuth,
  MerchantAuth,
  OperatorReadAuth,
  type OperatorRole,
  OperatorWriteAuth
} from "../http-api/security.js"
import { type ApiKeyRecord, ApiKeys } from "./credentials/api-keys.js"
import type { MerchantId } from "../../core/domain/ids.js"

/**
 * The security middleware of adapters/http-api/security.ts. 401: no credential, or one that is
 * malformed, unknown, revoked or whose secret is wrong (one answer for all, so a caller learns nothing
 * about which). 403: a good credential of another kind of caller, or an operator role too weak.
 */

const unauthorized = () =>
  makeProblem(401, "credential-refused", "Credential refused", "no valid credential: send `Authorization: Bearer <key>` with the key or token an operator issued you (a revoked one no longer works; ask for a new one)")

const forbidden = (detail: string) => makeProblem(403, "not-allowed", "Not allowed", detail)

const authenticated = (token: Redacted.Redacted<string>) =>
  Effect.flatMap(Effect.serviceFunctions(ApiKeys).authenticate(Redacted.value(token)), Option.match({ onNone: () => Effect.fail(unauthorized()), onSome: Effect.succeed }))

const requireKind = (record: ApiKeyRecord, kind: ApiKeyRecord["kind"], what: string) =>
  record.kind === kind ? Effect.void : Effect.fail(forbidden(`this endpoint is for ${what}; the credential you sent is ${record.kind === "operator" ? "an operator token" : `a ${record.kind} key`}`))

const kioskLayer = Layer.effect(
  KioskAuth,
  Effect.gen(function* () {
    const keys = yield* ApiKeys
    const kiosks = yield* Kiosks
    return {
      bearer: (token) =>
        Effect.gen(function* () {
          const record = yield* authenticated(token).pipe(Effect.provideService(ApiKeys, keys))
          yield* requireKind(record, "kiosk", "kiosks")
          const kioskId = record.subject as KioskId
          // A key outlives nothing: the kiosk it names must exist (the key was issued for it).
          const kiosk = yield* kiosks.get(kioskId).pipe(Effect.mapError(() => unauthorized()))
          return { keyId: record.keyId, kioskId, regionId: kiosk.regionId }
        })
    }
  })
)

const merchantLayer = Layer.effect(
  MerchantAuth,
  Effect.gen(function* () {
    const keys = yield* ApiKeys
    return {
      bearer: (token) =>
        Effect.gen(function* () {
          const record = yield* authenticated(token).pipe(Effect.provideService(ApiKeys, keys))
          yield* requireKind(record, "merchant", "merchants")
          return { keyId: record.keyId, merchantId: record.subject as MerchantId }
        })
    }
  })
)

/** An operator middleware that lets `roles` through. */
const operatorCheck = (roles: ReadonlyArray<OperatorRole>, what: string) =>
  Effect.map(ApiKeys, (keys) => ({
    bearer: (token: Redacted.Redacted<string>) =>
      Effect.gen(function* () {
        const record = yield* authenticated(token).pipe(Effect.provideService(ApiKeys, keys))
        yield* requireKind(record, "operator", "operators")
        const role = record.role ?? "auditor"
        if (!roles.includes(role)) return yield* Effect.fail(forbidden(`${what}; your token's role is ${role}. Ask an admin for a token with the role it needs`))
        return { keyId: record.keyId, name: record.subject, role }
      })
  }))

export const AuthLive = Layer.mergeAll(
  kioskLayer,
  merchantLayer,
  Layer.effect(OperatorReadAuth, operatorCheck(["admin", "operator", "auditor"], "operators only")),
  Layer.effect(OperatorWriteAuth, operatorCheck(["admin", "operator"], "this changes the deployment: it needs an admin or operator token (auditors read only)")),
  Layer.effect(AdminAuth, operatorCheck(["admin"], "credentials are managed by admins only"))
)
