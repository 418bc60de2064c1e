import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { deployment } from "./deployment.js"
import { providerCatalogs } from "./deployment-store.js"
import { simLayer } from "./layer-sim.js"
import { systemSheet } from "./observe.js"
import type { System } from "./system.js"

/**
 * The sim layer lends one build of the core services to one run after another, each on a fresh copy
 * of the deployment's image: a run must see nothing an earlier or an overlapping run wrote.
 */

const stockOf = (system: System) =>
  system.run((env) =>
    Effect.map(systemSheet(env), (sheet) => deployment.offers.map((offer) => sheet[`stock ${offer.id}`]))
  )

/** Every offer sold out, as its provider server says (a write to the run's database). */
const emptyStock = (system: System) =>
  system.run((env) =>
    Effect.forEach(providerCatalogs(env.names), (catalog) => Effect.orDie(env.office.pushCatalog(catalog.merchantId, catalog.offers.map((offer) => ({ ...offer, stock: 0 })))))
  )

describe("the sim layer", () => {
  it("starts every run on the deployment as registered, whatever the runs before it or beside it wrote", async () => {
    const registered = deployment.offers.map((offer) => offer.stock)
    const first = await simLayer.open({ seed: 1 })
    await emptyStock(first)
    expect(await stockOf(first)).toEqual([0, 0])
    await first.close()
    // Lent the same services the first run had.
    const second = await simLayer.open({ seed: 1 })
    expect(await stockOf(second)).toEqual(registered)
    // Two at once: each its own database.
    const third = await simLayer.open({ seed: 2 })
    await emptyStock(third)
    expect(await stockOf(second)).toEqual(registered)
    expect(await stockOf(third)).toEqual([0, 0])
    await second.close()
    await third.close()
    await expect(third.run(() => Effect.void)).rejects.toThrow("closed")
    const fourth = await simLayer.open({ seed: 3 })
    expect(await stockOf(fourth)).toEqual(registered)
    await fourth.close()
  }, 60_000)
})
