import type { SqlError } from "@effect/sql/SqlError"
import type { Connection } from "@effect/sql/SqlConnection"
import { Effect, Stream } from "effect"
import { asSqlError, type CellValue, type SqliteConnection, type SqlValue, sqlError, toSqlValues } from "./sqljs-database.js"
import type { StoreTimings } from "./store-timings.js"

/** One statement of a committed write transaction, as the journal records it and replay runs it. */
export interface LoggedStatement {
  readonly sql: string
  readonly params: ReadonlyArray<SqlValue>
}

/**
 * Where committed write transactions go (the durable store's journal). The in-memory store has none.
 * Both calls happen while the database lock is held, so records arrive in commit order: `prepare`
 * just before COMMIT (a transaction the log cannot take is rolled back instead), `append` right after.
 */
export interface CommitLog {
  /** Encodes a write transaction's statements, net of rolled-back savepoints. Throws if it cannot. */
  readonly prepare: (statements: ReadonlyArray<LoggedStatement>) => Uint8Array
  /** The transaction prepared last has committed in memory: make it durable. */
  readonly append: (record: Uint8Array) => void
  /** The sequence number of the newest appended transaction (0 when none). */
  readonly appendedSeq: () => number
  /** Completes once every transaction up to `seq` is on disk. A failure here is fatal, hence a defect. */
  readonly awaitDurable: (seq: number) => Effect.Effect<void>
  /** Set once the log can no longer be written: the store then refuses all new work. */
  readonly failure: () => SqlError | undefined
}

type Control =
  | { readonly _tag: "Begin" }
  | { readonly _tag: "Commit" }
  | { readonly _tag: "Rollback" }
  | { readonly _tag: "Savepoint"; readonly name: string }
  | { readonly _tag: "RollbackTo"; readonly name: string }
  | { readonly _tag: "Release"; readonly name: string }

const parseControl = (sql: string): Control | undefined => {
  const text = sql.trim().replace(/;$/, "").trim()
  let match: RegExpMatchArray | null
  if (/^BEGIN(\s+(DEFERRED|IMMEDIATE|EXCLUSIVE))?(\s+TRANSACTION)?$/i.test(text)) return { _tag: "Begin" }
  if (/^(COMMIT|END)(\s+TRANSACTION)?$/i.test(text)) return { _tag: "Commit" }
  if (/^ROLLBACK(\s+TRANSACTION)?$/i.test(text)) return { _tag: "Rollback" }
  if ((match = text.match(/^ROLLBACK(?:\s+TRANSACTION)?\s+TO(?:\s+SAVEPOINT)?\s+(\S+)$/i))) {
    return { _tag: "RollbackTo", name: match[1] as string }
  }
  if ((match = text.match(/^SAVEPOINT\s+(\S+)$/i))) return { _tag: "Savepoint", name: match[1] as string }
  if ((match = text.match(/^RELEASE(?:\s+SAVEPOINT)?\s+(\S+)$/i))) return { _tag: "Release", name: match[1] as string }
  return undefined
}

/**
 * Whether a statement may change the database, and so must be journaled. Erring towards "yes" only
 * costs a journal record; erring towards "no" would lose data, so anything not plainly a read counts.
 */
export const isWrite = (sql: string): boolean => {
  const text = sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()*/, "")
  const keyword = /^[A-Za-z]+/.exec(text)?.[0]?.toUpperCase()
  switch (keyword) {
    case "SELECT":
    case "EXPLAIN":
    case "VALUES":
      return false
    case "PRAGMA":
      return text.includes("=")
    case "WITH":
      return /\b(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(text)
    default:
      return true
  }
}

