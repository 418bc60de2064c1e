import Database from "better-sqlite3"
import { Effect } from "effect"
import { defaultPragmas, type SqlValue } from "../../adapters/store/sqljs-database.js"
import { loadSqlJs } from "../../adapters/store/sqljs-runtime.js"

/**
 * The SQL floor of a benchmark: every statement the store runs, with its values, replayed straight on
 * a shadow database (statements prepared once, every row read; no Effect, no application code), on
 * sql.js and on native SQLite (better-sqlite3). The time the store alone needs for the same work:
 * the most any code on that engine could reach.
 *
 * Statements are replayed in chunks as they come, so memory stays flat on long runs; the replay runs
 * inside the observer and its time is kept (`replayMs`) so the benchmark can take it out of its own
 * wall time. Only statements seen while `timing` is on count toward the floor; the rest (migrations,
 * set-up) are replayed untimed so that the shadow databases hold the same rows.
 */
export interface SqlFloor {
  /** Pass as the store's observer. */
  readonly observer: (sql: string, params: ReadonlyArray<SqlValue>) => void
  /** Whether statements seen from now on count toward the floor. */
  timing: boolean
  /** Replays what is left; call once at the end, before reading the figures. */
  readonly flush: () => void
  /** Statements counted (transaction control included). */
  readonly statements: () => number
  readonly sqljsMs: () => number
  readonly nativeMs: () => number
  /** Wall time spent replaying so far, to subtract from the benchmark's own. */
  readonly replayMs: () => number
  /** CPU time (user + system) spent replaying so far, in microseconds, likewise. */
  readonly replayCpuUs: () => number
  readonly close: () => void
}

interface Entry {
  readonly sql: string
  readonly params: ReadonlyArray<SqlValue>
  readonly timed: boolean
}

const CHUNK = 20_000

// better-sqlite3 binds Buffers, not bare Uint8Arrays.
const nativeParams = (params: ReadonlyArray<SqlValue>): Array<SqlValue | Buffer> =>
  params.map((value) => (value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value))

export const makeSqlFloor = async (): Promise<SqlFloor> => {
  const sqljs = await Effect.runPromise(loadSqlJs)
  const shadow = new sqljs.Database()
  const native = new Database(":memory:")
  for (const pragma of defaultPragmas) {
    shadow.exec(pragma)
    native.exec(pragma)
  }
  const shadowPrepared = new Map<string, ReturnType<typeof shadow.prepare>>()
  const nativePrepared = new Map<string, Database.Statement>()
  let chunk: Array<Entry> = []
  let counted = 0
  let sqljsMs = 0
  let nativeMs = 0
  let replayMs = 0
  let replayCpuUs = 0

  const replaySqljs = (entries: ReadonlyArray<Entry>): void => {
    for (const { sql, params, timed } of entries) {
      const started = timed ? performance.now() : 0
      let statement = shadowPrepared.get(sql)
      if (statement === undefined) {
        statement = shadow.prepare(sql)
        shadowPrepared.set(sql, statement)
      }
      statement.bind(params as Array<SqlValue>)
      while (statement.step()) statement.get()
      statement.reset()
      if (timed) sqljsMs += performance.now() - started
    }
  }

  const replayNative = (entries: ReadonlyArray<Entry>): void => {
    for (const { sql, params, timed } of entries) {
      const started = timed ? performance.now() : 0
      let statement = nativePrepared.get(sql)
      if (statement === undefined) {
        statement = native.prepare(sql)
        nativePrepared.set(sql, statement)
      }
      const values = nativeParams(params)
      if (statement.reader) statement.raw(true).all(...values)
      else statement.run(...values)
      if (timed) nativeMs += performance.now() - started
    }
  }

  const flush = (): void => {
    const started = performance.now()
    const cpuStarted = process.cpuUsage()
    replaySqljs(chunk)
    replayNative(chunk)
    chunk = []
    const cpu = process.cpuUsage(cpuStarted)
    replayCpuUs += cpu.user + cpu.system
    replayMs += performance.now() - started
  }

  const floor: SqlFloor = {
    timing: false,
    observer: (sql, params) => {
      if (floor.timing) counted++
      chunk.push({ sql, params: [...params], timed: floor.timing })
      if (chunk.length >= CHUNK) flush()
    },
    flush,
    statements: () => counted,
    sqljsMs: () => sqljsMs,
    nativeMs: () => nativeMs,
    replayMs: () => replayMs,
    replayCpuUs: () => replayCpuUs,
    close: () => {
      shadow.close()
      native.close()
    }
  }
  return floor
}
