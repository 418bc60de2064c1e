import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option, Schema } from "effect"
import { DbInt } from "../../../core/domain/points.js"
import { firstRow } from "../../../core/rows.js"
import { OperatorRole } from "../../http-api/security.js"
import { type CredentialKind, newCredential, parseCredential, secretMatches } from "./api-key-format.js"

/**
 * Kiosk keys, merchant keys and operator tokens (table `api_keys`, core/migrations/0010). Issued with
 * the secret shown once; only its SHA-256 is kept. Several keys of one subject may be active at once
 * (issue a new one, move the kiosk over, revoke the old one); `rotate` issues a new one and revokes
 * every other of the subject in the same transaction. Revocation is immediate: nothing is cached.
 */

export const ApiKeyKind = Schema.Literal("kiosk", "merchant", "operator")

export class ApiKeyRecord extends Schema.Class<ApiKeyRecord>("ApiKeyRecord")({
  keyId: Schema.String,
  kind: ApiKeyKind,
  /** The kiosk's id, the merchant's id, or the operator's name. */
  subject: Schema.String,
  role: Schema.NullOr(OperatorRole),
  createdAtMs: Schema.Int,
  revokedAtMs: Schema.NullOr(Schema.Int)
}) {}

const Row = Schema.Struct({
  key_id: Schema.String,
  kind: ApiKeyKind,
  subject: Schema.String,
  role: Schema.NullOr(OperatorRole),
  secret_sha256: Schema.String,
  created_at_ms: DbInt,
  revoked_at_ms: Schema.NullOr(DbInt)
})
type Row = typeof Row.Type

const recordOf = (row: Row) =>
  new ApiKeyRecord({ keyId: row.key_id, kind: row.kind, subject: row.subject, role: row.role, createdAtMs: row.created_at_ms, revokedAtMs: row.revoked_at_ms })

export interface IssuedKey {
  readonly record: ApiKeyRecord
  /** The credential itself: shown to the caller once, never stored. */
  readonly credential: string
}

export class ApiKeyNotFound extends Schema.TaggedError<ApiKeyNotFound>()("ApiKeyNotFound", { keyId: Schema.String }) {
  override get message() {
    return `no key ${this.keyId.slice(0, 40)}; list the keys to find its id`
  }
}

export const API_KEY_LIST_MAX = 1000

export class ApiKeys extends Effect.Service<ApiKeys>()("ecoupon/server/ApiKeys", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const first = firstRow(Row)
    const decodeRows = Schema.decodeUnknown(Schema.Array(Row))

    const insert = (kind: CredentialKind, subject: string, role: OperatorRole | null, nowMs: number) =>
      Effect.gen(function* () {
        const made = newCredential(kind)
        yield* sql`INSERT INTO api_keys (key_id, kind, subject, role, secret_sha256, created_at_ms, revoked_at_ms)
          VALUES (${made.keyId}, ${kind}, ${subject}, ${role}, ${made.secretSha256}, ${nowMs}, ${null})`.pipe(Effect.orDie)
        const record = new ApiKeyRecord({ keyId: made.keyId, kind, subject, role, createdAtMs: nowMs, revokedAtMs: null })
        return { record, credential: made.credential } satisfies IssuedKey
      })

    const issue = (kind: CredentialKind, subject: string, role: OperatorRole | null = null): Effect.Effect<IssuedKey> =>
      Effect.flatMap(Clock.currentTimeMillis, (nowMs) => insert(kind, subject, role, nowMs)).pipe(Effect.withSpan("ApiKeys.issue"))

    /** A new key for the subject; every other active key of it is revoked in the same transaction. */
    const rotate = (kind: CredentialKind, subject: string, role: OperatorRole | null = null): Effect.Effect<IssuedKey> =>
      Effect.gen(function* () {
        const nowMs = yield* Clock.currentTimeMillis
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`UPDATE api_keys SET revoked_at_ms = ${nowMs} WHERE kind = ${kind} AND subject = ${subject} AND revoked_at_ms IS NULL`.pipe(Effect.orDie)
            return yield* insert(kind, subject, role, nowMs)
          })
        ).pipe(Effect.orDie)
      }).pipe(Effect.withSpan("ApiKeys.rotate"))

    const get = (keyId: string): Effect.Effect<ApiKeyRecord, ApiKeyNotFound> =>
      sql`SELECT * FROM api_keys WHERE key_id = ${keyId}`.pipe(
        Effect.orDie,
        Effect.flatMap(first),
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new ApiKeyNotFound({ keyId })), onSome: (row) => Effect.succeed(recordOf(row)) }))
      )

    /** Revokes a key; revoking a revoked key answers it as it is. */
    const revoke = (keyId: string): Effect.Effect<ApiKeyRecord, ApiKeyNotFound> =>
      Effect.gen(function* () {
        const nowMs = yield* Clock.currentTimeMillis
        yield* sql`UPDATE api_keys SET revoked_at_ms = ${nowMs} WHERE key_id = ${keyId} AND revoked_at_ms IS NULL`.pipe(Effect.orDie)
        return yield* get(keyId)
      }).pipe(Effect.withSpan("ApiKeys.revoke"))

    /** The active key a credential names, if the credential is well formed, known, unrevoked and its secret matches. */
    const authenticate = (credential: string): Effect.Effect<Option.Option<ApiKeyRecord>> =>
      Effect.gen(function* () {
        const parsed = parseCredential(credential)
        if (parsed === undefined) return Option.none()
        const row = yield* sql`SELECT * FROM api_keys WHERE key_id = ${parsed.keyId}`.pipe(Effect.orDie, Effect.flatMap(first))
        if (Option.isNone(row)) return Option.none()
        const stored = row.value
        // The secret is checked first and always, so a revoked key and a wrong secret take the same time.
        const matches = secretMatches(parsed.secret, stored.secret_sha256)
        if (!matches || stored.kind !== parsed.kind || stored.revoked_at_ms !== null) return Option.none()
        return Option.some(recordOf(stored))
      }).pipe(Effect.withSpan("ApiKeys.authenticate"))

    const list = (filter: { readonly kind?: CredentialKind; readonly subject?: string } = {}): Effect.Effect<ReadonlyArray<ApiKeyRecord>> => {
      const clauses = [
        ...(filter.kind !== undefined ? [sql`kind = ${filter.kind}`] : []),
        ...(filter.subject !== undefined ? [sql`subject = ${filter.subject}`] : [])
      ]
      return sql`SELECT * FROM api_keys WHERE ${sql.and(clauses)}
        ORDER BY created_at_ms, key_id LIMIT ${API_KEY_LIST_MAX}`.pipe(Effect.orDie, Effect.flatMap(decodeRows), Effect.orDie, Effect.map((rows) => rows.map(recordOf)))
    }

    /** Whether any admin token is active: a store without one gets a bootstrap token on `serve`. */
    const hasActiveAdmin: Effect.Effect<boolean> = sql`SELECT COUNT(*) AS n FROM api_keys WHERE kind = 'operator' AND role = 'admin' AND revoked_at_ms IS NULL`.pipe(
      Effect.orDie,
      Effect.map((rows) => Number(rows[0]?.["n"] ?? 0) > 0)
    )

    return { issue, rotate, revoke, get, authenticate, list, hasActiveAdmin } as const
  })
}) {}
