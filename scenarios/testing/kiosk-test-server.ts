import { appendFileSync, existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { NodeRuntime } from "@effect/platform-node"
import { Clock, Effect, Layer } from "effect"
import { serve } from "../../adapters/server/management-server.js"
import { ApiKeys } from "../../adapters/server/credentials/api-keys.js"
import { defaultWorkerSettings } from "../../adapters/server/workers.js"
import { runMigrations } from "../../adapters/store/migrate.js"
import { storeLayer } from "../../adapters/store/store-target.js"
import { Catalog } from "../../core/catalog.js"
import { InstitutionId, KioskId, MerchantId, OfferId, RegionId } from "../../core/domain/ids.js"
import { Institutions } from "../../core/institutions.js"
import { Kiosks } from "../../core/kiosks.js"
import { Merchants } from "../../core/merchants.js"
import { SmsGateway } from "../../core/ports/sms-gateway.js"
import { Regions } from "../../core/regions.js"
import { CoreServicesLive } from "../../core/services.js"
import { SimServicesLive } from "../../sim/layers.js"

/**
 * The management server of the kiosk process tests, as its own process: `ecoupon serve`'s composition
 * (adapters/server/management-server.ts) on the embedded store in DIR, with the demo gateways, except
 * that the phone is a file: every text the SMS gateway delivers is appended to DIR/phone.jsonl as
 * `{"key":"sms:<challenge>","text":"..."}` (no number), so a test can read the one-time code it
 * needs. (`serve --gateways demo` keeps its texts inside the process.) On its first start it sets up a
 * deployment of one region, one kiosk with STACKER cards and one offer, and writes a kiosk key and an
 * admin token to DIR/credentials.json.
 *
 *   node --import tsx scenarios/testing/kiosk-test-server.ts DIR PORT STACKER
 */

export const testDeployment = {
  institution: InstitutionId.make("ins_k"),
  region: RegionId.make("reg_k"),
  kiosk: KioskId.make("ksk_k1"),
  merchant: MerchantId.make("mer_k"),
  offer: OfferId.make("off_k"),
  offerPricePoints: 1_000
} as const

const DAY_MS = 86_400_000

const setUp = (directory: string, stackerCards: number) =>
  Effect.gen(function* () {
    yield* runMigrations()
    const d = testDeployment
    yield* (yield* Institutions).register({ id: d.institution, name: "Food bank" })
    yield* (yield* Regions).register({ id: d.region, name: "Test", institutionId: d.institution })
    const kiosks = yield* Kiosks
    yield* kiosks.register({ id: d.kiosk, regionId: d.region, name: "Kiosk 1", binCapacity: 100 })
    if (stackerCards > 0) yield* kiosks.loadCards(d.kiosk, stackerCards)
    const merchants = yield* Merchants
    yield* merchants.register({ id: d.merchant, name: "Cafe" })
    yield* merchants.approve(d.merchant)
    const nowMs = yield* Clock.currentTimeMillis
    yield* (yield* Catalog).upsertOffer({
      offerId: d.offer,
      merchantId: d.merchant,
      title: "Americano",
      pricePoints: d.offerPricePoints,
      stock: 1_000,
      validFromMs: nowMs - DAY_MS,
      validUntilMs: nowMs + 30 * DAY_MS,
      couponValidityMs: 30 * DAY_MS,
      regions: [d.region]
    })
    const keys = yield* ApiKeys
    const kioskKey = (yield* keys.issue("kiosk", d.kiosk)).credential
    const adminToken = (yield* keys.issue("operator", "kiosk-tests", "admin")).credential
    writeFileSync(join(directory, "credentials.json"), JSON.stringify({ kioskKey, adminToken }))
  }).pipe(Effect.provide(ApiKeys.Default), Effect.provide(CoreServicesLive), Effect.provide(storeLayer({ _tag: "Embedded", directory })), Effect.orDie)

/** The demo gateways, with texts going to the phone file. */
const gateways = (phoneFile: string) =>
  Layer.effect(
    SmsGateway,
    Effect.map(SmsGateway, (inner) => ({
      send: (message) => Effect.tap(inner.send(message), () => Effect.sync(() => appendFileSync(phoneFile, `${JSON.stringify({ key: message.idempotencyKey, text: message.text })}\n`)))
    }))
  ).pipe(Layer.provideMerge(SimServicesLive({ seed: 1, sms: { deliveryMs: 0, latencyMs: 0 } })))

const main = (directory: string, port: number, stackerCards: number) =>
  Effect.gen(function* () {
    if (!existsSync(join(directory, "credentials.json"))) yield* setUp(directory, stackerCards)
    return yield* serve({ target: { _tag: "Embedded", directory }, host: "127.0.0.1", port, gateways: gateways(join(directory, "phone.jsonl")), workers: { ...defaultWorkerSettings, outboxIdleMs: 20 } })
  })

const [directory, port, stacker] = process.argv.slice(2)
if (directory !== undefined && /kiosk-test-server\.[jt]s$/.test(process.argv[1] ?? "")) {
  NodeRuntime.runMain(main(directory, Number(port ?? "0"), Number(stacker ?? "0")))
}
