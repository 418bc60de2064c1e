import { Command, Options } from "@effect/cli"
import { integerOption, schemaOption } from "./option-values.js"
import type { SqlClient } from "@effect/sql"
import { Console, Effect, Layer, type Option, type Schema } from "effect"
import { InstitutionId, KioskId, MerchantId, RegionId, TransferId, UserId } from "../../core/domain/ids.js"
import { StockMovementId } from "../../core/domain/kiosk.js"
import { describeStoreTarget, storeLayer } from "../store/store-target.js"
import { ApiKeys } from "../server/credentials/api-keys.js"
import * as Admin from "./admin-actions.js"
import { databaseOption, requireExistingStore, storeTargetOf } from "./db-options.js"

/** A refusal on stderr with exit status 1, without a stack trace: the message says what to do. */
const reportFailure = <R>(effect: Effect.Effect<void, { readonly message: string }, R>) =>
  Effect.catchAll(effect, (error) => Effect.zipRight(Console.error(`ecoupon admin: ${error.message}`), Effect.sync(() => void (process.exitCode = 1))))

/**
 * Opens the store `--database` names, checks it has the schema, runs `action` and prints its line.
 * An embedded store that does not exist yet is refused rather than created: a mistyped path must not
 * quietly become a new, empty database. Only `init` creates one.
 */
const execute = (
  database: Option.Option<string>,
  action: Effect.Effect<string, { readonly message: string }, Admin.AdminServices | SqlClient.SqlClient>
) =>
  Effect.gen(function* () {
    const target = storeTargetOf(database)
    const where = describeStoreTarget(target)
    yield* requireExistingStore(target)
    const line = yield* Effect.zipRight(Admin.requireSchema(where), action).pipe(
      // Not Layer.fresh: provideMerge refers to the store twice, and a fresh layer would open it twice.
      Effect.provide(Admin.adminServices.pipe(Layer.provideMerge(storeLayer(target))))
    )
    yield* Console.log(line)
  }).pipe(reportFailure)

const idOption = <B>(what: string, schema: Schema.Schema<B, string>) =>
  schemaOption("id", schema).pipe(Options.withDescription(`the ${what}'s id (made for you when absent; give one to make a retry safe)`), Options.optional)

const name = (what: string) => Options.text("name").pipe(Options.withDescription(`the ${what}'s name, as people will see it`))
const merchantOption = schemaOption("merchant", MerchantId).pipe(Options.withDescription("the merchant's id (mer_...)"))
const kioskOption = schemaOption("kiosk", KioskId).pipe(Options.withDescription("the kiosk's id (ksk_...)"))
const movementOption = schemaOption("movement-id", StockMovementId).pipe(
  Options.withDescription("an id for this stock movement, to make a retry safe"),
  Options.optional
)

const init = Command.make("init", { database: databaseOption }, ({ database }) => {
  const target = storeTargetOf(database)
  return Admin.init(describeStoreTarget(target)).pipe(
    Effect.flatMap(Console.log),
    Effect.provide(storeLayer(target)),
    reportFailure
  )
}).pipe(Command.withDescription("Create a database with the ecoupon schema (or say it already has it)"))

const institutionAdd = Command.make(
  "add",
  { database: databaseOption, id: idOption("institution", InstitutionId), name: name("institution") },
  ({ database, id, name }) => execute(database, Admin.addInstitution({ id, name }))
).pipe(Command.withDescription("Register a designated institution (it receives unspent balances)"))

const regionAdd = Command.make(
  "add",
  {
    database: databaseOption,
    id: idOption("region", RegionId),
    name: name("region"),
    institution: schemaOption("institution", InstitutionId).pipe(Options.withDescription("the region's designated institution (ins_...)"))
  },
  ({ database, id, institution, name }) => execute(database, Admin.addRegion({ id, name, institutionId: institution }))
).pipe(Command.withDescription("Register a region and name its designated institution"))

const merchantAdd = Command.make(
  "add",
  {
    database: databaseOption,
    id: idOption("merchant", MerchantId),
    name: name("merchant"),
    providerUrl: Options.text("provider-url").pipe(Options.withDescription("the merchant's provider server, if it has one (https://...)"), Options.optional)
  },
  ({ database, id, name, providerUrl }) => execute(database, Admin.addMerchant({ id, name, providerUrl }))
).pipe(Command.withDescription("Register a merchant; it stays pending until approved"))

