import { spawnSync } from "node:child_process"
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as DurableStore from "./durable-store.js"
import { encodeRecord, journalHeaderBytes, scanJournal } from "./journal-format.js"
import { storeFiles } from "./recovery.js"
import type { StoreError } from "./store-error.js"

/** Where the journal's records end (the file itself is longer: zeros allocated ahead). */
const journalEnd = (path: string) => scanJournal(readFileSync(path)).end

/** Writes `bytes` into the journal at `offset`, as a crash-interrupted or foreign write would. */
const writeJournalAt = (path: string, bytes: Uint8Array, offset: number) => {
  const file = openSync(path, "r+")
  writeSync(file, bytes, 0, bytes.length, offset)
  closeSync(file)
}

const freshDirectory = () => mkdtempSync(join(tmpdir(), "ecoupon-store-"))

const withStore = <A, E>(
  directory: string,
  use: Effect.Effect<A, E, SqlClient.SqlClient | DurableStore.DurableStore>,
  options: Partial<DurableStore.DurableStoreOptions> = {}
) => use.pipe(Effect.provide(DurableStore.layer({ directory, ...options })))

const sql = SqlClient.SqlClient

const setup = Effect.gen(function* () {
  const db = yield* sql
  yield* db`CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`
  yield* db`INSERT INTO counter VALUES (1, 0)`
})

const increment = Effect.flatMap(sql, (db) => db.withTransaction(db`UPDATE counter SET n = n + 1 WHERE id = 1`))

const count = Effect.flatMap(sql, (db) => db<{ n: number }>`SELECT n FROM counter WHERE id = 1`).pipe(
  Effect.map((rows) => rows[0]?.n)
)

const openError = (directory: string) =>
  Effect.flip(withStore(directory, Effect.void)) as Effect.Effect<StoreError>

