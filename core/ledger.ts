import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Data, Effect, Either, FiberRef, Option, Schema } from "effect"
import {
  AccountId,
  AccountKindConflict,
  AccountNotFound,
  AccountRow,
  balanceFromRow,
  InsufficientFunds,
  InvalidTransfer,
  kindHasFloor,
  PendingAlreadyResolved,
  PendingNotFound,
  TransferConflict,
  transferFromRow,
  TransferRow,
  type AccountKind,
  Transfer,
  type Balance,
  type ResolveError,
  type TransferCode,
  type TransferError,
  type TransferFlag
} from "./domain/ledger.js"
import type { TransferId } from "./domain/ids.js"
import { compileStatement } from "./compiled-statement.js"
import { inTransactionOr } from "./in-transaction.js"
import { allRows, onRows, query } from "./rows.js"
import { traced } from "./traced.js"

/** A transfer as a client asks for it. The id is the client's: replaying it is safe. */
export interface TransferRequest {
  readonly id: TransferId
  readonly debit: AccountId
  readonly credit: AccountId
  readonly amount: number
  /** Reserve now (counted against the debit account's floor), post or void later. */
  readonly pending?: boolean
  readonly code: TransferCode
  /** The entity the transfer belongs to (order, coupon, card, settlement), for history and audit. */
  readonly ref?: string | null
}

/** Posts or voids a pending transfer. The id is the resolution's own, so it too can be replayed. */
export interface ResolveRequest {
  readonly id: TransferId
  readonly pendingId: TransferId
}

export const HISTORY_LIMIT_MAX = 1000
/** Bounds the work (and the locks held on PostgreSQL) of one batch transaction. */
export const BATCH_TRANSFERS_MAX = 1000

/** Raised inside the write transaction when the id exists already, to roll it back. */
class Replay extends Data.TaggedError("Replay")<{}> {}

/**
 * The double-entry, two-phase points ledger (DESIGN §4). Every operation runs in a transaction of its
 * own, or joins the caller's (no savepoint: a refused transfer or resolution takes back by hand what it
 * wrote, so it leaves no trace), so a service can move points in the same transaction as the change
 * that causes the movement. Account rows are updated in id order to keep lock order fixed
 * on PostgreSQL; the floor is checked by the UPDATE itself so concurrent debits cannot overdraw.
 */
