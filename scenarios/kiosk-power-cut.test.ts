import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Exit, Layer, Option, Random, Schema, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openKioskJournalFile } from "../adapters/kiosk-agent/kiosk-journal-file.js"
import { runMigrations } from "../adapters/store/migrate.js"
import * as SqljsClient from "../adapters/store/sqljs-client.js"
import { InstitutionId, KioskId, MerchantId, OfferId, RegionId } from "../core/domain/ids.js"
import { KioskBackendLocal } from "../core/kiosk-backend-local.js"
import { KioskFlow } from "../core/kiosk-flow.js"
import { CardUnit, type CardUnitService } from "../core/ports/card-unit.js"
import { CouponPrinter, type CouponPrinterService } from "../core/ports/coupon-printer.js"
import { KioskJournal, type KioskJournalService } from "../core/ports/kiosk-journal.js"
import { makeSimCardUnit } from "../sim/card-unit.js"
import { CoreServicesLive, servicesFrom } from "../sim/fleet-world.js"
import { makeSimPrinter } from "../sim/printer.js"
import { VirtualTime } from "../sim/virtual-time.js"

/**
 * A power cut at every step of a card purchase, in process: the flow fiber is interrupted just
 * before, or just after, each write to its journal (the file journal of the kiosk agent), then the
 * kiosk is rebuilt from what survived (the journal's file, the card unit's mechanics) and starts up.
 * After start-up the journal is empty, the order is delivered or aborted (never still placed), the
 * server's card counts match the unit's, a card the server counts as with the customer is the one
 * the customer holds, and the audit is clean.
 */

const region = RegionId.make("reg_1")
const kiosk = KioskId.make("ksk_cut")
const coffee = OfferId.make("off_coffee")
const DAY_MS = 86_400_000

let scope: Scope.CloseableScope
const dirs: Array<string> = []
beforeAll(() => void (scope = Effect.runSync(Scope.make())))
afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Passes journal writes through, and cuts the power at write `cutAt` (before or after it lands). */
const cuttingJournal = (inner: KioskJournalService, cutAt: number, when: "before" | "after"): KioskJournalService => {
  let writes = 0
  const write = (effect: Effect.Effect<void>) =>
    Effect.suspend(() => {
      writes += 1
      if (writes !== cutAt) return effect
      return when === "before" ? Effect.interrupt : Effect.zipRight(effect, Effect.interrupt)
    })
  return { put: (entry) => write(inner.put(entry)), remove: (orderId) => write(inner.remove(orderId)), all: inner.all }
}

const flowOn = (unit: CardUnitService, printer: CouponPrinterService, journal: KioskJournalService) =>
  Effect.provide(
    KioskFlow,
    KioskFlow.Default.pipe(
      Layer.provide(KioskBackendLocal.layer(kiosk)),
      Layer.provide(Layer.succeedContext(Context.make(CardUnit, unit).pipe(Context.add(CouponPrinter, printer), Context.add(KioskJournal, journal))))
    )
  )

/** One purchase cut at `cutAt`, a restart, and the checks. Returns the order's final state. */
const journeyCut = (cutAt: number, when: "before" | "after") =>
  Effect.gen(function* () {
    const services = yield* servicesFrom
    yield* services.institutions.register({ id: InstitutionId.make("ins_1"), name: "Food bank" })
    yield* services.regions.register({ id: region, name: "North", institutionId: InstitutionId.make("ins_1") })
    yield* services.kiosks.register({ id: kiosk, regionId: region, name: "cut", binCapacity: 10 })
    yield* services.kiosks.loadCards(kiosk, 20)
    yield* services.merchants.register({ id: MerchantId.make("mer_1"), name: "Cafe" })
    yield* services.merchants.approve(MerchantId.make("mer_1"))
    yield* services.catalog.upsertOffer({ offerId: coffee, merchantId: MerchantId.make("mer_1"), title: "Coffee", pricePoints: 1_500, stock: 50, validFromMs: 0, validUntilMs: 365 * DAY_MS, couponValidityMs: 30 * DAY_MS, regions: [region] })

    const dir = join(mkdtempSync(join(tmpdir(), "ecoupon-cut-")), "state")
    dirs.push(dir)
    const card = yield* makeSimCardUnit({ seed: 3, stackerCards: 20, binCapacity: 10 })
    const printer = yield* makeSimPrinter({ seed: 2 })
    yield* card.control.planHandOver({ _tag: "Take", afterMs: 1_000 })
    const before = yield* flowOn(card.port, printer.port, cuttingJournal(yield* openKioskJournalFile(dir), cutAt, when))
    yield* before.startup
    const sent = yield* before.requestCode("+821020000001")
    const message = yield* services.outbox.findByKey(`sms:${sent.challengeId}`)
    const text = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({ text: Schema.String })))(Option.getOrThrow(message).payload).text
    const session = yield* before.verifyCode(sent.challengeId, /code (\d+)/.exec(text)?.[1] ?? "")
    const view = yield* before.browse
    const cut = yield* Effect.exit(before.purchase({ session, offerId: coffee, quantity: 1, catalogVersion: view.version, medium: "card" }))

    // Power back: a new flow over what survived.
    const journal = yield* openKioskJournalFile(dir)
    const inFlight = yield* journal.all
    const after = yield* flowOn(card.port, printer.port, journal)
    const started = yield* after.startup
    expect(started.initialised).toBe(true)
    expect(started.reconciled.filter((r) => r._tag === "Kept")).toEqual([])
    expect(yield* journal.all).toEqual([])

    const orderId = Exit.isSuccess(cut) ? undefined : inFlight[0]?.orderId
    const order = orderId === undefined ? undefined : Option.getOrUndefined(yield* Effect.option(services.orders.get(orderId)))
    const unit = yield* card.control.snapshot
    const counts = yield* services.kiosks.counts(kiosk)
    const withCustomer = yield* card.control.drainTaken
    expect([counts.stackerCards, counts.binCards]).toEqual([unit.stackerCards, unit.binCards])
    expect(unit.position).toBe("none")
    // A card the customer walked away with is one the server counts as theirs, and the other way round.
    for (const held of withCustomer) expect((yield* services.cards.get(held.uid)).state).toBe("with_user")
    expect(withCustomer.length + unit.stackerCards + unit.binCards).toBe(20)
    const audit = yield* services.auditor.run
    expect(audit.checks.filter((c) => !c.ok)).toEqual([])
    return { cut: Exit.isSuccess(cut) ? "ran to the end" : "cut", state: order?.state ?? (Exit.isSuccess(cut) ? "delivered" : "never placed"), stage: inFlight[0]?.stage ?? "none" }
  })

const run = async (cutAt: number, when: "before" | "after") => {
  const store = await Effect.runPromise(
    Layer.buildWithScope(Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(Layer.provideMerge(Layer.orDie(Layer.fresh(SqljsClient.layer())))), scope)
  )
  const exit = new VirtualTime(DAY_MS).run(
    journeyCut(cutAt, when).pipe(Effect.provide(CoreServicesLive), Effect.provide(store), Effect.withRandom(Random.make(`cut-${cutAt}-${when}`)))
  )
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return exit.value
}

describe("a power cut at every step of a card purchase, reconciled on restart", () => {
  // A card purchase writes its journal five times: placing, dispensing, card-issued, handed-over, done.
  for (const cutAt of [1, 2, 3, 4, 5]) {
    for (const when of ["before", "after"] as const) {
      it(`cut ${when} journal write ${cutAt}`, async () => {
        const result = await run(cutAt, when)
        expect(result.state).not.toBe("placed")
      })
    }
  }
})
