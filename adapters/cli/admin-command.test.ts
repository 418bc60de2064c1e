import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { afterEach, describe, expect, it, vi } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Option } from "effect"
import { InstitutionId, KioskId, MerchantId, RegionId, TransferId, UserId } from "../../core/domain/ids.js"
import { Institutions } from "../../core/institutions.js"
import { Kiosks } from "../../core/kiosks.js"
import { Merchants } from "../../core/merchants.js"
import { Users } from "../../core/users.js"
import { storeLayer } from "../store/store-target.js"
import * as Admin from "./admin-actions.js"
import { adminCommand } from "./admin-command.js"

const directories: Array<string> = []
const freshDirectory = () => {
  const directory = mkdtempSync(join(tmpdir(), "ecoupon-admin-"))
  directories.push(directory)
  return directory
}

afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
  process.exitCode = undefined
  vi.restoreAllMocks()
})

/** Runs against the embedded durable store in `directory`, opened for this effect alone. */
const onStore = <A, E>(directory: string, effect: Effect.Effect<A, E, Admin.AdminServices | SqlClient.SqlClient>) =>
  effect.pipe(Effect.provide(Admin.adminServices.pipe(Layer.provideMerge(storeLayer({ _tag: "Embedded", directory })))))

const cli = Command.run(Command.make("ecoupon").pipe(Command.withSubcommands([adminCommand])), { name: "ecoupon", version: "test" })
const ecoupon = (...args: ReadonlyArray<string>) => cli(["node", "ecoupon", ...args]).pipe(Effect.provide(NodeContext.layer))