const merchantStep = (step: "approve" | "suspend" | "restore", description: string) =>
  Command.make(step, { database: databaseOption, merchant: merchantOption }, ({ database, merchant }) =>
    execute(database, step === "approve" ? Admin.approveMerchant(merchant) : step === "suspend" ? Admin.suspendMerchant(merchant) : Admin.restoreMerchant(merchant))
  ).pipe(Command.withDescription(description))

const kioskAdd = Command.make(
  "add",
  {
    database: databaseOption,
    id: idOption("kiosk", KioskId),
    name: name("kiosk"),
    region: schemaOption("region", RegionId).pipe(Options.withDescription("the region the kiosk stands in (reg_...)")),
    binCapacity: integerOption("bin-capacity").pipe(Options.withDescription("cards the capture bin holds"))
  },
  ({ binCapacity, database, id, name, region }) => execute(database, Admin.addKiosk({ id, name, regionId: region, binCapacity }))
).pipe(Command.withDescription("Register a kiosk in a region"))

const kioskLoadCards = Command.make(
  "load-cards",
  { database: databaseOption, kiosk: kioskOption, count: integerOption("count").pipe(Options.withDescription("blank cards put into the stacker")), movementId: movementOption },
  ({ count, database, kiosk, movementId }) => execute(database, Admin.loadCards({ kioskId: kiosk, count, movementId }))
).pipe(Command.withDescription("Record blank cards loaded into a kiosk's stacker"))

const kioskEmptyBin = Command.make(
  "empty-bin",
  { database: databaseOption, kiosk: kioskOption, movementId: movementOption },
  ({ database, kiosk, movementId }) => execute(database, Admin.emptyBin({ kioskId: kiosk, movementId }))
).pipe(Command.withDescription("Record that a kiosk's capture bin was emptied"))

const grant = Command.make(
  "grant",
  {
    database: databaseOption,
    user: schemaOption("user", UserId).pipe(Options.withDescription("the user's id (usr_...)")),
    points: integerOption("points", "points").pipe(Options.withDescription("points to grant, a whole number above zero")),
    transferId: schemaOption("transfer-id", TransferId).pipe(
  Options.withDescription("the grant's own id, e.g. campaign-2025-spring:usr_...; repeating it grants nothing more")
    )
  },
  ({ database, points, transferId, user }) => execute(database, Admin.grant({ userId: user, points, transferId }))
).pipe(Command.withDescription("Grant points to a user from the issuer (a campaign grant)"))

const tokenCreate = Command.make(
  "create",
  {
    database: databaseOption,
    role: Options.choice("role", ["admin", "operator", "auditor"]).pipe(Options.withDescription("admin: everything; operator: everything but credentials; auditor: reads only")),
    name: Options.text("name").pipe(Options.withDescription("whose token this is, as the audit will name it"), Options.withDefault("operator"))
  },
  ({ database, name, role }) =>
    execute(
      database,
      Effect.map(Effect.flatMap(ApiKeys, (keys) => keys.issue("operator", name.trim() === "" ? "operator" : name.trim(), role)), (issued) =>
        `${role} token for ${JSON.stringify(issued.record.subject)} (key id ${issued.record.keyId}), shown this once:\n${issued.credential}`
      ).pipe(Effect.provide(ApiKeys.Default))
    )
).pipe(Command.withDescription("Make an operator token for the HTTP API (Authorization: Bearer ...), printed once"))

/** `ecoupon admin ...`: what an operator sets up before anything else runs. */
// Named as a plain string: the registry (`commands.ts`) holds commands of any name.
export const adminCommand = Command.make("admin" as string).pipe(
  Command.withDescription("Operator setup: database, institutions, regions, merchants, kiosks, point grants, API tokens"),
  Command.withSubcommands([
    init,
    Command.make("institution").pipe(Command.withDescription("Designated institutions"), Command.withSubcommands([institutionAdd])),
    Command.make("region").pipe(Command.withDescription("Regions"), Command.withSubcommands([regionAdd])),
    Command.make("merchant").pipe(
      Command.withDescription("Merchants: add, approve, suspend, restore"),
      Command.withSubcommands([
        merchantAdd,
        merchantStep("approve", "Approve a pending merchant: its offers show on kiosks"),
        merchantStep("suspend", "Suspend a merchant: its offers leave every kiosk at once"),
        merchantStep("restore", "Restore a suspended merchant")
      ])
    ),
    Command.make("kiosk").pipe(Command.withDescription("Kiosks and their card stock"), Command.withSubcommands([kioskAdd, kioskLoadCards, kioskEmptyBin])),
    grant,
    Command.make("token").pipe(Command.withDescription("Operator tokens for the HTTP API"), Command.withSubcommands([tokenCreate]))
  ])
)
