import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option, Random } from "effect"
import * as fc from "fast-check"
import { nativeTestLayer, testStores } from "../adapters/store/testing.js"
import { Auditor } from "./audit.js"
import { Account, AccountId } from "./domain/ledger.js"
import { TransferId, UserId } from "./domain/ids.js"
import { BATCH_TRANSFERS_MAX, Ledger, type TransferRequest } from "./ledger.js"
import { snapshotTables } from "./testing/refusals.js"

const tid = (s: string) => TransferId.make(s)
const alice = Account.user(UserId.make("usr_alice"))
const bob = Account.user(UserId.make("usr_bob"))

const withUsers = Effect.gen(function* () {
  const ledger = yield* Ledger
  yield* ledger.openAccount(alice, "user")
  yield* ledger.openAccount(bob, "user")
  yield* ledger.transfer({ id: tid("g1"), debit: Account.issuer, credit: alice, amount: 1000, code: "grant" })
  return ledger
})

// Native SQLite (better-sqlite3) too: the ledger benchmark runs on it, through the same client as sql.js.
for (const store of [...testStores, { name: "native", layer: nativeTestLayer }]) {
  // Every property run builds fresh databases; on PostgreSQL that is a migrated schema each, so fewer
  // runs there (the SQL is the same; sql.js explores the input space, PostgreSQL its concurrency).
  const runs = (n: number) => ({ fastCheck: { numRuns: store.name === "postgres" ? Math.ceil(n / 4) : n }, timeout: 120_000 })
  // Tracing off, as the server, the simulator and the benchmarks run: the hot statements then go
  // straight to the transaction's connection (compiled-statement.ts). One test below runs with it on.
  const run = <A, E>(effect: Effect.Effect<A, E, Ledger | Auditor | SqlClient.SqlClient>) =>
    effect.pipe(Effect.provide(Ledger.Default), Effect.provide(Auditor.Default), Effect.provide(store.layer), Effect.withTracerEnabled(false))

  describe(`Ledger on ${store.name}`, () => {
    it.effect("a posted grant moves points from the issuer, which may go negative", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          expect((yield* ledger.balance(alice)).posted).toBe(1000)
          expect((yield* ledger.balance(Account.issuer)).posted).toBe(-1000)
        })
      ))

    it.effect("a pending transfer counts against the floor until it is posted or voided", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          yield* ledger.transfer({ id: tid("p1"), debit: alice, credit: bob, amount: 700, pending: true, code: "order" })
          const held = yield* ledger.balance(alice)
          expect([held.posted, held.debitsPending, held.available]).toEqual([1000, 700, 300])
          const refused = yield* Effect.either(ledger.transfer({ id: tid("p2"), debit: alice, credit: bob, amount: 301, pending: true, code: "order" }))
          expect(Either.isLeft(refused) && refused.left._tag).toBe("InsufficientFunds")
          yield* ledger.post({ id: tid("p1:post"), pendingId: tid("p1") })
          expect((yield* ledger.balance(alice)).posted).toBe(300)
          expect((yield* ledger.balance(bob)).posted).toBe(700)
          expect(Option.getOrThrow(yield* ledger.getTransfer(tid("p1"))).state).toBe("posted")
        })
      ))

    // Tracing on: the statements go through sql.unsafe with their spans (compiled-statement.ts).
    for (const tracing of [false, true]) {
      it.effect(`inside a caller's transaction a refused transfer or resolution leaves no trace, and the caller goes on (tracing ${tracing ? "on" : "off"})`, () =>
        run(
          Effect.gen(function* () {
            const ledger = yield* withUsers
            const sql = yield* SqlClient.SqlClient
            yield* ledger.transfer({ id: tid("p1"), debit: alice, credit: bob, amount: 100, pending: true, code: "order" })
            yield* ledger.post({ id: tid("p1:post"), pendingId: tid("p1") })
            const before = yield* snapshotTables
            const outcomes = yield* sql.withTransaction(
              Effect.gen(function* () {
                // The credit row would move, the debit's floor refuses: the credit must be taken back.
                const floor = yield* Effect.either(ledger.transfer({ id: tid("t1"), debit: alice, credit: bob, amount: 5000, code: "order" }))
                // Both rows move, then the id is found taken by another body: both taken back.
                const conflict = yield* Effect.either(ledger.transfer({ id: tid("g1"), debit: alice, credit: bob, amount: 10, code: "order" }))
                // Only the debit row exists and moves: taken back; only the credit row exists: likewise.
                const nobody = Account.user(UserId.make("usr_nobody"))
                const noCredit = yield* Effect.either(ledger.transfer({ id: tid("t3"), debit: alice, credit: nobody, amount: 10, code: "order" }))
                const noDebit = yield* Effect.either(ledger.transfer({ id: tid("t4"), debit: nobody, credit: bob, amount: 10, code: "order" }))
                // Already posted: a void after it is refused, the settlement undone.
                const resolved = yield* Effect.either(ledger.void({ id: tid("p1:void"), pendingId: tid("p1") }))
                const tagOf = (outcome: Either.Either<unknown, { readonly _tag: string }>) => (Either.isLeft(outcome) ? outcome.left._tag : "ok")
                return [tagOf(floor), tagOf(conflict), tagOf(noCredit), tagOf(noDebit), tagOf(resolved)]
              })
            )
            expect(outcomes).toEqual(["InsufficientFunds", "TransferConflict", "AccountNotFound", "AccountNotFound", "PendingAlreadyResolved"])
            expect(yield* snapshotTables).toEqual(before)
            yield* sql.withTransaction(ledger.transfer({ id: tid("t2"), debit: alice, credit: bob, amount: 50, code: "order" }))
            expect((yield* ledger.balance(bob)).posted).toBe(150)
          }).pipe(Effect.withTracerEnabled(tracing))
        ))
    }

    it.effect("void releases a pending transfer and changes no posted balance", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          yield* ledger.transfer({ id: tid("p1"), debit: alice, credit: bob, amount: 400, pending: true, code: "order" })
          const voided = yield* ledger.void({ id: tid("p1:void"), pendingId: tid("p1") })
          expect(voided.flag).toBe("void_pending")
          const a = yield* ledger.balance(alice)
          const b = yield* ledger.balance(bob)
          expect([a.posted, a.debitsPending, b.posted, b.creditsPending]).toEqual([1000, 0, 0, 0])
        })
      ))

    it.effect("a pending transfer resolves exactly once: replays agree, a second resolution is refused", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          yield* ledger.transfer({ id: tid("p1"), debit: alice, credit: bob, amount: 100, pending: true, code: "order" })
          const first = yield* ledger.post({ id: tid("p1:post"), pendingId: tid("p1") })
          const again = yield* ledger.post({ id: tid("p1:post"), pendingId: tid("p1") })
          expect(again).toEqual(first)
          const before = yield* snapshotTables
          const voidAfterPost = yield* Effect.either(ledger.void({ id: tid("p1:void"), pendingId: tid("p1") }))
          expect(Either.isLeft(voidAfterPost) && voidAfterPost.left._tag).toBe("PendingAlreadyResolved")
          const postUnderOtherId = yield* Effect.either(ledger.post({ id: tid("p1:post2"), pendingId: tid("p1") }))
          expect(Either.isLeft(postUnderOtherId) && postUnderOtherId.left._tag).toBe("PendingAlreadyResolved")
          const replayAsVoid = yield* Effect.either(ledger.void({ id: tid("p1:post"), pendingId: tid("p1") }))
          expect(Either.isLeft(replayAsVoid) && replayAsVoid.left._tag).toBe("TransferConflict")
          expect(yield* snapshotTables).toBe(before)
        })
      ))

    it.effect("resolving what is not a pending transfer is refused", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          const unknown = yield* Effect.either(ledger.post({ id: tid("x:post"), pendingId: tid("nope") }))
          expect(Either.isLeft(unknown) && unknown.left._tag).toBe("PendingNotFound")
          const posted = yield* Effect.either(ledger.void({ id: tid("g1:void"), pendingId: tid("g1") }))
          expect(Either.isLeft(posted) && posted.left._tag).toBe("PendingNotFound")
        })
      ))

    it.effect("the same id and body returns the first result; another body is a conflict that writes nothing", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          const request = { id: tid("t1"), debit: alice, credit: bob, amount: 250, code: "redeem" as const, ref: "rdm_1" }
          const first = yield* ledger.transfer(request)
          const again = yield* ledger.transfer(request)
          expect(again).toEqual(first)
          const before = yield* snapshotTables
          const conflict = yield* Effect.either(ledger.transfer({ ...request, amount: 251 }))
          expect(Either.isLeft(conflict) && conflict.left._tag).toBe("TransferConflict")
          expect(Either.isLeft(conflict) && conflict.left.message).toContain("amount 250 vs 251")
          expect(yield* snapshotTables).toBe(before)
        })
      ))

    it.effect("a replay succeeds even when the account could no longer pay it", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          const spendAll = { id: tid("all"), debit: alice, credit: bob, amount: 1000, code: "redeem" as const }
          const first = yield* ledger.transfer(spendAll)
          expect(yield* ledger.transfer(spendAll)).toEqual(first)
        })
      ))

    it.effect("refusals write nothing: overdraft, unknown account, bad amounts, same account", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          const before = yield* snapshotTables
          const attempts = [
            { id: tid("r1"), debit: alice, credit: bob, amount: 1001, code: "redeem" as const },
            { id: tid("r2"), debit: AccountId.make("user:usr_ghost"), credit: bob, amount: 1, code: "redeem" as const },
            { id: tid("r3"), debit: alice, credit: AccountId.make("user:usr_ghost"), amount: 1, code: "redeem" as const },
            { id: tid("r4"), debit: alice, credit: bob, amount: 0, code: "redeem" as const },
            { id: tid("r5"), debit: alice, credit: bob, amount: -5, code: "redeem" as const },
            { id: tid("r6"), debit: alice, credit: bob, amount: 1.5, code: "redeem" as const },
            { id: tid("r7"), debit: alice, credit: alice, amount: 1, code: "redeem" as const }
          ]
          const tags = []
          for (const attempt of attempts) {
            const result = yield* Effect.either(ledger.transfer(attempt))
            tags.push(Either.isLeft(result) ? result.left._tag : "accepted")
          }
          expect(tags).toEqual(["InsufficientFunds", "AccountNotFound", "AccountNotFound", "InvalidTransfer", "InvalidTransfer", "InvalidTransfer", "InvalidTransfer"])
          expect(yield* snapshotTables).toBe(before)
        })
      ))

    it.effect("opening an account twice is a no-op; as another kind it is refused", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          yield* ledger.openAccount(alice, "user")
          const clash = yield* Effect.either(ledger.openAccount(alice, "coupon"))
          expect(Either.isLeft(clash) && clash.left._tag).toBe("AccountKindConflict")
          expect((yield* ledger.balance(alice)).posted).toBe(1000)
        })
      ))

    it.effect("history lists an account's transfers newest first, bounded", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          for (let i = 0; i < 5; i++) {
            yield* ledger.transfer({ id: tid(`h${i}`), debit: alice, credit: bob, amount: 10, code: "redeem" })
          }
          const page = yield* ledger.history(alice, { limit: 3 })
          expect(page.map((t) => t.id)).toEqual(["h4", "h3", "h2"])
          expect((yield* ledger.history(bob)).length).toBe(5)
        })
      ))

    it.effect("100 concurrent debits of one account never overdraw it", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          const results = yield* Effect.forEach(
            Array.from({ length: 100 }, (_, i) => i),
            (i) => Effect.either(ledger.transfer({ id: tid(`c${i}`), debit: alice, credit: bob, amount: 30, code: "redeem" })),
            { concurrency: "unbounded" }
          )
          expect(results.filter(Either.isRight).length).toBe(33)
          expect((yield* ledger.balance(alice)).posted).toBe(10)
          expect((yield* (yield* Auditor).run).ok).toBe(true)
        })
      ))

    it.effect("posts racing replays of their pending transfers all finish, each pending resolved once", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          const pending = Array.from({ length: 40 }, (_, i) => ({ id: tid(`p${i}`), debit: alice, credit: bob, amount: 1, pending: true, code: "order" as const }))
          for (const request of pending) yield* ledger.transfer(request)
          // Each post races two replays of its own pending transfer: on PostgreSQL a post that took
          // the pending row before the accounts deadlocked with a replay holding the accounts.
          const racing = pending.flatMap((request, i) => [
            Effect.asVoid(ledger.post({ id: tid(`post${i}`), pendingId: request.id })),
            Effect.asVoid(ledger.transfer(request)),
            Effect.asVoid(ledger.transfer(request))
          ])
          yield* Effect.all(racing, { concurrency: "unbounded" })
          const balance = yield* ledger.balance(alice)
          expect([balance.debitsPending, balance.posted]).toEqual([0, 1000 - 40])
          expect((yield* (yield* Auditor).run).ok).toBe(true)
        })
      ))

    it.effect("a batch answers each transfer on its own: refusals leave no trace, the rest apply", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          yield* ledger.transfer({ id: tid("earlier"), debit: alice, credit: bob, amount: 100, code: "redeem" })
          const results = yield* ledger.transferBatch([
            { id: tid("b1"), debit: alice, credit: bob, amount: 300, code: "redeem" },
            { id: tid("b2"), debit: alice, credit: bob, amount: 10_000, code: "redeem" },
            { id: tid("b3"), debit: alice, credit: AccountId.make("user:usr_ghost"), amount: 1, code: "redeem" },
            { id: tid("b4"), debit: alice, credit: bob, amount: 0, code: "redeem" },
            { id: tid("earlier"), debit: alice, credit: bob, amount: 100, code: "redeem" },
            { id: tid("earlier"), debit: alice, credit: bob, amount: 101, code: "redeem" },
            { id: tid("b1"), debit: alice, credit: bob, amount: 300, code: "redeem" },
            { id: tid("b5"), debit: alice, credit: bob, amount: 200, pending: true, code: "order" }
          ])
          expect(results.map((r) => (Either.isRight(r) ? r.right.id : r.left._tag))).toEqual([
            "b1", "InsufficientFunds", "AccountNotFound", "InvalidTransfer", "earlier", "TransferConflict", "b1", "b5"
          ])
          const a = yield* ledger.balance(alice)
          expect([a.posted, a.debitsPending]).toEqual([600, 200])
          expect((yield* ledger.balance(bob)).posted).toBe(400)
          const report = yield* (yield* Auditor).run
          expect(report.checks.filter((c) => !c.ok)).toEqual([])
        })
      ))

    it.effect("a batch larger than the bound is refused whole", () =>
      run(
        Effect.gen(function* () {
          const ledger = yield* withUsers
          const before = yield* snapshotTables
          const tooMany = Array.from({ length: BATCH_TRANSFERS_MAX + 1 }, (_, i) => ({ id: tid(`x${i}`), debit: Account.issuer, credit: alice, amount: 1, code: "grant" as const }))
          const result = yield* Effect.either(ledger.transferBatch(tooMany))
          expect(Either.isLeft(result) && result.left.message).toContain(`at most ${BATCH_TRANSFERS_MAX}`)
          expect(yield* snapshotTables).toBe(before)
        })
      ))

    // --- properties ------------------------------------------------------------------------------

    type Op =
      | { readonly kind: "grant"; readonly user: number; readonly amount: number }
      | { readonly kind: "move"; readonly from: number; readonly to: number; readonly amount: number; readonly pending: boolean }
      | { readonly kind: "post" | "void"; readonly target: number }
      | { readonly kind: "replay"; readonly target: number; readonly conflicting: boolean }

    const users = [0, 1, 2].map((i) => Account.user(UserId.make(`usr_p${i}`)))
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant("grant" as const), user: fc.nat(2), amount: fc.integer({ min: 1, max: 500 }) }),
      fc.record({ kind: fc.constant("move" as const), from: fc.nat(2), to: fc.nat(2), amount: fc.integer({ min: 1, max: 400 }), pending: fc.boolean() }),
      fc.record({ kind: fc.constantFrom("post" as const, "void" as const), target: fc.nat(60) }),
      fc.record({ kind: fc.constant("replay" as const), target: fc.nat(60), conflicting: fc.boolean() })
    )

    /** Runs op i; returns what the ledger answered, as a comparable string. */
    const apply = (ledger: Ledger, ops: ReadonlyArray<Op>, i: number): Effect.Effect<string> => {
      const op = ops[i]!
      const id = tid(`op${i}`)
      const answer = <A extends { readonly id: string }, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
        Effect.match(effect, { onFailure: (e) => `fail:${e._tag}`, onSuccess: (t) => `ok:${JSON.stringify(t)}` })
      const request = (k: number) => {
        const o = ops[k]!
        if (o.kind === "grant") return { id: tid(`op${k}`), debit: Account.issuer, credit: users[o.user]!, amount: o.amount, code: "grant" as const }
        if (o.kind === "move" && o.from !== o.to) return { id: tid(`op${k}`), debit: users[o.from]!, credit: users[o.to]!, amount: o.amount, pending: o.pending, code: "order" as const }
        return undefined
      }
      switch (op.kind) {
        case "grant":
        case "move": {
          const req = request(i)
          return req === undefined ? Effect.succeed("skip") : answer(ledger.transfer(req))
        }
        case "post":
          return answer(ledger.post({ id, pendingId: tid(`op${op.target}`) }))
        case "void":
          return answer(ledger.void({ id, pendingId: tid(`op${op.target}`) }))
        case "replay": {
          const req = op.target < ops.length ? request(op.target) : undefined
          if (req === undefined) return Effect.succeed("skip")
          return answer(ledger.transfer(op.conflicting ? { ...req, amount: req.amount + 1 } : req))
        }
      }
    }

    /** A pure model of the ledger: what each op must answer when ops run one at a time. */
    const model = (ops: ReadonlyArray<Op>) => {
      const posted = new Map<string, number>()
      const pendingDebits = new Map<string, number>()
      type Made = { debit: string; credit: string; amount: number; pending: boolean; state: string }
      const made = new Map<number, Made>()
      const outcomes: Array<string> = []
      const get = (m: Map<string, number>, k: string) => m.get(k) ?? 0
      const bodyOf = (k: number, bump: number): Omit<Made, "state"> | undefined => {
        const o = ops[k]
        if (o?.kind === "grant") return { debit: "issuer", credit: users[o.user]!, amount: o.amount + bump, pending: false }
        if (o?.kind === "move" && o.from !== o.to) return { debit: users[o.from]!, credit: users[o.to]!, amount: o.amount + bump, pending: o.pending }
        return undefined
      }
      // A request under transfer id k, whoever issues it: the original op or a replay of it.
      const request = (k: number, body: Omit<Made, "state">): string => {
        const existing = made.get(k)
        if (existing !== undefined) {
          const same = existing.debit === body.debit && existing.credit === body.credit && existing.amount === body.amount && existing.pending === body.pending
          return same ? "ok" : "fail:TransferConflict"
        }
        if (body.debit !== "issuer" && get(posted, body.debit) - get(pendingDebits, body.debit) < body.amount) return "fail:InsufficientFunds"
        if (body.pending) pendingDebits.set(body.debit, get(pendingDebits, body.debit) + body.amount)
        else {
          posted.set(body.debit, get(posted, body.debit) - body.amount)
          posted.set(body.credit, get(posted, body.credit) + body.amount)
        }
        made.set(k, { ...body, state: body.pending ? "pending" : "posted" })
        return "ok"
      }
      ops.forEach((op, i) => {
        if (op.kind === "grant" || op.kind === "move") {
          const body = bodyOf(i, 0)
          return outcomes.push(body === undefined ? "skip" : request(i, body))
        }
        if (op.kind === "replay") {
          const body = bodyOf(op.target, op.conflicting ? 1 : 0)
          return outcomes.push(body === undefined ? "skip" : request(op.target, body))
        }
        const target = made.get(op.target)
        if (target === undefined || !target.pending) return outcomes.push("fail:PendingNotFound")
        if (target.state !== "pending") return outcomes.push("fail:PendingAlreadyResolved")
        target.state = op.kind === "post" ? "posted" : "voided"
        pendingDebits.set(target.debit, get(pendingDebits, target.debit) - target.amount)
        if (op.kind === "post") {
          posted.set(target.debit, get(posted, target.debit) - target.amount)
          posted.set(target.credit, get(posted, target.credit) + target.amount)
        }
        return outcomes.push("ok")
      })
      return { posted, outcomes }
    }

    it.effect.prop(
      "one at a time, the ledger answers and balances exactly as a pure model does (invariants 1, 2, 6)",
      [fc.array(opArb, { minLength: 1, maxLength: 40 })],
      ([ops]) =>
        run(
          Effect.gen(function* () {
            const ledger = yield* Ledger
            for (const user of users) yield* ledger.openAccount(user, "user")
            const expected = model(ops)
            const first = new Map<number, string>()
            for (let i = 0; i < ops.length; i++) {
              const got = yield* apply(ledger, ops, i)
              first.set(i, got)
              const want = expected.outcomes[i]!
              if (want === "ok") expect(got.startsWith("ok:")).toBe(true)
              else expect(got).toBe(want)
              const op = ops[i]!
              // Invariant 6: an accepted replay of an accepted request returns exactly the first answer.
              const original = op.kind === "replay" ? first.get(op.target) : undefined
              if (op.kind === "replay" && !op.conflicting && want === "ok" && original?.startsWith("ok:") === true) {
                const originalTransfer = JSON.parse(original.slice(3)) as { id: string; amount: number; debitAccount: string; createdAtMs: number }
                const replayTransfer = JSON.parse(got.slice(3)) as typeof originalTransfer
                expect([replayTransfer.id, replayTransfer.amount, replayTransfer.debitAccount, replayTransfer.createdAtMs]).toEqual([
                  originalTransfer.id, originalTransfer.amount, originalTransfer.debitAccount, originalTransfer.createdAtMs
                ])
              }
            }
            for (const user of users) expect((yield* ledger.balance(user)).posted).toBe(expected.posted.get(user) ?? 0)
            const report = yield* (yield* Auditor).run
            expect(report.checks.filter((c) => !c.ok)).toEqual([])
          })
        ),
      runs(40)
    )

    it.effect.prop(
      "a batch answers and balances exactly as the same transfers sent one by one",
      [fc.array(opArb.filter((op) => op.kind === "grant" || op.kind === "move" || op.kind === "replay"), { minLength: 1, maxLength: 40 })],
      ([ops]) =>
        Effect.gen(function* () {
          const requests = ops.flatMap((op, i): Array<TransferRequest> => {
            const target = op.kind === "replay" ? ops[op.target] : op
            const k = op.kind === "replay" ? op.target : i
            const bump = op.kind === "replay" && op.conflicting ? 1 : 0
            if (target?.kind === "grant") return [{ id: tid(`op${k}`), debit: Account.issuer, credit: users[target.user]!, amount: target.amount + bump, code: "grant" as const }]
            if (target?.kind === "move" && target.from !== target.to) {
              return [{ id: tid(`op${k}`), debit: users[target.from]!, credit: users[target.to]!, amount: target.amount + bump, pending: target.pending, code: "order" as const }]
            }
            return []
          })
          const outcome = (batch: boolean) =>
            run(
              Effect.gen(function* () {
                const ledger = yield* Ledger
                for (const user of users) yield* ledger.openAccount(user, "user")
                const answers = batch
                  ? yield* ledger.transferBatch(requests)
                  : yield* Effect.forEach(requests, (request) => Effect.either(ledger.transfer(request)))
                const balances = yield* Effect.forEach(users, (user) => Effect.map(ledger.balance(user), (b) => [b.posted, b.debitsPending]))
                const report = yield* (yield* Auditor).run
                expect(report.checks.filter((c) => !c.ok)).toEqual([])
                return { answers: answers.map((a) => (Either.isRight(a) ? `${a.right.id}:${a.right.amount}` : a.left._tag)), balances }
              })
            )
          expect(yield* outcome(true)).toEqual(yield* outcome(false))
        }),
      runs(25)
    )

    it.effect.prop(
      "random interleavings of grants, pending/post/void, duplicates and conflicting replays keep invariants 1, 2 and 6",
      [fc.array(opArb, { minLength: 5, maxLength: 60 }), fc.integer()],
      ([ops, seed]) =>
        run(
          Effect.gen(function* () {
            const ledger = yield* Ledger
            for (const user of users) yield* ledger.openAccount(user, "user")
            // Duplicates: every op is issued twice, the copies shuffled among the originals.
            const order = yield* Random.shuffle([...ops.keys(), ...ops.keys()])
            const answers = yield* Effect.forEach(order, (i) => Effect.map(apply(ledger, ops, i), (a) => [i, a] as const), { concurrency: 8 })
            const byOp = new Map<number, Array<string>>()
            for (const [i, a] of answers) byOp.set(i, [...(byOp.get(i) ?? []), a])
            for (const [i, both] of byOp) {
              const op = ops[i]!
              // The same request twice: if either was accepted, both answers are the same transfer.
              if ((op.kind === "grant" || op.kind === "move") && both.some((a) => a.startsWith("ok:"))) {
                const ids = both.filter((a) => a.startsWith("ok:")).map((a) => JSON.parse(a.slice(3)).createdAtMs)
                expect(new Set(ids).size).toBe(1)
              }
            }
            const report = yield* (yield* Auditor).run
            expect(report.checks.filter((c) => !c.ok)).toEqual([])
          }).pipe(Effect.withRandom(Random.make(seed)))
        ),
      runs(30)
    )
  })
}