const dataChange = /^\s*(INSERT|UPDATE|DELETE|REPLACE|WITH)\b/i
const nondeterministic =
  /\b(random|randomblob)\s*\(|\bcurrent_(timestamp|date|time)\b|\b(date|time|datetime|julianday|unixepoch|strftime)\s*\([^)]*'now'/i

/**
 * The journal replays statements, so a data change must compute the same result every time: one that
 * calls random() or reads the clock would replay to a different database. Such statements are refused
 * on every sql.js store, the in-memory one included, so tests catch them long before a crash does.
 * (DDL may name CURRENT_TIMESTAMP as a column default: the value it produces is not relied on.)
 */
export const nondeterminism = (sql: string): string | undefined => {
  if (!dataChange.test(sql)) return undefined
  const found = nondeterministic.exec(sql)
  return found === null
    ? undefined
    : `${found[0].trim()} makes this statement give a different result when the journal replays it; compute the value in the application (Clock, the id generator) and pass it as a parameter`
}

/** What a statement's run answers: rows as objects, rows as arrays, or the count of rows changed. */
const enum Mode {
  Rows,
  Values,
  Changes
}
type Result = Array<Record<string, CellValue>> | Array<Array<CellValue>> | number

/** What `Session.run` needs to know of a statement, which depends on its text alone. */
interface Classified {
  readonly control: Control | undefined
  readonly write: boolean
  readonly refusal: string | undefined
}

// The same few hundred SQL texts run over and over: classifying each (a dozen regular expressions)
// once per text rather than once per statement. Bounded so ad-hoc SQL cannot grow it without end.
const classifiedMax = 2048
const classified = new Map<string, Classified>()

const classify = (sql: string): Classified => {
  const known = classified.get(sql)
  if (known !== undefined) return known
  const control = parseControl(sql)
  const write = control === undefined && isWrite(sql)
  const result: Classified = { control, write, refusal: write ? nondeterminism(sql) : undefined }
  if (classified.size >= classifiedMax) classified.clear()
  classified.set(sql, result)
  return result
}

/**
 * What one holder of the database lock sees: a `Connection` for @effect/sql. A transactional session
 * also keeps the transaction's write statements, with a mark per savepoint so a rolled-back savepoint
 * drops its statements, and hands them to the commit log at COMMIT. An autocommit session logs each
 * write statement as a transaction of its own and refuses transaction control: a BEGIN there would
 * outlive the lock it ran under.
 */
export class Session implements Connection {
  /** The newest log entry this session could have observed: set when the lock is released. */
  seenSeq = 0
  private writes: Array<LoggedStatement> | undefined
  private readonly marks = new Map<string, number>()
  private released = false

  constructor(
    private readonly db: SqliteConnection,
    private readonly log: CommitLog | undefined,
    private readonly transactional: boolean,
    /** The account of the unit of work this session serves, when it keeps one. */
    private readonly timings?: StoreTimings | undefined
  ) {}

  release(): void {
    this.released = true
    if (this.log !== undefined) this.seenSeq = this.log.appendedSeq()
  }

  // Each statement runs synchronously: a plain try/catch rather than `Effect.try` and a closure per
  // call (statements are the store's hot path).
  readonly execute = (
    sql: string,
    params: ReadonlyArray<unknown>,
    transformRows: (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined
  ): Effect.Effect<ReadonlyArray<Record<string, CellValue>>, SqlError> => {
    try {
      const rows = this.run(sql, params, Mode.Rows) as Array<Record<string, CellValue>>
      return Effect.succeed(transformRows === undefined ? rows : transformRows(rows))
    } catch (cause) {
      return Effect.fail(asSqlError(cause, sql))
    }
  }

  /**
   * Answers `{ changes }`: how many rows a data change (INSERT, UPDATE, DELETE) changed, as SQLite's
   * changes() counts them; 0 for any other statement, whose rows (if any) are read and dropped. Lets a
   * write whose caller only needs that count do without `RETURNING`, which SQLite pays for with a
   * temporary table per statement.
   */
  readonly executeRaw = (sql: string, params: ReadonlyArray<unknown>): Effect.Effect<{ readonly changes: number }, SqlError> => {
    try {
      return Effect.succeed({ changes: this.run(sql, params, Mode.Changes) as number })
    } catch (cause) {
      return Effect.fail(asSqlError(cause, sql))
    }
  }

  readonly executeUnprepared = this.execute

  /** Runs a statement with no parameters whose rows are not wanted (BEGIN, COMMIT): the error, if any. */
  control(sql: string): SqlError | undefined {
    try {
      this.run(sql, [], Mode.Changes)
      return undefined
    } catch (cause) {
      return asSqlError(cause, sql)
    }
  }

  readonly executeValues = (
    sql: string,
    params: ReadonlyArray<unknown>
  ): Effect.Effect<ReadonlyArray<ReadonlyArray<CellValue>>, SqlError> => {
    try {
      return Effect.succeed(this.run(sql, params, Mode.Values) as Array<Array<CellValue>>)
    } catch (cause) {
      return Effect.fail(asSqlError(cause, sql))
    }
  }

  // sql.js steps synchronously, so a "stream" is the whole result read under the lock; bounded by memory
  // like any query result here.
  readonly executeStream = (
    sql: string,
    params: ReadonlyArray<unknown>,
    transformRows: (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined
  ): Stream.Stream<Record<string, CellValue>, SqlError> =>
    Stream.fromIterableEffect(this.execute(sql, params, transformRows))

  /** Runs one statement (timed into the session's account, if any). Throws SqlError. */
  private run(sql: string, params: ReadonlyArray<unknown>, mode: Mode): Result {
    const timings = this.timings
    if (timings === undefined) return this.runLogged(sql, params, mode)
    const startedMs = performance.now()
    try {
      return this.runLogged(sql, params, mode)
    } finally {
      timings.statements++
      timings.statementsMs += performance.now() - startedMs
    }
  }

  private engine(mode: Mode, sql: string, values: ReadonlyArray<SqlValue>, write: boolean): Result {
    switch (mode) {
      case Mode.Rows:
        return this.db.query(sql, values)
      case Mode.Values:
        return this.db.values(sql, values)
      case Mode.Changes: {
        const changes = this.db.run(sql, values)
        return write ? changes : 0
      }
    }
  }

  /** Runs one statement and keeps the journal's view of the transaction in step. Throws SqlError. */
  private runLogged(sql: string, params: ReadonlyArray<unknown>, mode: Mode): Result {
    if (this.released) throw sqlError(sql, new Error("connection used after its lock was released"))
    let values: Array<SqlValue>
    try {
      values = toSqlValues(params)
    } catch (cause) {
      throw sqlError(sql, cause)
    }
    const { control, write, refusal } = classify(sql)
    if (control === undefined) {
      if (!write) return this.engine(mode, sql, values, write)
      if (refusal !== undefined) throw sqlError(sql, new Error(refusal))
      if (this.log === undefined) return this.engine(mode, sql, values, write)
      const statement = { sql, params: values }
      if (this.writes !== undefined) {
        const result = this.engine(mode, sql, values, write)
        this.writes.push(statement)
        return result
      }
      // Outside a transaction the statement commits as it runs: prepare its record first.
      const record = this.prepare(this.log, sql, [statement])
      const result = this.engine(mode, sql, values, write)
      this.log.append(record)
      return result
    }
    if (!this.transactional) {
      throw sqlError(sql, new Error("transaction control outside sql.withTransaction; use sql.withTransaction"))
    }
    if (this.writes === undefined && control._tag !== "Begin") {
      throw sqlError(sql, new Error("no transaction is open; use sql.withTransaction"))
    }
    const record = control._tag === "Commit" && this.log !== undefined && this.writes !== undefined && this.writes.length > 0
      ? this.prepareOrAbandon(this.log, sql, this.writes)
      : undefined
    let result: Result
    try {
      result = this.engine(mode, sql, values, write)
    } catch (cause) {
      // A failed COMMIT (e.g. a deferred foreign key) leaves SQLite's transaction open; end it so the
      // next holder of the lock starts clean.
      if (control._tag === "Commit") this.abandon()
      throw cause
    }
    this.track(control)
    if (record !== undefined) this.log?.append(record)
    return result
  }

  private prepare(log: CommitLog, sql: string, statements: ReadonlyArray<LoggedStatement>): Uint8Array {
    try {
      return log.prepare(statements)
    } catch (cause) {
      throw sqlError(sql, cause)
    }
  }

  private prepareOrAbandon(log: CommitLog, sql: string, statements: ReadonlyArray<LoggedStatement>): Uint8Array {
    try {
      return this.prepare(log, sql, statements)
    } catch (cause) {
      this.abandon()
      throw cause
    }
  }

  private track(control: Control): void {
    switch (control._tag) {
      case "Begin":
        this.writes = []
        this.marks.clear()
        return
      case "Commit":
        this.writes = undefined
        return
      case "Rollback":
        this.writes = undefined
        return
      case "Savepoint":
        this.marks.set(control.name, this.writes?.length ?? 0)
        return
      case "RollbackTo": {
        const mark = this.marks.get(control.name)
        if (mark !== undefined && this.writes !== undefined) this.writes.length = mark
        return
      }
      case "Release":
        this.marks.delete(control.name)
        return
    }
  }

  private abandon(): void {
    try {
      this.db.exec("ROLLBACK")
    } catch {
      // Already ended by SQLite itself: nothing left to undo.
    }
    this.writes = undefined
  }
}
