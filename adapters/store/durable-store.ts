import { mkdir, open, writeFile } from "node:fs/promises"
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Queue } from "effect"
import { journalHeaderBytes, journalMagic } from "./journal-format.js"
import { type JournalStats, makeJournalWriter } from "./journal-writer.js"
import { acquireLock } from "./lock-file.js"
import { recover, storeFiles, type StoreFiles } from "./recovery.js"
import { isNotFound, removeUnfinishedSnapshot, syncDirectory, writeSnapshot } from "./snapshot-file.js"
import * as SqljsClient from "./sqljs-client.js"
import { SqljsStore } from "./sqljs-client.js"
import { StoreError } from "./store-error.js"

/** The durable store's own operations, beside `SqlClient`. */
export interface DurableStoreService {
  readonly files: StoreFiles
  /** Writes a snapshot now and empties the journal. Holds the lock meanwhile. */
  readonly snapshot: Effect.Effect<void, StoreError | SqlError>
  readonly stats: () => JournalStats
  /** Tells `listener` how long each commit's fsync took (ms), until the returned function is called (metrics). */
  readonly onFsync: (listener: (durationMs: number) => void) => () => void
}

export class DurableStore extends Context.Tag("ecoupon/store/DurableStore")<DurableStore, DurableStoreService>() {}

export interface DurableStoreOptions {
  /** The directory holding `ecoupon.snapshot`, `ecoupon.journal` and `ecoupon.lock`; created if absent. */
  readonly directory: string
  /** Take a snapshot once the journal grows past this many bytes (default 32 MiB). */
  readonly snapshotAfterBytes?: number | undefined
  /** Take a snapshot on clean shutdown, so the next open replays nothing (default true). */
  readonly snapshotOnClose?: boolean | undefined
}

const snapshotAfterBytesDefault = 32 * 1024 * 1024

const fileError = (file: string, doing: string) => (cause: unknown) =>
  new StoreError({ file, cause, message: `cannot ${doing} ${file}: ${String(cause)}` })

/**
 * Opens the journal for appending at `end`, first creating it, or cutting off a torn last record
 * (which is kept beside it as `<journal>.torn-<offset>`, never simply discarded).
 */
const prepareJournal = (files: StoreFiles, end: number, tornBytes: number, fileBytes: number) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const handle = await open(files.journal, "r+").catch((cause: unknown) =>
          isNotFound(cause) ? open(files.journal, "w+") : Promise.reject(cause)
        )
        try {
          if (tornBytes > 0) {
            const torn = Buffer.alloc(tornBytes)
            await handle.read(torn, 0, tornBytes, end)
            await writeFile(`${files.journal}.torn-${end}`, torn, { flush: true })
          }
          let allocated = fileBytes
          if (end < journalHeaderBytes) {
            await handle.truncate(0)
            await handle.write(journalMagic, 0, journalHeaderBytes, 0)
            end = journalHeaderBytes
            allocated = end
          } else if (tornBytes > 0) {
            await handle.truncate(end)
            allocated = end
          }
          await handle.sync()
          await syncDirectory(files.directory)
          return { handle, end, allocated }
        } catch (cause) {
          await handle.close()
          throw cause
        }
      },
      catch: fileError(files.journal, "prepare the journal")
    }),
    ({ handle }) => Effect.promise(() => handle.close())
  )

/**
 * The embedded default store: sql.js in memory, made durable by a journal (DESIGN §6, README.md in
 * this folder). Opening takes the lock, loads the snapshot, replays the journal up to a torn last
 * record, and refuses damage with the file and offset. Every acknowledged write transaction is in
 * the journal, fsynced, before its `withTransaction` (or statement) returns.
 */
