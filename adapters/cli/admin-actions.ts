import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option, Schema } from "effect"
import { Catalog } from "../../core/catalog.js"
import type { InstitutionId, KioskId, MerchantId, RegionId, TransferId, UserId } from "../../core/domain/ids.js"
import type { StockMovementId } from "../../core/domain/kiosk.js"
import { Institutions } from "../../core/institutions.js"
import { Kiosks } from "../../core/kiosks.js"
import { Ledger } from "../../core/ledger.js"
import { Merchants } from "../../core/merchants.js"
import { migrations } from "../../core/migrations/index.js"
import { Regions } from "../../core/regions.js"
import { Users } from "../../core/users.js"
import { migrationsTable, runMigrations } from "../store/migrate.js"

/**
 * What `ecoupon admin` does, one function per subcommand, each returning the line it prints. Kept
 * apart from the command-line wiring so that tests run them against a real database directly.
 */

export type AdminServices = Institutions | Regions | Merchants | Catalog | Kiosks | Users | Ledger

/** The core services the admin commands use, over whatever `SqlClient` the store gives. */
export const adminServices: Layer.Layer<AdminServices, never, SqlClient.SqlClient> = Layer.mergeAll(
  Merchants.Default,
  Institutions.Default,
  Regions.Default,
  Kiosks.Default,
  Users.Default
).pipe(Layer.provideMerge(Layer.mergeAll(Catalog.Default, Ledger.Default)))

/** A refusal the operator can act on; the message says what to do. */
export class AdminRefusal extends Schema.TaggedError<AdminRefusal>()("AdminRefusal", { message: Schema.String }) {}

/** Creates the schema, or says it is already there. */
export const init = (where: string): Effect.Effect<string, AdminRefusal, SqlClient.SqlClient> =>
  runMigrations().pipe(
    Effect.map((ran) =>
      ran.length === 0
        ? `${where}: already initialised, schema up to date`
        : `${where}: initialised (ran ${ran.map(([id, name]) => `${String(id).padStart(4, "0")}_${name}`).join(", ")})`
    ),
    Effect.mapError((error) => new AdminRefusal({ message: `${where}: could not create the schema: ${error.message}` }))
  )

/**
 * Refuses to work on a database without the current schema, rather than failing on a missing table
 * halfway through.
 */
export const requireSchema = (where: string): Effect.Effect<void, AdminRefusal, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const applied = yield* sql`SELECT COUNT(*) AS n FROM ${sql(migrationsTable)}`.pipe(
      Effect.map((rows) => Number(rows[0]?.["n"] ?? 0)),
      Effect.orElseSucceed(() => 0)
    )
    const known = Object.keys(migrations).length
    if (applied === 0) return yield* new AdminRefusal({ message: `${where} has no ecoupon schema; create it first with: ecoupon admin init --database <same>` })
    if (applied < known) return yield* new AdminRefusal({ message: `${where} has ${applied} of ${known} migrations; bring it up to date with: ecoupon db migrate --database <same>` })
  })

const quoted = (name: string) => JSON.stringify(name)

export const addInstitution = (request: { readonly id: Option.Option<InstitutionId>; readonly name: string }) =>
  Effect.gen(function* () {
    const institution = yield* (yield* Institutions).register({ id: Option.getOrUndefined(request.id), name: request.name })
    return `institution ${institution.id} ${quoted(institution.name)} registered (ledger account institution:${institution.id})`
  })

export const addRegion = (request: { readonly id: Option.Option<RegionId>; readonly name: string; readonly institutionId: InstitutionId }) =>
  Effect.gen(function* () {
    const region = yield* (yield* Regions).register({ id: Option.getOrUndefined(request.id), name: request.name, institutionId: request.institutionId })
    return `region ${region.id} ${quoted(region.name)} registered; unspent balances there go to ${region.institutionId}`
  })

