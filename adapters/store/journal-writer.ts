import type { FileHandle } from "node:fs/promises"
import { SqlError } from "@effect/sql/SqlError"
import { Deferred, Effect, Either, FiberId, Queue, type Scope } from "effect"
import { encodeRecord, journalHeaderBytes } from "./journal-format.js"
import type { CommitLog } from "./sqljs-session.js"

/** Counters for benchmarks and `db check`. */
export interface JournalStats {
  readonly transactions: number
  readonly fsyncs: number
  /** Bytes of records in the journal, header included (the file is larger: space allocated ahead). */
  readonly bytes: number
}

export interface JournalWriter extends CommitLog {
  readonly stats: () => JournalStats
  /** Completes once everything appended so far is durable. */
  readonly flushed: Effect.Effect<void>
  /** Empties the journal (after a snapshot made its records redundant). Call with appends stopped. */
  readonly reset: Effect.Effect<void, SqlError>
}

interface Batch {
  readonly records: Array<Uint8Array>
  bytes: number
  lastSeq: number
  readonly done: Deferred.Deferred<void>
}

/**
 * The journal grows in steps of this many zero bytes, written and fsynced once. Records then overwrite
 * allocated blocks, so each commit's fdatasync flushes data only, not the file size and block map
 * (PostgreSQL preallocates its WAL segments for the same reason).
 */
export const journalGrowthBytes = 4 * 1024 * 1024
const zeros = Buffer.alloc(journalGrowthBytes)

/**
 * Appends committed transactions to the journal with group commit: records wait in an open batch
 * while the previous batch is being written and fsynced, then the whole batch goes out in one write
 * and one fdatasync. No timer: under light load a batch is one transaction and pays one fsync; under
 * load many transactions share one. A batch holds at most one record per transaction waiting for
 * durability, so its size is bounded by the number of concurrent writers.
 *
 * A failed write or fsync is fatal: the database in memory is then ahead of the disk, so the writer
 * fails every waiter and the store refuses all new work until the process restarts and recovers
 * from what is on disk.
 */
export const makeJournalWriter = (options: {
  readonly path: string
  readonly handle: FileHandle
  /** Where the next record goes: the end of the last good record. */
  readonly end: number
  /** The file's size: bytes past `end` are zeros already allocated. */
  readonly allocated: number
  /** Sequence number of the last record already in the database. */
  readonly lastSeq: number
  /** Called after each flush with the journal's size, to trigger snapshots. */
  readonly onFlushed?: (bytes: number) => void
  /** Called after each commit's fdatasync with how long it took (ms), for metrics. */
  readonly onFsync?: (durationMs: number) => void
}): Effect.Effect<JournalWriter, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { handle, path } = options
    let end = options.end
    let allocated = options.allocated
    let appendedSeq = options.lastSeq
    let durableSeq = options.lastSeq
    let transactions = 0
    let fsyncs = 0
    let pending: Batch | undefined
    let inflight: Batch | undefined
    let failure: SqlError | undefined
    const wake = yield* Queue.sliding<void>(1)

    const writeAt = async (bytes: Buffer, length: number, position: number): Promise<void> => {
      let written = 0
      while (written < length) {
        const result = await handle.write(bytes, written, length - written, position + written)
        written += result.bytesWritten
      }
    }

    const grow = async (needed: number): Promise<void> => {
      while (allocated < needed) {
        await writeAt(zeros, journalGrowthBytes, allocated)
        allocated += journalGrowthBytes
      }
      // The size changed: a full fsync, once per growth step rather than once per commit.
      await handle.sync()
    }

    const write = async (batch: Batch): Promise<void> => {
      const bytes = Buffer.concat(batch.records, batch.bytes)
      if (end + bytes.length > allocated) await grow(end + bytes.length)
      await writeAt(bytes, bytes.length, end)
      const syncStartedMs = performance.now()
      await handle.datasync()
      options.onFsync?.(performance.now() - syncStartedMs)
    }

    const fail = (cause: unknown): void => {
      failure = new SqlError({
        cause,
        message: `the journal ${path} could not be written at offset ${end} (${cause instanceof Error ? cause.message : String(cause)}); the store refuses further work, restart it to recover from disk`
      })
      for (const batch of [inflight, pending]) if (batch !== undefined) Deferred.unsafeDone(batch.done, Effect.die(failure))
      inflight = undefined
      pending = undefined
    }

    const flushPending = Effect.gen(function* () {
      while (pending !== undefined && failure === undefined) {
        const batch = pending
        pending = undefined
        inflight = batch
        const result = yield* Effect.either(Effect.tryPromise({ try: () => write(batch), catch: (cause) => cause }))
        if (Either.isLeft(result)) {
          fail(result.left)
          return
        }
        inflight = undefined
        end += batch.bytes
        durableSeq = batch.lastSeq
        fsyncs++
        Deferred.unsafeDone(batch.done, Effect.void)
        options.onFlushed?.(end)
      }
    })

    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Queue.take(wake), flushPending)))

    const awaitDurable = (seq: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (seq <= durableSeq) return Effect.void
        if (failure !== undefined) return Effect.die(failure)
        const batch = inflight !== undefined && inflight.lastSeq >= seq ? inflight : pending
        // Every appended record is durable, in flight or pending: this cannot be missing.
        if (batch === undefined) return Effect.die(new Error(`journal ${path}: record ${seq} is in no batch`))
        return Deferred.await(batch.done)
      })

    const writer: JournalWriter = {
      prepare: (statements) => encodeRecord(appendedSeq + 1, statements),
      append: (record) => {
        if (failure !== undefined) return
        appendedSeq++
        transactions++
        if (pending === undefined) pending = { records: [], bytes: 0, lastSeq: appendedSeq, done: Deferred.unsafeMake(FiberId.none) }
        pending.records.push(record)
        pending.bytes += record.length
        pending.lastSeq = appendedSeq
        wake.unsafeOffer(undefined)
      },
      appendedSeq: () => appendedSeq,
      awaitDurable,
      failure: () => failure,
      stats: () => ({ transactions, fsyncs, bytes: end }),
      flushed: Effect.suspend(() => awaitDurable(appendedSeq)),
      reset: Effect.suspend(() =>
        Effect.tryPromise({
          try: async () => {
            await handle.truncate(journalHeaderBytes)
            end = journalHeaderBytes
            allocated = journalHeaderBytes
            await grow(journalHeaderBytes + journalGrowthBytes)
          },
          catch: (cause) => new SqlError({ cause, message: `could not truncate the journal ${path}: ${String(cause)}` })
        })
      )
    }
    return writer
  })