export const layer = (
  options: DurableStoreOptions
): Layer.Layer<SqlClient.SqlClient | SqljsStore | DurableStore, StoreError> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      const files = storeFiles(options.directory)
      yield* Effect.tryPromise({ try: () => mkdir(files.directory, { recursive: true }), catch: fileError(files.directory, "create the directory") })
      yield* Effect.acquireRelease(
        Effect.try({
          try: () => acquireLock(files.lock),
          catch: (cause) => new StoreError({ file: files.lock, cause, message: cause instanceof Error ? cause.message : String(cause) })
        }),
        (release) => Effect.sync(release)
      )
      yield* Effect.tryPromise({ try: () => removeUnfinishedSnapshot(files.snapshot), catch: fileError(files.snapshot, "remove the unfinished snapshot beside") })
      const recovered = yield* recover(files)
      const journal = yield* prepareJournal(files, recovered.journal?.end ?? 0, recovered.journal?.tornBytes ?? 0, recovered.journal?.fileBytes ?? 0).pipe(
        Effect.tapError(() => Effect.sync(() => recovered.db.close()))
      )
      if ((recovered.journal?.tornBytes ?? 0) > 0) {
        yield* Effect.logWarning(`journal ${files.journal}: dropped a torn last record at offset ${journal.end} (a write cut short by a crash, never acknowledged); its bytes are kept in ${files.journal}.torn-${journal.end}`)
      }

      const snapshotAfterBytes = options.snapshotAfterBytes ?? snapshotAfterBytesDefault
      const snapshotWanted = yield* Queue.sliding<void>(1)
      const fsyncListeners = new Set<(durationMs: number) => void>()
      const writer = yield* makeJournalWriter({
        path: files.journal,
        handle: journal.handle,
        end: journal.end,
        allocated: journal.allocated,
        lastSeq: recovered.lastSeq,
        onFlushed: (bytes) => {
          if (bytes > snapshotAfterBytes) snapshotWanted.unsafeOffer(undefined)
        },
        onFsync: (durationMs) => {
          for (const listener of fsyncListeners) listener(durationMs)
        }
      })
      const { client, store } = yield* SqljsClient.make(recovered.db, { commitLog: writer })

      const snapshot: Effect.Effect<void, StoreError | SqlError> = store.exclusive((db) =>
        Effect.gen(function* () {
          // Holding the lock stops new commits; waiting for the flusher makes the journal quiet too.
          yield* writer.flushed
          const failure = writer.failure()
          if (failure !== undefined) return yield* failure
          const image = db.export()
          yield* Effect.tryPromise({
            try: () => writeSnapshot(files.snapshot, { seq: writer.appendedSeq(), image }),
            catch: fileError(files.snapshot, "write the snapshot")
          })
          yield* writer.reset
        })
      ).pipe(Effect.withSpan("DurableStore.snapshot"))

      yield* Effect.forkScoped(
        Effect.forever(
          Effect.zipRight(
            Queue.take(snapshotWanted),
            snapshot.pipe(
              Effect.catchAll((error) => Effect.logError(`automatic snapshot failed; the journal keeps growing: ${error.message}`))
            )
          )
        )
      )
      // A store whose journal is already long (an unclean stop after heavy load) starts compact.
      if (journal.end > snapshotAfterBytes) snapshotWanted.unsafeOffer(undefined)

      // Runs before the client closes the database (finalizers run last-added first).
      yield* Effect.addFinalizer(() =>
        options.snapshotOnClose === false || writer.failure() !== undefined || writer.stats().bytes <= journalHeaderBytes
          ? Effect.void
          : Effect.catchAll(snapshot, (error) => Effect.logError(`snapshot on close failed; the journal will be replayed on next open: ${error.message}`))
      )

      const onFsync = (listener: (durationMs: number) => void) => {
        fsyncListeners.add(listener)
        return () => void fsyncListeners.delete(listener)
      }
      const durable: DurableStoreService = { files, snapshot, stats: writer.stats, onFsync }
      return Context.make(SqlClient.SqlClient, client).pipe(Context.add(SqljsStore, store), Context.add(DurableStore, durable))
    })
  ).pipe(Layer.provide(Reactivity.layer))
