import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Auditor } from "../../core/audit.js"
import type { OutboxMessage } from "../../core/domain/outbox.js"
import { Catalog } from "../../core/catalog.js"
import { Institutions } from "../../core/institutions.js"
import { Ledger } from "../../core/ledger.js"
import { Kiosks } from "../../core/kiosks.js"
import { KioskTwins } from "../../core/twin.js"
import { Merchants } from "../../core/merchants.js"
import { Orders } from "../../core/orders.js"
import { Outbox } from "../../core/outbox.js"
import { Regions } from "../../core/regions.js"
import { Settlements } from "../../core/settlement.js"
import { Users } from "../../core/users.js"
import { EcouponApi } from "../http-api/api.js"
import { asProblem } from "./problems.js"

/** Dead letters an operator sees at once (the newest are what matter; retry, then look again). */
export const DEAD_LETTERS_LIST_MAX = 500

const deadLetterOf = (message: OutboxMessage) => ({
  id: message.id,
  kind: message.kind,
  idempotencyKey: message.idempotencyKey,
  attempts: message.attempts,
  lastError: message.lastError,
  createdAtMs: message.createdAtMs
})

/** The operators group: each endpoint one call of a core service, its refusals as problems. */
export const OperatorsHttpLive = HttpApiBuilder.group(EcouponApi, "operators", (handlers) =>
  Effect.gen(function* () {
    const institutions = yield* Institutions
    const regions = yield* Regions
    const merchants = yield* Merchants
    const kiosks = yield* Kiosks
    const twins = yield* KioskTwins
    const users = yield* Users
    const settlements = yield* Settlements
    const auditor = yield* Auditor
    const orders = yield* Orders
    const outbox = yield* Outbox
    const ledger = yield* Ledger
    const catalog = yield* Catalog
    return handlers
      .handle("institutions", () => institutions.list())
      .handle("addInstitution", ({ payload }) => asProblem(institutions.register(payload)))
      .handle("regions", () => regions.list())
      .handle("addRegion", ({ payload }) => asProblem(regions.register(payload)))
      .handle("regionCatalog", ({ path }) => asProblem(catalog.catalogForRegion(path.regionId)))
      .handle("merchants", () => merchants.list())
      .handle("addMerchant", ({ payload }) => asProblem(merchants.register({ id: payload.id, name: payload.name, providerUrl: payload.providerUrl ?? null })))
      .handle("approveMerchant", ({ path }) => asProblem(merchants.approve(path.merchantId)))
      .handle("suspendMerchant", ({ path }) => asProblem(merchants.suspend(path.merchantId)))
      .handle("restoreMerchant", ({ path }) => asProblem(merchants.restore(path.merchantId)))
      .handle("kiosks", () => kiosks.list())
      .handle("addKiosk", ({ payload }) => asProblem(kiosks.register(payload)))
      .handle("loadCards", ({ path, payload }) => asProblem(kiosks.loadCards(path.kioskId, payload.count, payload.movementId)))
      .handle("emptyBin", ({ path, payload }) => asProblem(kiosks.emptyBin(path.kioskId, payload.movementId)))
      .handle("twin", ({ path }) => asProblem(twins.get(path.kioskId)))
      .handle("setDesired", ({ path, payload }) => asProblem(twins.setDesired(path.kioskId, payload)))
      .handle("grant", ({ payload }) =>
        Effect.gen(function* () {
          const transfer = yield* users.grant(payload.userId, payload.points, payload.transferId)
          const balance = yield* users.balance(payload.userId)
          return { transferId: transfer.id, userId: payload.userId, points: transfer.amount, availablePoints: balance.available }
        }).pipe(asProblem))
      .handle("runSettlement", ({ payload }) => settlements.closeAll({ periodEndMs: payload.periodEndMs }))
      .handle("balances", ({ payload }) =>
        Effect.map(
          Effect.forEach(payload.accounts, (account) => Effect.option(ledger.balance(account))),
          (balances) => balances.flatMap((found) => (found._tag === "Some" ? [{ account: found.value.account, posted: found.value.posted, pending: found.value.debitsPending, available: found.value.available }] : []))
        ))
      .handle("audit", () => Effect.map(auditor.run, (report) => ({ ok: report.ok, violationCount: report.violationCount, checkedAtMs: report.checkedAtMs, checks: report.checks })))
      .handle("flaggedOrders", () => orders.listFlagged())
      .handle("deadLetters", () => Effect.map(outbox.list({ state: "dead", limit: DEAD_LETTERS_LIST_MAX }), (messages) => messages.map(deadLetterOf)))
      .handle("retryDeadLetter", ({ path }) => Effect.map(asProblem(outbox.retry(path.id)), deadLetterOf))
  })
)
