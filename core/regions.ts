import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option, Schema } from "effect"
import { InstitutionId, RegionId } from "./domain/ids.js"
import { InstitutionNotFound } from "./domain/institution.js"
import { checkName, InvalidRequest } from "./domain/invalid-request.js"
import { Region, RegionConflict, regionFromRow, RegionNotFound, RegionRow } from "./domain/region.js"
import { newId } from "./id-generator.js"
import { traced } from "./traced.js"

export interface RegisterRegion {
  /** The operator's own id, to make the call replayable; a fresh one is made when absent. */
  readonly id?: RegionId | undefined
  readonly name: string
  /** Receives the unspent balances of cards and coupons sold in the region. */
  readonly institutionId: InstitutionId
}

export const REGION_LIST_MAX = 1000

/**
 * Regions: each names its designated institution and carries the catalog version its kiosks follow
 * (bumped by the catalog service, never here). Registering the same id and body again returns the
 * first result.
 */
export class Regions extends Effect.Service<Regions>()("ecoupon/Regions", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const decode = Schema.decodeUnknown(RegionRow)
    const decodeRows = Schema.decodeUnknown(Schema.Array(RegionRow))

    const find = (id: RegionId) =>
      sql`SELECT id, name, institution_id, catalog_version, created_at_ms FROM regions WHERE id = ${id}`.pipe(
        Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeed(Option.none()) : Effect.map(decode(rows[0]), (row) => Option.some(regionFromRow(row))))),
        Effect.orDie
      )

    const register = (request: RegisterRegion): Effect.Effect<Region, InvalidRequest | InstitutionNotFound | RegionConflict> =>
      Effect.gen(function* () {
        const name = checkName("region", request.name)
        if (name instanceof InvalidRequest) return yield* name
        const { institutionId } = request
        const id = request.id ?? RegionId.make(yield* newId("reg"))
        const now = yield* Clock.currentTimeMillis
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            const institution = yield* sql`SELECT id FROM institutions WHERE id = ${institutionId}`.pipe(Effect.orDie)
            if (institution.length === 0) return yield* new InstitutionNotFound({ institutionId })
            const inserted = yield* sql`
              INSERT INTO regions (id, name, institution_id, catalog_version, created_at_ms)
              VALUES (${id}, ${name}, ${institutionId}, 0, ${now})
              ON CONFLICT (id) DO NOTHING
              RETURNING id`.pipe(Effect.orDie)
            if (inserted.length > 0) return new Region({ id, name, institutionId, catalogVersion: 0, createdAtMs: now })
            const existing = yield* find(id).pipe(Effect.map(Option.getOrThrowWith(() => new Error(`region ${id} conflicted but is not there`))))
            if (existing.name !== name || existing.institutionId !== institutionId) {
              return yield* new RegionConflict({ regionId: id, existingName: existing.name, existingInstitutionId: existing.institutionId })
            }
            return existing
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
      }).pipe(traced("Regions.register"))

    const get = (id: RegionId): Effect.Effect<Region, RegionNotFound> =>
      find(id).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new RegionNotFound({ regionId: id })), onSome: Effect.succeed })),
        traced("Regions.get")
      )

    const list = (): Effect.Effect<ReadonlyArray<Region>> =>
      sql`SELECT id, name, institution_id, catalog_version, created_at_ms FROM regions ORDER BY id LIMIT ${REGION_LIST_MAX}`.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rows) => rows.map(regionFromRow)),
        Effect.orDie,
        traced("Regions.list")
      )

    return { register, get, list } as const
  })
}) {}
