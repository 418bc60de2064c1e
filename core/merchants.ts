import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option, Schema } from "effect"
import type { CatalogChange, CatalogChangeKind } from "./domain/catalog.js"
import { MerchantId } from "./domain/ids.js"
import { checkName, InvalidRequest } from "./domain/invalid-request.js"
import { Account } from "./domain/ledger.js"
import {
  Merchant,
  MerchantConflict,
  merchantFromRow,
  MerchantNotFound,
  MerchantRow,
  MerchantStatusRefused,
  type MerchantStatus
} from "./domain/merchant.js"
import { newId } from "./id-generator.js"
import { Catalog } from "./catalog.js"
import { Ledger } from "./ledger.js"
import { traced } from "./traced.js"

export interface RegisterMerchant {
  /** The operator's own id, to make the call replayable; a fresh one is made when absent. */
  readonly id?: MerchantId | undefined
  readonly name: string
  /** The merchant's provider server (https), if it has one. */
  readonly providerUrl?: string | null | undefined
}

export const MERCHANT_LIST_MAX = 1000
const PROVIDER_URL_LENGTH_MAX = 500

const checkProviderUrl = (url: string | null): InvalidRequest | string | null => {
  if (url === null) return null
  const trimmed = url.trim()
  if (trimmed.length > PROVIDER_URL_LENGTH_MAX || !/^https?:\/\/[^\s/]+/.test(trimmed)) {
    return new InvalidRequest({ reason: `provider URL must be an http(s) URL of at most ${PROVIDER_URL_LENGTH_MAX} characters, like https://provider.example/api` })
  }
  return trimmed
}

/**
 * Merchants (DESIGN §4, claim 4): a merchant applies (pending), an operator approves it (registered),
 * and it may be suspended and restored. Each status change that changes what kiosks show bumps the
 * catalog version of every region where the merchant has offers on sale, so kiosks drop (or bring
 * back) its offers in real time. Its ledger accounts (`merchant:<id>:payable`, `:paid`) are opened on
 * registration.
 */
