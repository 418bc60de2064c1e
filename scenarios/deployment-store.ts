import type { SqlClient } from "@effect/sql"
import { type Context, Effect, Exit, Layer, Random, Scope } from "effect"
import { StockMovementId } from "../core/domain/kiosk.js"
import { CoreServicesLive } from "../core/services.js"
import { runMigrations } from "../adapters/store/migrate.js"
import * as SqljsClient from "../adapters/store/sqljs-client.js"
import type { ProviderOffer } from "../core/ports/provider-gateway.js"
import type { MerchantId } from "../core/domain/ids.js"
import { servicesFrom, type Services } from "../sim/fleet-world.js"
import { VirtualTime } from "../sim/virtual-time.js"
import { DAY_MS, deployment, type DeploymentNames, deploymentNames } from "./deployment.js"

/**
 * The deployment of `deployment.ts` registered through the core services as an operator would
 * (institutions, regions, kiosks loaded with cards and their return deadline, merchants approved, their
 * offers pulled from their provider servers), once per process, as a sql.js image: every run of every
 * suite opens a fresh in-memory database from these bytes instead of migrating and registering again.
 */

/** Each merchant's catalog, as its provider server describes it (in the names of a run: `names`). */
export const providerCatalogs = (names: DeploymentNames = deploymentNames): ReadonlyArray<{ readonly merchantId: MerchantId; readonly offers: ReadonlyArray<ProviderOffer> }> =>
  names.merchants.map((merchantId, m) => {
    const offer = deployment.offers[m] ?? deployment.offers[0]
    return {
      merchantId,
      offers: [{ offerId: names.offers[m] ?? offer.id, title: offer.title, pricePoints: offer.pricePoints, stock: offer.stock, validFromMs: names.startMs - DAY_MS, validUntilMs: names.startMs + deployment.offerOnSaleMs, regions: names.regions }]
    }
  })

/** Registers the deployment through the services. */
export const registerDeployment = (services: Services) =>
  Effect.gen(function* () {
    for (const [i, regionId] of deployment.regions.entries()) {
      const institutionId = deployment.institutions[i] ?? deployment.institutions[0]
      yield* services.institutions.register({ id: institutionId, name: `Community fund ${i + 1}` })
      yield* services.regions.register({ id: regionId, name: `Region ${i + 1}`, institutionId })
    }
    for (const [k, kioskId] of deployment.kiosks.entries()) {
      yield* services.kiosks.register({ id: kioskId, regionId: deployment.regions[k] ?? deployment.regions[0], name: `Kiosk ${k + 1}`, binCapacity: deployment.binCapacity })
      yield* services.kiosks.loadCards(kioskId, deployment.stackerCards, StockMovementId.make(`load:${kioskId}:initial`))
      yield* services.twins.setDesired(kioskId, { returnDeadlineDays: deployment.returnDeadlineDays })
    }
    for (const [m, catalog] of providerCatalogs().entries()) {
      yield* services.merchants.register({ id: catalog.merchantId, name: `Merchant ${m + 1}`, providerUrl: `https://provider-${m + 1}.example/api` })
      yield* services.merchants.approve(catalog.merchantId)
      yield* services.catalog.upsertFromProvider(catalog.merchantId, catalog.offers, { replace: true })
    }
  }).pipe(Effect.orDie)

let template: Promise<Uint8Array> | undefined

const buildTemplate = async (): Promise<Uint8Array> => {
  const scope = Effect.runSync(Scope.make())
  try {
    const store = await Effect.runPromise(
      Layer.buildWithScope(Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(Layer.provideMerge(Layer.orDie(SqljsClient.layer()))), scope)
    )
    const time = new VirtualTime(deployment.startMs - DAY_MS)
    const exit = time.run(
      Effect.gen(function* () {
        yield* registerDeployment(yield* servicesFrom)
        return yield* Effect.orDie((yield* SqljsClient.SqljsStore).export)
      }).pipe(Effect.provide(CoreServicesLive), Effect.provide(store), Effect.withRandom(Random.make("deployment")))
    )
    if (Exit.isFailure(exit)) throw new Error(`could not register the scenario deployment: ${String(exit.cause)}`)
    return exit.value
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** The registered deployment as database bytes, built once per process. */
export const deploymentImage = (): Promise<Uint8Array> => {
  if (template === undefined) {
    template = buildTemplate()
    template.catch(() => {
      template = undefined
    })
  }
  return template
}

/** A fresh store holding the registered deployment, in `scope`; `observer` sees every statement it runs. */
export const openDeploymentStore = async (scope: Scope.Scope, observer?: (sql: string) => void): Promise<Context.Context<SqlClient.SqlClient | SqljsClient.SqljsStore>> => {
  const bytes = await deploymentImage()
  return Effect.runPromise(Layer.buildWithScope(Layer.orDie(SqljsClient.layer({ bytes, ...(observer === undefined ? {} : { observer }) })), scope))
}
