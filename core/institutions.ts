import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option, Schema } from "effect"
import { checkName, InvalidRequest } from "./domain/invalid-request.js"
import { InstitutionId } from "./domain/ids.js"
import {
  Institution,
  InstitutionConflict,
  institutionFromRow,
  InstitutionNotFound,
  InstitutionRow
} from "./domain/institution.js"
import { Account } from "./domain/ledger.js"
import { newId } from "./id-generator.js"
import { Ledger } from "./ledger.js"
import { traced } from "./traced.js"

export interface RegisterInstitution {
  /** The operator's own id, to make the call replayable; a fresh one is made when absent. */
  readonly id?: InstitutionId | undefined
  readonly name: string
}

export const INSTITUTION_LIST_MAX = 1000

/**
 * Designated institutions (DESIGN claims 10, 11). Registering one opens its ledger account
 * `institution:<id>` in the same transaction, so an institution never exists without somewhere for
 * the points to go. Registering the same id and name again returns the first result.
 */
export class Institutions extends Effect.Service<Institutions>()("ecoupon/Institutions", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* Ledger
    const decode = Schema.decodeUnknown(InstitutionRow)
    const decodeRows = Schema.decodeUnknown(Schema.Array(InstitutionRow))

    const find = (id: InstitutionId) =>
      sql`SELECT id, name, created_at_ms FROM institutions WHERE id = ${id}`.pipe(
        Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeed(Option.none()) : Effect.map(decode(rows[0]), (row) => Option.some(institutionFromRow(row))))),
        Effect.orDie
      )

    const register = (request: RegisterInstitution): Effect.Effect<Institution, InvalidRequest | InstitutionConflict> =>
      Effect.gen(function* () {
        const name = checkName("institution", request.name)
        if (name instanceof InvalidRequest) return yield* name
        const id = request.id ?? InstitutionId.make(yield* newId("ins"))
        const now = yield* Clock.currentTimeMillis
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            const inserted = yield* sql`
              INSERT INTO institutions (id, name, created_at_ms) VALUES (${id}, ${name}, ${now})
              ON CONFLICT (id) DO NOTHING
              RETURNING id`.pipe(Effect.orDie)
            if (inserted.length === 0) {
              const existing = yield* find(id).pipe(Effect.map(Option.getOrThrowWith(() => new Error(`institution ${id} conflicted but is not there`))))
              if (existing.name !== name) return yield* new InstitutionConflict({ institutionId: id, existingName: existing.name })
              return existing
            }
            // A fresh id cannot have an account of another kind, so this cannot fail.
            yield* ledger.openAccount(Account.institution(id), "institution").pipe(Effect.orDie)
            return new Institution({ id, name, createdAtMs: now })
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
      }).pipe(traced("Institutions.register"))

    const get = (id: InstitutionId): Effect.Effect<Institution, InstitutionNotFound> =>
      find(id).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new InstitutionNotFound({ institutionId: id })), onSome: Effect.succeed })),
        traced("Institutions.get")
      )

    const list = (): Effect.Effect<ReadonlyArray<Institution>> =>
      sql`SELECT id, name, created_at_ms FROM institutions ORDER BY id LIMIT ${INSTITUTION_LIST_MAX}`.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rows) => rows.map(institutionFromRow)),
        Effect.orDie,
        traced("Institutions.list")
      )

    return { register, get, list } as const
  }),
  dependencies: [Ledger.Default]
}) {}