export class Ledger extends Effect.Service<Ledger>()("ecoupon/Ledger", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const decodeTransfer = Schema.decodeUnknown(TransferRow)
    const decodeTransfers = Schema.decodeUnknown(Schema.Array(TransferRow))
    const transferRows = allRows(TransferRow)
    const decodeAccount = Schema.decodeUnknown(AccountRow)

    const findTransfer = (id: TransferId) =>
      sql`SELECT * FROM ledger_transfers WHERE id = ${id}`.pipe(
        Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeed(Option.none()) : decodeTransfer(rows[0]).pipe(Effect.map((row) => Option.some(transferFromRow(row)))))),
        Effect.orDie
      )

    const findTransfers = (ids: ReadonlyArray<TransferId>) =>
      sql`SELECT * FROM ledger_transfers WHERE id IN ${sql.in(ids)}`.pipe(
        Effect.flatMap(decodeTransfers),
        Effect.map((rows) => rows.map(transferFromRow)),
        Effect.orDie
      )

    const findAccount = (id: AccountId) =>
      sql`SELECT * FROM ledger_accounts WHERE id = ${id}`.pipe(
        Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeed(Option.none()) : decodeAccount(rows[0]).pipe(Effect.map(Option.some)))),
        Effect.orDie
      )

    /** An account of this kind there already: nothing to do; of another kind: a conflict. */
    const alreadyOpen = (id: AccountId, kind: AccountKind) =>
      Effect.flatMap(findAccount(id), (account) =>
        Option.isSome(account) && account.value.kind !== kind
          ? Effect.fail(new AccountKindConflict({ account: id, existing: account.value.kind, requested: kind }))
          : Effect.void
      )

    // Opened at every order and registration: a few flatMaps rather than `Effect.gen`.
    const openAccount = (id: AccountId, kind: AccountKind): Effect.Effect<void, AccountKindConflict> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        onRows(
          sql`
          INSERT INTO ledger_accounts (id, kind, floor_zero, created_at_ms)
          VALUES (${id}, ${kind}, ${kindHasFloor(kind) ? 1 : 0}, ${now})
          ON CONFLICT (id) DO NOTHING
          RETURNING id`,
          // Opened just now, with this kind: nothing to compare.
          (inserted) => (inserted.length > 0 ? Effect.void : alreadyOpen(id, kind))
        )).pipe(traced("Ledger.openAccount"))

    /** What differs between a stored transfer and a request with the same id; empty when nothing. */
    const difference = (stored: Transfer, flag: TransferFlag, debit: AccountId, credit: AccountId, amount: number, code: TransferCode, ref: string | null, pendingId: TransferId | null): string => {
      const diffs: Array<string> = []
      if (stored.flag !== flag) diffs.push(`flag ${stored.flag} vs ${flag}`)
      if (stored.debitAccount !== debit) diffs.push(`debit ${stored.debitAccount} vs ${debit}`)
      if (stored.creditAccount !== credit) diffs.push(`credit ${stored.creditAccount} vs ${credit}`)
      if (stored.amount !== amount) diffs.push(`amount ${stored.amount} vs ${amount}`)
      if (stored.code !== code) diffs.push(`code ${stored.code} vs ${code}`)
      if (stored.ref !== ref) diffs.push(`ref ${stored.ref} vs ${ref}`)
      if (stored.pendingId !== pendingId) diffs.push(`pending ${stored.pendingId} vs ${pendingId}`)
      return diffs.join(", ")
    }

    /**
     * On PostgreSQL, locks both accounts in id order before they are updated. An UPDATE locks rows in
     * the order its plan meets them (on a small table, a sequential scan's physical order, which
     * moves as rows are rewritten), so two writers on the same pair could each hold one row and wait
     * for the other. SQLite has a single writer: nothing to do, and no statement spent.
     */
    const lockAccounts = sql.onDialectOrElse({
      pg: () => compileStatement(sql, (p) => sql`SELECT id FROM ledger_accounts WHERE id IN (${p(0)}, ${p(1)}) ORDER BY id FOR UPDATE`),
      orElse: () => undefined
    })
    const lockedFirst = <A, E>(a: AccountId, b: AccountId, update: Effect.Effect<A, E>): Effect.Effect<A, E | SqlError> =>
      lockAccounts === undefined ? update : Effect.zipRight(lockAccounts(a, b), update)

    /**
     * Debits one account and credits another in ONE statement (statements are the hot path's cost).
     * Both rows change only if both exist and the debit kept the floor; the floor is checked by the
     * UPDATE itself, so concurrent debits can never overdraw. Answers how many rows it changed (no
     * RETURNING: on SQLite that costs a temporary table per statement): fewer than two means refused,
     * and the caller undoes (`refusal`) or rolls back.
     */
    const moveStatement = (phase: "posted" | "pending") => {
      const debits = sql.literal(`debits_${phase}`)
      const credits = sql.literal(`credits_${phase}`)
      return compileStatement(sql, (p) => {
        const [debit, credit, delta] = [p(0), p(1), sql`CAST(${p(2)} AS BIGINT)`]
        return sql<{ readonly id: string }>`
        UPDATE ledger_accounts SET
          ${debits} = ${debits} + CASE WHEN id = ${debit} THEN ${delta} ELSE 0 END,
          ${credits} = ${credits} + CASE WHEN id = ${credit} THEN ${delta} ELSE 0 END
        WHERE id IN (${debit}, ${credit})
          AND (id <> ${debit} OR floor_zero = 0 OR credits_posted - debits_posted - debits_pending >= ${delta})`
      })
    }
    const moves = { posted: moveStatement("posted"), pending: moveStatement("pending") }
    const applyMove = (debit: AccountId, credit: AccountId, phase: "posted" | "pending", amount: number): Effect.Effect<number, SqlError> =>
      lockedFirst(debit, credit, moves[phase].changes(debit, credit, amount))

    /** Takes back exactly what `applyMove` did to the rows named (no floor: it only restores). */
    const undoMove = (moved: ReadonlyArray<AccountId>, debit: AccountId, credit: AccountId, phase: "posted" | "pending", amount: number) => {
      const debits = sql.literal(`debits_${phase}`)
      const credits = sql.literal(`credits_${phase}`)
      const delta = sql`CAST(${amount} AS BIGINT)`
      return sql`
        UPDATE ledger_accounts SET
          ${debits} = ${debits} - CASE WHEN id = ${debit} THEN ${delta} ELSE 0 END,
          ${credits} = ${credits} - CASE WHEN id = ${credit} THEN ${delta} ELSE 0 END
        WHERE id IN ${sql.in(moved)}`.pipe(Effect.orDie, Effect.asVoid)
    }

    /**
     * Why a move that changed fewer than two rows was refused: a missing account, or the debit's
     * floor. With `undo`, the one row it did change is taken back first (joined to a caller's
     * transaction there is no rollback to do it). Which row that was follows from the accounts: the
     * credit row has no condition, so with both accounts there the debit's floor refused and the
     * credit moved; with one missing, the other moved.
     */
    const refusal = (changed: number, debit: AccountId, credit: AccountId, phase: "posted" | "pending", amount: number, undo: boolean) =>
      Effect.gen(function* () {
        const debitRow = yield* findAccount(debit)
        const creditRow = yield* findAccount(credit)
        if (undo && changed === 1) yield* undoMove([Option.isSome(debitRow) && Option.isNone(creditRow) ? debit : credit], debit, credit, phase, amount)
        if (Option.isNone(debitRow)) return new AccountNotFound({ account: debit })
        if (Option.isNone(creditRow)) return new AccountNotFound({ account: credit })
        const row = debitRow.value
        const available = row.credits_posted - row.debits_posted - row.debits_pending
        return new InsufficientFunds({ account: debit, available, requested: amount })
      })

    /**
     * Post or void in one statement over both rows, like `applyMove`: pending counters go down and, for
     * a post, posted counters go up. No floor: it was checked when the pending transfer was made.
     */
    const settleStatement = compileStatement(sql, (p) => {
      const [debit, credit, delta, posted] = [p(0), p(1), sql`CAST(${p(2)} AS BIGINT)`, sql`CAST(${p(3)} AS BIGINT)`]
      return sql`
        UPDATE ledger_accounts SET
          debits_pending = debits_pending - CASE WHEN id = ${debit} THEN ${delta} ELSE 0 END,
          debits_posted = debits_posted + CASE WHEN id = ${debit} THEN ${posted} ELSE 0 END,
          credits_pending = credits_pending - CASE WHEN id = ${credit} THEN ${delta} ELSE 0 END,
          credits_posted = credits_posted + CASE WHEN id = ${credit} THEN ${posted} ELSE 0 END
        WHERE id IN (${debit}, ${credit})`
    })
    const settlePending = (debit: AccountId, credit: AccountId, amount: number, post: boolean) =>
      Effect.matchEffect(lockedFirst(debit, credit, settleStatement(debit, credit, amount, post ? amount : 0)), { onFailure: Effect.die, onSuccess: () => Effect.void })

    const insertStatement = compileStatement(sql, (p) => sql`
        INSERT INTO ledger_transfers (id, debit_account, credit_account, amount, flag, state, pending_id, code, ref, created_at_ms)
        VALUES (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)})
        ON CONFLICT (id) DO NOTHING`)
    /** The idempotent insert: fails with `Replay` when the id is taken (the insert changed no row). */
    const tryInsert = (id: TransferId, debit: AccountId, credit: AccountId, amount: number, flag: TransferFlag, state: string, pendingId: TransferId | null, code: TransferCode, ref: string | null, now: number): Effect.Effect<void, Replay | SqlError> =>
      Effect.flatMap(insertStatement.changes(id, debit, credit, amount, flag, state, pendingId, code, ref, now), (changed) => (changed > 0 ? Effect.void : Effect.fail(new Replay())))
    const insertTransfer = (id: TransferId, debit: AccountId, credit: AccountId, amount: number, flag: TransferFlag, state: string, pendingId: TransferId | null, code: TransferCode, ref: string | null, now: number): Effect.Effect<void, Replay> =>
      Effect.catchTag(tryInsert(id, debit, credit, amount, flag, state, pendingId, code, ref, now), "SqlError", Effect.die)

    /** The answer to a replayed id: the stored transfer if the bodies agree, a conflict if not. */
    const replayed = <E>(id: TransferId, original: E, expected: (stored: Transfer) => string): Effect.Effect<Transfer, E | TransferConflict> =>
      Effect.gen(function* () {
        const stored = yield* findTransfer(id)
        if (Option.isNone(stored)) return yield* Effect.fail(original)
        const diff = expected(stored.value)
        if (diff !== "") return yield* new TransferConflict({ id, difference: diff })
        return stored.value
      })

    const invalid = ({ amount, debit, credit }: TransferRequest): InvalidTransfer | undefined =>
      !Number.isSafeInteger(amount) || amount <= 0
        ? new InvalidTransfer({ reason: `amount must be a whole number of points greater than zero, got ${amount}` })
        : debit === credit
          ? new InvalidTransfer({ reason: `debit and credit are the same account (${debit})` })
          : undefined

    const bodyOf = (request: TransferRequest) => {
      const flag: "posted" | "pending" = request.pending === true ? "pending" : "posted"
      const ref = request.ref ?? null
      const expected = (stored: Transfer) => difference(stored, flag, request.debit, request.credit, request.amount, request.code, ref, null)
      return { flag, ref, phase: request.pending === true ? ("pending" as const) : ("posted" as const), expected }
    }

    const made = (request: TransferRequest, flag: "posted" | "pending", ref: string | null, now: number) =>
      // Built from what was just written rather than read back: one statement fewer on the hot path.
      new Transfer({ id: request.id, debitAccount: request.debit, creditAccount: request.credit, amount: request.amount, flag, state: flag, pendingId: null, code: request.code, ref, createdAtMs: now }, true)

    const transfer = (request: TransferRequest): Effect.Effect<Transfer, TransferError> => {
      const { amount, credit, debit, id, code } = request
      const { flag, ref, phase, expected } = bodyOf(request)
      const refused = invalid(request)
      if (refused !== undefined) return Effect.fail(refused)
      /**
       * The move, then the idempotent insert: two statements. In a transaction of its own a refusal
       * is rolled back; inside the caller's (`joined`), with no savepoint, it takes back by hand the
       * row it may have moved (as `transferBatch` does), so it leaves no trace and the caller may go
       * on. Written with `flatMap` rather than `Effect.gen`: this is the ledger's hottest path.
       */
      const write = (joined: boolean): Effect.Effect<Transfer, TransferError | Replay | SqlError> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatMap(applyMove(debit, credit, phase, amount), (changed): Effect.Effect<Transfer, TransferError | Replay | SqlError> => {
            if (changed < 2) return Effect.flatMap(refusal(changed, debit, credit, phase, amount, joined), Effect.fail)
            const inserted = Effect.as(tryInsert(id, debit, credit, amount, flag, flag, null, code, ref, now), made(request, flag, ref, now))
            return joined ? Effect.tapError(inserted, () => undoMove([debit, credit], debit, credit, phase, amount)) : inserted
          })
        )
      return Effect.withFiberRuntime<Transfer, TransferError | Replay | SqlError>((fiber) => {
        const body = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)._tag === "Some" ? write(true) : sql.withTransaction(write(false))
        return fiber.getFiberRef(FiberRef.currentTracerEnabled)
          ? Effect.withSpan(body, "Ledger.transfer", { attributes: { code }, captureStackTrace: false })
          : body
      }).pipe(
        // A failure may be the replay of a transfer that succeeded before; the first result wins.
        Effect.catchTags({
          SqlError: (error: SqlError) => Effect.die(error),
          Replay: (replay: Replay) => replayed(id, replay, expected).pipe(Effect.catchTag("Replay", (e) => Effect.die(e))),
          InsufficientFunds: (error: InsufficientFunds) => replayed(id, error, expected),
          AccountNotFound: (error: AccountNotFound) => replayed(id, error, expected)
        })
      )
    }

    /**
     * Many transfers in one transaction, each with its own result, as TigerBeetle's create_transfers:
     * one refused transfer (floor, missing account, conflicting replay, bad amount) leaves no trace
     * and does not stop the others. It is what sweeps and campaign grants use, and it is how the
     * ledger reaches its throughput: the transaction's fixed cost is paid once per batch. Results come
     * in request order; a duplicate id within the batch answers like any replay.
     */
    const transferBatch = (requests: ReadonlyArray<TransferRequest>): Effect.Effect<ReadonlyArray<Either.Either<Transfer, TransferError>>, InvalidTransfer> => {
      if (requests.length > BATCH_TRANSFERS_MAX) {
        return Effect.fail(new InvalidTransfer({ reason: `a batch holds at most ${BATCH_TRANSFERS_MAX} transfers, got ${requests.length}; split it` }))
      }
      const one = (request: TransferRequest, now: number): Effect.Effect<Either.Either<Transfer, TransferError>> =>
        Effect.gen(function* () {
          const refused = invalid(request)
          if (refused !== undefined) return Either.left(refused)
          const { amount, credit, debit, id, code } = request
          const { flag, ref, phase, expected } = bodyOf(request)
          const changed = yield* Effect.orDie(applyMove(debit, credit, phase, amount))
          const answer = (original: TransferError) => Effect.either(replayed(id, original, expected))
          // No savepoint per transfer: a refusal undoes the one row that moved, by hand.
          if (changed < 2) return yield* answer(yield* refusal(changed, debit, credit, phase, amount, true))
          const inserted = yield* Effect.either(insertTransfer(id, debit, credit, amount, flag, flag, null, code, ref, now))
          if (Either.isLeft(inserted)) {
            yield* undoMove([debit, credit], debit, credit, phase, amount)
            return yield* answer(new InvalidTransfer({ reason: `transfer ${id} vanished during its replay check` }))
          }
          return Either.right(made(request, flag, ref, now))
        })
      return sql.withTransaction(
        Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.forEach(requests, (request) => one(request, now)))
      ).pipe(
        Effect.catchTag("SqlError", (error) => Effect.die(error)),
        traced("Ledger.transferBatch", { attributes: { size: requests.length } })
      )
    }

    const claimsFirst = sql.onDialectOrElse({ pg: () => false, orElse: () => true })

    const resolve = (request: ResolveRequest, post: boolean): Effect.Effect<Transfer, ResolveError> => {
      const flag: TransferFlag = post ? "post_pending" : "void_pending"
      const { id, pendingId } = request
      const state = post ? "posted" : "voided"
      /**
       * SQLite (a single writer: no lock order to keep) claims the pending transfer first, in one
       * statement that also reads it; a resolution that is not the usual case (already resolved,
       * absent, a replay, an id in use) leaves no trace and goes the full way below.
       */
      const claimFirst = Effect.gen(function* () {
        const claimed = yield* query(
          sql`
          UPDATE ledger_transfers SET state = ${state} WHERE id = ${pendingId} AND flag = 'pending' AND state = 'pending'
          RETURNING *`,
          transferRows
        )
        const row = claimed[0]
        if (row === undefined) return Option.none<Transfer>()
        const { amount, credit_account: creditAccount, debit_account: debitAccount, code, ref } = row
        const now = yield* Clock.currentTimeMillis
        const inserted = yield* Effect.either(insertTransfer(id, debitAccount, creditAccount, amount, flag, state, pendingId, code, ref, now))
        if (inserted._tag === "Left") {
          yield* sql`UPDATE ledger_transfers SET state = 'pending' WHERE id = ${pendingId}`.pipe(Effect.orDie)
          return Option.none<Transfer>()
        }
        yield* settlePending(debitAccount, creditAccount, amount, post)
        return Option.some(new Transfer({ id, debitAccount, creditAccount, amount, flag, state, pendingId, code, ref, createdAtMs: now }, true))
      })
      const write = Effect.gen(function* () {
        if (claimsFirst) {
          const done = yield* claimFirst
          if (Option.isSome(done)) return done.value
        }
        // The pending transfer and (on a replay) the resolution, in one statement.
        const both = yield* findTransfers([pendingId, id])
        const pending = Option.fromNullable(both.find((transfer) => transfer.id === pendingId))
        if (Option.isNone(pending) || pending.value.flag !== "pending") {
          return yield* new PendingNotFound({ pendingId })
        }
        const { amount, creditAccount, debitAccount, code, ref } = pending.value
        const stored = Option.fromNullable(both.find((transfer) => transfer.id === id))
        if (Option.isSome(stored)) {
          const diff = difference(stored.value, flag, debitAccount, creditAccount, amount, code, ref, pendingId)
          if (diff === "") return stored.value
          return yield* new TransferConflict({ id, difference: diff })
        }
        // The accounts first, then the pending transfer: every writer takes the accounts before any
        // transfer row, so a resolution cannot deadlock with a replay of the pending transfer (which
        // moves the accounts and then meets the pending row's id). A claim that finds the transfer
        // already resolved fails, and the rollback undoes the settlement.
        yield* settlePending(debitAccount, creditAccount, amount, post)
        const claimed = yield* sql`
          UPDATE ledger_transfers SET state = ${state} WHERE id = ${pendingId} AND state = 'pending' RETURNING id`.pipe(Effect.orDie)
        if (claimed.length === 0) {
          // Joined to the caller's transaction there is no savepoint to roll back: undo the settlement.
          yield* settlePending(debitAccount, creditAccount, -amount, post)
          return yield* new PendingAlreadyResolved({ pendingId, state: pending.value.state })
        }
        const now = yield* Clock.currentTimeMillis
        yield* insertTransfer(id, debitAccount, creditAccount, amount, flag, state, pendingId, code, ref, now).pipe(
          Effect.catchTag("Replay", () => Effect.dieMessage(`resolution ${id} appeared during its own transaction`))
        )
        return new Transfer({ id, debitAccount, creditAccount, amount, flag, state, pendingId, code, ref, createdAtMs: now }, true)
      })
      return inTransactionOr(sql, write, write).pipe(
        Effect.catchTag("SqlError", (error) => Effect.die(error)),
        traced(post ? "Ledger.post" : "Ledger.void")
      )
    }

    const balance = (account: AccountId): Effect.Effect<Balance, AccountNotFound> =>
      findAccount(account).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(new AccountNotFound({ account })), onSome: (row) => Effect.succeed(balanceFromRow(row)) })),
        traced("Ledger.balance")
      )

    /** The newest transfers touching an account, newest first; `beforeMs` pages back in time. */
    const history = (account: AccountId, options: { readonly limit?: number; readonly beforeMs?: number } = {}) => {
      const limit = Math.min(Math.max(1, options.limit ?? 100), HISTORY_LIMIT_MAX)
      const before = options.beforeMs === undefined ? sql`` : sql`AND created_at_ms < ${options.beforeMs}`
      return sql`
        SELECT * FROM ledger_transfers
        WHERE (debit_account = ${account} OR credit_account = ${account}) ${before}
        ORDER BY created_at_ms DESC, id DESC
        LIMIT ${limit}`.pipe(
        Effect.flatMap(decodeTransfers),
        Effect.map((rows) => rows.map(transferFromRow)),
        Effect.orDie,
        traced("Ledger.history")
      )
    }

    return {
      openAccount,
      transfer,
      transferBatch,
      post: (request: ResolveRequest) => resolve(request, true),
      void: (request: ResolveRequest) => resolve(request, false),
      balance,
      history,
      getTransfer: (id: TransferId) => findTransfer(id).pipe(traced("Ledger.getTransfer"))
    } as const
  })
}) {}