describe("ecoupon admin", () => {
  it.live("init creates the schema once; every other command refuses a database without it", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const refused = yield* Effect.either(onStore(directory, Admin.requireSchema("the test store")))
      expect(Either.isLeft(refused) && refused.left.message).toContain("ecoupon admin init")
      expect(yield* onStore(directory, Admin.init("the test store"))).toMatch(/initialised \(ran 0001_ledger/)
      expect(yield* onStore(directory, Admin.init("the test store"))).toContain("already initialised")
      yield* onStore(directory, Admin.requireSchema("the test store"))
    }))

  it.live("sets up a deployment step by step, each step saying what it did, and survives reopening", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      yield* onStore(directory, Admin.init("test"))
      const lines = yield* onStore(
        directory,
        Effect.all([
          Admin.addInstitution({ id: Option.some(InstitutionId.make("ins_food")), name: "Food bank" }),
          Admin.addRegion({ id: Option.some(RegionId.make("reg_seoul")), name: "Seoul", institutionId: InstitutionId.make("ins_food") }),
          Admin.addMerchant({ id: Option.some(MerchantId.make("mer_cafe")), name: "Cafe", providerUrl: Option.some("https://cafe.example/api") }),
          Admin.approveMerchant(MerchantId.make("mer_cafe")),
          Admin.suspendMerchant(MerchantId.make("mer_cafe")),
          Admin.restoreMerchant(MerchantId.make("mer_cafe")),
          Admin.addKiosk({ id: Option.some(KioskId.make("ksk_1")), regionId: RegionId.make("reg_seoul"), name: "Station", binCapacity: 200 }),
          Admin.loadCards({ kioskId: KioskId.make("ksk_1"), count: 100, movementId: Option.none() }),
          Admin.emptyBin({ kioskId: KioskId.make("ksk_1"), movementId: Option.none() })
        ])
      )
      expect(lines).toEqual([
        'institution ins_food "Food bank" registered (ledger account institution:ins_food)',
        'region reg_seoul "Seoul" registered; unspent balances there go to ins_food',
        'merchant mer_cafe "Cafe" registered as pending; approve it with: ecoupon admin merchant approve --merchant mer_cafe',
        'merchant mer_cafe "Cafe" is registered; its offers now show on the kiosks of their regions',
        'merchant mer_cafe "Cafe" is suspended; its offers are withdrawn from every kiosk (restore with: ecoupon admin merchant restore --merchant mer_cafe)',
        'merchant mer_cafe "Cafe" is registered again; its offers are back on the kiosks',
        'kiosk ksk_1 "Station" registered in reg_seoul with a capture bin of 200 cards; load blank cards with: ecoupon admin kiosk load-cards --kiosk ksk_1 --count N',
        expect.stringMatching(/^loaded 100 cards into ksk_1 \(movement mov_\w+\); stacker 100, bin 0\/200$/),
        expect.stringMatching(/^took 0 cards out of ksk_1's capture bin \(movement mov_\w+\); bin 0\/200$/)
      ])
      // A user exists only by registering (the test reads the code from the SMS in the outbox).
      const userId = yield* onStore(
        directory,
        Effect.gen(function* () {
          const users = yield* Users
          const sql = yield* SqlClient.SqlClient
          const started = yield* users.startRegistration("+821055550000")
          const rows = yield* sql`SELECT payload FROM outbox WHERE idempotency_key = ${`sms:${started.challengeId}`}`
          const code = /code (\d+)/.exec(String(rows[0]?.["payload"]))?.[1] ?? ""
          return (yield* users.verifyRegistration(started.challengeId, code)).user.id
        })
      )
      const grant = { userId, points: 500, transferId: TransferId.make("campaign:1") }
      const granted = yield* onStore(directory, Admin.grant(grant))
      expect(granted).toBe(`granted 500 points to ${userId} (transfer campaign:1; a replay of the same id grants nothing more); available now 10500`)
      expect(yield* onStore(directory, Admin.grant(grant))).toBe(granted)
      // Reopened: what the steps wrote is there.
      const state = yield* onStore(
        directory,
        Effect.gen(function* () {
          const merchant = yield* (yield* Merchants).get(MerchantId.make("mer_cafe"))
          const counts = yield* (yield* Kiosks).counts(KioskId.make("ksk_1"))
          const institutions = yield* (yield* Institutions).list()
          return [merchant.status, counts.stackerCards, institutions.map((i) => i.id)] as const
        })
      )
      expect(state).toEqual(["registered", 100, ["ins_food"]])
    }))

  it.live("refusals carry a message that says what to do", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      yield* onStore(directory, Admin.init("test"))
      const messages = yield* onStore(
        directory,
        Effect.all([
          Effect.flip(Admin.addRegion({ id: Option.none(), name: "Busan", institutionId: InstitutionId.make("ins_none") })),
          Effect.flip(Admin.approveMerchant(MerchantId.make("mer_none"))),
          Effect.flip(Admin.loadCards({ kioskId: KioskId.make("ksk_none"), count: 5, movementId: Option.none() })),
          Effect.flip(Admin.grant({ userId: UserId.make("usr_none"), points: 5, transferId: TransferId.make("t1") }))
        ]).pipe(Effect.map((errors) => errors.map((error) => error.message)))
      )
      expect(messages).toEqual([
        "no institution ins_none; register it first (ecoupon admin institution add)",
        "no merchant mer_none; register it first (ecoupon admin merchant add)",
        "no kiosk ksk_none; register it first (ecoupon admin kiosk add)",
        "no user usr_none; check the id (users are created by registering a phone number)"
      ])
    }))

  it.live("the command line runs the steps, prints what each did, and exits 1 on a refusal", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const printed: Array<string> = []
      vi.spyOn(console, "log").mockImplementation((line: unknown) => void printed.push(String(line)))
      vi.spyOn(console, "error").mockImplementation((line: unknown) => void printed.push(`stderr: ${String(line)}`))
      yield* ecoupon("admin", "region", "add", "--name", "Seoul", "--institution", "ins_food", "--database", directory + "-missing")
      expect(process.exitCode).toBe(1)
      process.exitCode = undefined
      yield* ecoupon("admin", "init", "--database", directory)
      yield* ecoupon("admin", "institution", "add", "--name", "Food bank", "--id", "ins_food", "--database", directory)
      yield* ecoupon("admin", "region", "add", "--name", "Seoul", "--id", "reg_seoul", "--institution", "ins_food", "--database", directory)
      expect(process.exitCode).toBeUndefined()
      yield* ecoupon("admin", "grant", "--user", "usr_nobody", "--points", "5", "--transfer-id", "t1", "--database", directory)
      expect(process.exitCode).toBe(1)
      expect(printed).toEqual([
        `stderr: ecoupon admin: there is no store at ${directory}-missing (--database); check the path, or create one with: ecoupon admin init --database ${directory}-missing`,
        expect.stringContaining("initialised (ran 0001_ledger"),
        'institution ins_food "Food bank" registered (ledger account institution:ins_food)',
        'region reg_seoul "Seoul" registered; unspent balances there go to ins_food',
        "stderr: ecoupon admin: no user usr_nobody; check the id (users are created by registering a phone number)"
      ])
    }))
})