describe("durable sql.js store", () => {
  it.live("keeps committed transactions across a clean close, with the journal emptied by the final snapshot", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      yield* withStore(directory, Effect.zipRight(setup, Effect.repeatN(increment, 4)))
      const files = storeFiles(directory)
      assert.strictEqual(journalEnd(files.journal), journalHeaderBytes)
      assert.isFalse(existsSync(files.lock))
      assert.strictEqual(yield* withStore(directory, count), 5)
    }))

  it.live("replays the journal when no snapshot was taken", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      yield* withStore(directory, Effect.zipRight(setup, Effect.repeatN(increment, 2)), { snapshotOnClose: false })
      assert.isFalse(existsSync(storeFiles(directory).snapshot))
      assert.strictEqual(yield* withStore(directory, count, { snapshotOnClose: false }), 3)
      // Replaying twice must not apply anything twice.
      assert.strictEqual(yield* withStore(directory, count), 3)
    }))

  it.live("shares fsyncs between concurrent transactions, and read-only work writes nothing", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const stats = yield* withStore(
        directory,
        Effect.gen(function* () {
          yield* setup
          const store = yield* DurableStore.DurableStore
          const before = store.stats()
          yield* Effect.all(Array.from({ length: 50 }, () => increment), { concurrency: "unbounded" })
          const afterWrites = store.stats()
          const db = yield* sql
          yield* db.withTransaction(db`SELECT * FROM counter`)
          yield* db`SELECT n FROM counter`
          assert.deepStrictEqual(store.stats(), afterWrites)
          return { transactions: afterWrites.transactions - before.transactions, fsyncs: afterWrites.fsyncs - before.fsyncs }
        })
      )
      assert.strictEqual(stats.transactions, 50)
      assert.isBelow(stats.fsyncs, 50)
      assert.strictEqual(yield* withStore(directory, count), 50)
    }))

  it.live("snapshots by itself once the journal passes its bound", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const files = storeFiles(directory)
      yield* withStore(
        directory,
        Effect.gen(function* () {
          yield* setup
          yield* Effect.repeatN(increment, 40)
          // The snapshot runs in the background; give it a moment.
          yield* Effect.sleep("200 millis")
          assert.isTrue(existsSync(files.snapshot))
          assert.isBelow(journalEnd(files.journal), 1024)
        }),
        { snapshotAfterBytes: 1024, snapshotOnClose: false }
      )
      assert.strictEqual(yield* withStore(directory, count), 41)
    }))

  it.live("drops a torn last record and keeps its bytes aside", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const files = storeFiles(directory)
      yield* withStore(directory, Effect.zipRight(setup, increment), { snapshotOnClose: false })
      const goodSize = journalEnd(files.journal)
      const record = encodeRecord(4, [{ sql: "UPDATE counter SET n = n + 100", params: [] }])
      // Cut short inside the preallocated zeros, as a crash during the write leaves it.
      writeJournalAt(files.journal, record.subarray(0, record.length - 3), goodSize)
      assert.strictEqual(yield* withStore(directory, count, { snapshotOnClose: false }), 1)
      assert.strictEqual(journalEnd(files.journal), goodSize)
      assert.deepStrictEqual(readFileSync(`${files.journal}.torn-${goodSize}`), Buffer.from(record.subarray(0, record.length - 3)))
      // And the store goes on appending after the last good record.
      assert.strictEqual(yield* withStore(directory, Effect.zipRight(increment, count), { snapshotOnClose: false }), 2)
      assert.strictEqual(yield* withStore(directory, count), 2)
    }))

  it.live("refuses a bad checksum in the middle of the journal, naming file and offset, and changes nothing", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const files = storeFiles(directory)
      yield* withStore(directory, Effect.zipRight(setup, Effect.repeatN(increment, 2)), { snapshotOnClose: false })
      const bytes = readFileSync(files.journal)
      // The second record's first body byte: header, then record one (its length + 8), then 8 more.
      const second = journalHeaderBytes + bytes.readUInt32LE(journalHeaderBytes) + 8
      bytes[second + 8] = (bytes[second + 8] ?? 0) ^ 0xff
      writeFileSync(files.journal, bytes)
      const error = yield* openError(directory)
      assert.strictEqual(error._tag, "StoreError")
      assert.include(error.message, files.journal)
      assert.include(error.message, `offset ${second}`)
      assert.strictEqual(error.offset, second)
      assert.deepStrictEqual(readFileSync(files.journal), bytes)
      assert.isFalse(existsSync(files.lock))
    }))

  it.live("refuses a damaged snapshot, naming file and offset", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const files = storeFiles(directory)
      yield* withStore(directory, Effect.zipRight(setup, increment))
      const bytes = readFileSync(files.snapshot)
      bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x01
      writeFileSync(files.snapshot, bytes)
      const error = yield* openError(directory)
      assert.include(error.message, files.snapshot)
      assert.include(error.message, "offset 24")
      assert.deepStrictEqual(readFileSync(files.snapshot), bytes)
    }))

  it.live("skips journal records the snapshot already holds (crash between rename and truncate)", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const files = storeFiles(directory)
      yield* withStore(directory, Effect.zipRight(setup, Effect.repeatN(increment, 2)), { snapshotOnClose: false })
      const journal = readFileSync(files.journal)
      yield* withStore(directory, Effect.void)
      writeFileSync(files.journal, journal)
      assert.strictEqual(yield* withStore(directory, Effect.zipRight(increment, count), { snapshotOnClose: false }), 4)
      assert.strictEqual(yield* withStore(directory, count), 4)
    }))

  it.live("refuses a journal that does not continue the snapshot", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const files = storeFiles(directory)
      yield* withStore(directory, setup)
      writeJournalAt(files.journal, encodeRecord(9, [{ sql: "UPDATE counter SET n = 7", params: [] }]), journalHeaderBytes)
      const error = yield* openError(directory)
      assert.include(error.message, "continues at sequence 9")
      assert.strictEqual(error.offset, journalHeaderBytes)
    }))

  it.live("refuses a second opener while the first holds the lock, and takes over a dead one's lock", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      const files = storeFiles(directory)
      yield* withStore(
        directory,
        Effect.gen(function* () {
          const error = yield* openError(directory)
          assert.include(error.message, "already open in this process")
          assert.include(error.message, files.lock)
        })
      )
      const host = (yield* Effect.sync(() => readFileSync("/proc/sys/kernel/hostname", "utf8"))).trim()
      writeFileSync(files.lock, `pid ${process.ppid} host ${host}\n`)
      const live = yield* openError(directory)
      assert.include(live.message, `in use by process ${process.ppid}`)
      const dead = spawnSync(process.execPath, ["-e", ""]).pid
      writeFileSync(files.lock, `pid ${dead} host ${host}\n`)
      yield* withStore(directory, setup)
      assert.isFalse(existsSync(files.lock))
    }))
})