export class Merchants extends Effect.Service<Merchants>()("ecoupon/Merchants", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* Ledger
    const catalog = yield* Catalog
    const decode = Schema.decodeUnknown(Schema.Array(MerchantRow))

    const find = (id: MerchantId, lock = false) =>
      Effect.gen(function* () {
        const forUpdate = lock ? sql.onDialectOrElse({ pg: () => sql`FOR UPDATE`, orElse: () => sql`` }) : sql``
        const rows = yield* sql`SELECT * FROM merchants WHERE id = ${id} ${forUpdate}`.pipe(Effect.flatMap(decode), Effect.orDie)
        return Option.map(Option.fromNullable(rows[0]), merchantFromRow)
      })

    const requireMerchant = (id: MerchantId, lock = false) =>
      Effect.flatMap(find(id, lock), Option.match({ onNone: () => Effect.fail(new MerchantNotFound({ merchantId: id })), onSome: Effect.succeed }))

    const register = (request: RegisterMerchant): Effect.Effect<Merchant, InvalidRequest | MerchantConflict> =>
      Effect.gen(function* () {
        const name = checkName("merchant", request.name)
        if (name instanceof InvalidRequest) return yield* name
        const providerUrl = checkProviderUrl(request.providerUrl ?? null)
        if (providerUrl instanceof InvalidRequest) return yield* providerUrl
        const id = request.id ?? MerchantId.make(yield* newId("mer"))
        const now = yield* Clock.currentTimeMillis
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            const inserted = yield* sql`
              INSERT INTO merchants (id, name, status, provider_url, created_at_ms, updated_at_ms)
              VALUES (${id}, ${name}, 'pending', ${providerUrl}, ${now}, ${now})
              ON CONFLICT (id) DO NOTHING
              RETURNING id`.pipe(Effect.orDie)
            if (inserted.length === 0) {
              const existing = yield* requireMerchant(id).pipe(Effect.orDie)
              if (existing.name !== name || existing.providerUrl !== providerUrl) return yield* new MerchantConflict({ merchantId: id, existingName: existing.name })
              return existing
            }
            // Fresh accounts of a fresh merchant: no other kind can be there.
            yield* ledger.openAccount(Account.merchantPayable(id), "merchant_payable").pipe(Effect.orDie)
            yield* ledger.openAccount(Account.merchantPaid(id), "merchant_paid").pipe(Effect.orDie)
            return new Merchant({ id, name, status: "pending", providerUrl, createdAtMs: now, updatedAtMs: now })
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
      }).pipe(traced("Merchants.register"))

    /**
     * Moves a merchant to `to` when its status is one of `from`; already at `to` is a no-op returning
     * it. Anything else is refused by `refuse`. The catalog change is published after commit.
     */
    const transition = <E>(
      merchantId: MerchantId,
      to: MerchantStatus,
      from: ReadonlyArray<MerchantStatus>,
      change: CatalogChangeKind,
      refuse: (merchant: Merchant) => Effect.Effect<never, E>
    ): Effect.Effect<Merchant, MerchantNotFound | E> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const [merchant, changes] = yield* sql.withTransaction(
          Effect.gen(function* () {
            const merchant = yield* requireMerchant(merchantId, true)
            if (merchant.status === to) return [merchant, [] as ReadonlyArray<CatalogChange>] as const
            if (!from.includes(merchant.status)) return yield* refuse(merchant)
            yield* sql`UPDATE merchants SET status = ${to}, updated_at_ms = ${now} WHERE id = ${merchantId}`.pipe(Effect.orDie)
            // A pending merchant's offers were never on show: suspending it changes no kiosk.
            const changes = merchant.status === "pending" && to === "suspended" ? [] : yield* catalog.recordMerchantChange(merchantId, change, now)
            return [new Merchant({ ...merchant, status: to, updatedAtMs: now }), changes] as const
          })
        ).pipe(Effect.catchTag("SqlError", Effect.die))
        yield* catalog.publish(changes)
        return merchant
      })

    const approve = (merchantId: MerchantId): Effect.Effect<Merchant, MerchantNotFound | MerchantStatusRefused> =>
      transition(merchantId, "registered", ["pending"], "merchant_registered", (merchant) =>
        Effect.fail(new MerchantStatusRefused({ merchantId, status: merchant.status, action: "approve", hint: "restore a suspended merchant instead" }))
      ).pipe(traced("Merchants.approve"))

    /** Stops a pending or registered merchant; its offers leave every kiosk at once. */
    const suspend = (merchantId: MerchantId): Effect.Effect<Merchant, MerchantNotFound> =>
      transition(merchantId, "suspended", ["pending", "registered"], "merchant_suspended", (merchant) =>
        Effect.dieMessage(`suspend has no refusal for status ${merchant.status}`)
      ).pipe(traced("Merchants.suspend"))

    const restore = (merchantId: MerchantId): Effect.Effect<Merchant, MerchantNotFound | MerchantStatusRefused> =>
      transition(merchantId, "registered", ["suspended"], "merchant_restored", (merchant) =>
        Effect.fail(new MerchantStatusRefused({ merchantId, status: merchant.status, action: "restore", hint: "a pending merchant is approved, not restored" }))
      ).pipe(traced("Merchants.restore"))

    const list = (status?: MerchantStatus): Effect.Effect<ReadonlyArray<Merchant>> => {
      const where = status === undefined ? sql`` : sql`WHERE status = ${status}`
      return sql`SELECT * FROM merchants ${where} ORDER BY id LIMIT ${MERCHANT_LIST_MAX}`.pipe(
        Effect.flatMap(decode),
        Effect.map((rows) => rows.map(merchantFromRow)),
        Effect.orDie,
        traced("Merchants.list")
      )
    }

    return {
      register,
      approve,
      suspend,
      restore,
      get: (merchantId: MerchantId): Effect.Effect<Merchant, MerchantNotFound> => requireMerchant(merchantId).pipe(traced("Merchants.get")),
      list
    } as const
  }),
  dependencies: [Ledger.Default, Catalog.Default]
}) {}
