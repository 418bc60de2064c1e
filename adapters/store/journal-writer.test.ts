import type { FileHandle } from "node:fs/promises"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { journalHeaderBytes } from "./journal-format.js"
import { makeJournalWriter } from "./journal-writer.js"

/** A file handle whose writes and syncs are recorded, and fail from the `failFrom`-th datasync on. */
const fakeHandle = (failFrom: number) => {
  const calls = { writes: 0, datasyncs: 0 }
  const handle = {
    write: async (_buffer: Buffer, _offset: number, length: number) => {
      calls.writes++
      return { bytesWritten: length }
    },
    sync: async () => undefined,
    truncate: async () => undefined,
    datasync: async () => {
      calls.datasyncs++
      if (calls.datasyncs >= failFrom) throw new Error("EIO: i/o error")
    }
  }
  // Only the methods above are used by the writer.
  return { calls, handle: handle as unknown as FileHandle }
}

const writer = (failFrom: number) =>
  Effect.gen(function* () {
    const fake = fakeHandle(failFrom)
    const journal = yield* makeJournalWriter({ path: "/fake/journal", handle: fake.handle, end: journalHeaderBytes, allocated: journalHeaderBytes, lastSeq: 0 })
    return { ...fake, journal }
  })

describe("journal writer", () => {
  it.scoped("acknowledges appended records once written and fdatasynced, many to one sync", () =>
    Effect.gen(function* () {
      const { calls, journal } = yield* writer(Infinity)
      for (let i = 0; i < 10; i++) journal.append(journal.prepare([{ sql: "INSERT INTO t VALUES (?)", params: [i] }]))
      yield* journal.awaitDurable(10)
      assert.strictEqual(journal.appendedSeq(), 10)
      assert.isAtMost(calls.datasyncs, 2)
      assert.strictEqual(journal.stats().transactions, 10)
    }))

  it.scoped("fails every waiter when an fsync fails, and then refuses", () =>
    Effect.gen(function* () {
      const { journal } = yield* writer(1)
      journal.append(journal.prepare([{ sql: "INSERT INTO t VALUES (1)", params: [] }]))
      const exit = yield* Effect.exit(journal.awaitDurable(1))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      assert.include(journal.failure()?.message ?? "", "/fake/journal")
      assert.include(journal.failure()?.message ?? "", "EIO")
      journal.append(journal.prepare([{ sql: "INSERT INTO t VALUES (2)", params: [] }]))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(journal.awaitDurable(2))))
    }))
})
