import { join } from "node:path"
import { Effect } from "effect"
import { JournalDamage, type JournalRecord, type JournalScan, scanJournal } from "./journal-format.js"
import { readFileIfPresent, readSnapshot, SnapshotDamage } from "./snapshot-file.js"
import { openDatabase } from "./sqljs-client.js"
import type { SqljsDatabase } from "./sqljs-database.js"
import { StoreError } from "./store-error.js"

/** The files of a durable store, all in one directory. */
export interface StoreFiles {
  readonly directory: string
  readonly snapshot: string
  readonly journal: string
  readonly lock: string
}

export const storeFiles = (directory: string): StoreFiles => ({
  directory,
  snapshot: join(directory, "ecoupon.snapshot"),
  journal: join(directory, "ecoupon.journal"),
  lock: join(directory, "ecoupon.lock")
})

/** What opening found on disk, and the database rebuilt from it (in memory). */
export interface Recovered {
  readonly db: SqljsDatabase
  /** Sequence number of the last transaction in the snapshot (0 without one). */
  readonly snapshotSeq: number
  /** Sequence number of the last transaction in the database after replay. */
  readonly lastSeq: number
  /** The journal as read; `undefined` when there is no journal file yet. */
  readonly journal: JournalScan | undefined
  /** Records replayed on top of the snapshot. */
  readonly replayed: number
}

const readJournal = (path: string): Effect.Effect<JournalScan | undefined, StoreError> =>
  Effect.tryPromise({
    try: async () => {
      const bytes = await readFileIfPresent(path)
      return bytes === undefined ? undefined : scanJournal(bytes)
    },
    catch: (cause) =>
      cause instanceof JournalDamage
        ? new StoreError({
          file: path,
          offset: cause.offset,
          message: `journal ${path} is damaged at offset ${cause.offset}: ${cause.message}. Nothing was changed; restore the directory from a backup or move the journal aside to open the snapshot alone (losing its transactions)`
        })
        : new StoreError({ file: path, cause, message: `cannot read the journal ${path}: ${String(cause)}` })
  })

const readSnapshotFile = (path: string) =>
  Effect.tryPromise({
    try: () => readSnapshot(path),
    catch: (cause) =>
      cause instanceof SnapshotDamage
        ? new StoreError({
          file: path,
          offset: cause.offset,
          message: `snapshot ${path} is damaged at offset ${cause.offset}: ${cause.message}. Nothing was changed; restore it from a backup`
        })
        : new StoreError({ file: path, cause, message: `cannot read the snapshot ${path}: ${String(cause)}` })
  })

const replay = (db: SqljsDatabase, record: JournalRecord, journal: string): Effect.Effect<void, StoreError> =>
  Effect.try({
    try: () => {
      db.exec("BEGIN")
      try {
        for (const statement of record.statements) db.query(statement.sql, statement.params)
        db.exec("COMMIT")
      } catch (cause) {
        db.exec("ROLLBACK")
        throw cause
      }
    },
    catch: (cause) =>
      new StoreError({
        file: journal,
        offset: record.offset,
        cause,
        message: `journal ${journal}: the transaction at offset ${record.offset} (sequence ${record.seq}) fails to replay: ${cause instanceof Error ? cause.message : String(cause)}. Its SQL is not deterministic or the snapshot does not match the journal; nothing was changed`
      })
  })

/**
 * Rebuilds the database from the snapshot and the journal, read-only: the files are not touched.
 * Records the snapshot already holds (a crash between renaming a snapshot and emptying the journal
 * leaves them) are skipped by sequence number; a gap between the two is refused.
 */
export const recover = (files: StoreFiles): Effect.Effect<Recovered, StoreError> =>
  Effect.gen(function* () {
    const snapshot = yield* readSnapshotFile(files.snapshot)
    const journal = yield* readJournal(files.journal)
    const snapshotSeq = snapshot?.seq ?? 0
    const pending = (journal?.records ?? []).filter((record) => record.seq > snapshotSeq)
    const first = pending[0]
    if (first !== undefined && first.seq !== snapshotSeq + 1) {
      return yield* new StoreError({
        file: files.journal,
        offset: first.offset,
        message: `journal ${files.journal} continues at sequence ${first.seq} (offset ${first.offset}) but the snapshot ${files.snapshot} ends at ${snapshotSeq}: transactions in between are missing. Nothing was changed; restore from a backup`
      })
    }
    const db = yield* openDatabase(snapshot?.image).pipe(
      Effect.mapError((cause) =>
        new StoreError({
          file: files.snapshot,
          offset: 24,
          cause,
          message: `snapshot ${files.snapshot} passes its checksum but is not an SQLite database (${cause.message}). Nothing was changed; restore it from a backup`
        })
      )
    )
    yield* Effect.forEach(pending, (record) => replay(db, record, files.journal), { discard: true }).pipe(
      Effect.tapError(() => Effect.sync(() => db.close()))
    )
    return {
      db,
      snapshotSeq,
      lastSeq: pending[pending.length - 1]?.seq ?? snapshotSeq,
      journal,
      replayed: pending.length
    }
  })