export const addMerchant = (request: { readonly id: Option.Option<MerchantId>; readonly name: string; readonly providerUrl: Option.Option<string> }) =>
  Effect.gen(function* () {
    const merchant = yield* (yield* Merchants).register({
      id: Option.getOrUndefined(request.id),
      name: request.name,
      providerUrl: Option.getOrNull(request.providerUrl)
    })
    return merchant.status === "pending"
      ? `merchant ${merchant.id} ${quoted(merchant.name)} registered as pending; approve it with: ecoupon admin merchant approve --merchant ${merchant.id}`
      : `merchant ${merchant.id} ${quoted(merchant.name)} already exists and is ${merchant.status}`
  })

export const approveMerchant = (merchantId: MerchantId) =>
  Effect.map(Effect.flatMap(Merchants, (merchants) => merchants.approve(merchantId)), (merchant) =>
    `merchant ${merchant.id} ${quoted(merchant.name)} is registered; its offers now show on the kiosks of their regions`
  )

export const suspendMerchant = (merchantId: MerchantId) =>
  Effect.map(Effect.flatMap(Merchants, (merchants) => merchants.suspend(merchantId)), (merchant) =>
    `merchant ${merchant.id} ${quoted(merchant.name)} is suspended; its offers are withdrawn from every kiosk (restore with: ecoupon admin merchant restore --merchant ${merchant.id})`
  )

export const restoreMerchant = (merchantId: MerchantId) =>
  Effect.map(Effect.flatMap(Merchants, (merchants) => merchants.restore(merchantId)), (merchant) =>
    `merchant ${merchant.id} ${quoted(merchant.name)} is registered again; its offers are back on the kiosks`
  )

export const addKiosk = (request: { readonly id: Option.Option<KioskId>; readonly regionId: RegionId; readonly name: string; readonly binCapacity: number }) =>
  Effect.gen(function* () {
    const kiosk = yield* (yield* Kiosks).register({
      id: Option.getOrUndefined(request.id),
      regionId: request.regionId,
      name: request.name,
      binCapacity: request.binCapacity
    })
    return `kiosk ${kiosk.id} ${quoted(kiosk.name)} registered in ${kiosk.regionId} with a capture bin of ${kiosk.binCapacity} cards; load blank cards with: ecoupon admin kiosk load-cards --kiosk ${kiosk.id} --count N`
  })

export const loadCards = (request: { readonly kioskId: KioskId; readonly count: number; readonly movementId: Option.Option<StockMovementId> }) =>
  Effect.gen(function* () {
    const kiosks = yield* Kiosks
    const movement = yield* kiosks.loadCards(request.kioskId, request.count, Option.getOrUndefined(request.movementId))
    const counts = yield* kiosks.counts(request.kioskId)
    return `loaded ${movement.deltaStacker} cards into ${counts.kioskId} (movement ${movement.id}); stacker ${counts.stackerCards}, bin ${counts.binCards}/${counts.binCapacity}`
  })

export const emptyBin = (request: { readonly kioskId: KioskId; readonly movementId: Option.Option<StockMovementId> }) =>
  Effect.gen(function* () {
    const kiosks = yield* Kiosks
    const movement = yield* kiosks.emptyBin(request.kioskId, Option.getOrUndefined(request.movementId))
    const counts = yield* kiosks.counts(request.kioskId)
    return `took ${-movement.deltaBin} cards out of ${counts.kioskId}'s capture bin (movement ${movement.id}); bin ${counts.binCards}/${counts.binCapacity}`
  })

export const grant = (request: { readonly userId: UserId; readonly points: number; readonly transferId: TransferId }) =>
  Effect.gen(function* () {
    const users = yield* Users
    const transfer = yield* users.grant(request.userId, request.points, request.transferId)
    const balance = yield* users.balance(request.userId)
    return `granted ${transfer.amount} points to ${request.userId} (transfer ${transfer.id}; a replay of the same id grants nothing more); available now ${balance.available}`
  })
