import { SqlError } from "@effect/sql/SqlError"
import type initSqlJs from "sql.js"
import type { SqlJs } from "./sqljs-runtime.js"
import { StatementCache } from "./statement-cache.js"

/** A value SQLite stores: what every accepted parameter becomes before it is bound (and journaled). */
export type SqlValue = number | string | null | Uint8Array

/** A row read back: `bigint` only for INTEGER values outside JS's safe integer range. */
export type CellValue = SqlValue | bigint

/**
 * The pragmas every connection gets: sql.js resets them whenever the database is exported. The
 * database lives in wasm memory, so SQLite's own rollback journal need not be a (simulated) file:
 * keeping it in memory saves creating, writing and deleting one per transaction. Durability is the
 * durable store's journal's business, not SQLite's.
 */
export const defaultPragmas: ReadonlyArray<string> = [
  "PRAGMA foreign_keys = ON",
  "PRAGMA journal_mode = MEMORY",
  "PRAGMA synchronous = OFF",
  "PRAGMA temp_store = MEMORY",
  // One connection owns the database: keeping its lock spares SQLite a file-system round of lock and
  // hot-journal checks on every transaction.
  "PRAGMA locking_mode = EXCLUSIVE"
]

// Prepared statements are reused by SQL text; the bound keeps wasm memory flat under ad-hoc SQL.
const statementCacheMax = 256
// Error messages carry the SQL; a bound keeps a giant multi-row INSERT from flooding the log.
const sqlInMessageMax = 500

type Statement = initSqlJs.Statement
// sql.js's `get` takes a config the typings omit; `useBigInt` reads INTEGER columns as bigint.
type GetWithConfig = (params: null, config: { readonly useBigInt: boolean }) => Array<CellValue>

const quoteSql = (sql: string): string =>
  sql.length > sqlInMessageMax ? `${sql.slice(0, sqlInMessageMax)}…` : sql

/** A SqlError that says what failed and on which statement. */
export const sqlError = (sql: string, cause: unknown): SqlError =>
  new SqlError({
    cause,
    message: `${cause instanceof Error ? cause.message : String(cause)} (in SQL: ${quoteSql(sql)})`
  })

/** Keeps a SqlError as it is and wraps anything else thrown while running `sql`. */
export const asSqlError = (cause: unknown, sql: string): SqlError =>
  cause instanceof SqlError ? cause : sqlError(sql, cause)

/**
 * One parameter as SQLite will store it: booleans become 0/1, dates epoch milliseconds, bigints a
 * number when exact (otherwise their decimal text, which an INTEGER column converts back), undefined
 * NULL. Anything else is refused rather than guessed at.
 */
export const toSqlValue = (value: unknown): SqlValue => {
  switch (typeof value) {
    case "number":
    case "string":
      return value
    case "boolean":
      return value ? 1 : 0
    case "bigint":
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value.toString()
    case "undefined":
      return null
    case "object": {
      if (value === null || value instanceof Uint8Array) return value
      if (value instanceof Date) {
        const epochMs = value.getTime()
        if (Number.isNaN(epochMs)) throw new TypeError("cannot bind an invalid Date")
        return epochMs
      }
      throw new TypeError(`cannot bind a parameter of type ${value.constructor?.name ?? "object"}`)
    }
    default:
      throw new TypeError(`cannot bind a parameter of type ${typeof value}`)
  }
}

export const toSqlValues = (params: ReadonlyArray<unknown>): Array<SqlValue> => params.map(toSqlValue)

/**
 * What the store's client and sessions (`sqljs-client.ts`, `sqljs-session.ts`) need of one synchronous
 * SQLite connection: sql.js here, better-sqlite3 in `native-database.ts`. Every failure is thrown as a
 * `SqlError` naming the SQL.
 */
export interface SqliteConnection {
  /** Sees every statement just before it runs, with its bound values (a benchmark's recorder). */
  observer: ((sql: string, params: ReadonlyArray<SqlValue>) => void) | undefined
  /** Runs one statement; rows come back as objects keyed by column name. */
  query(sql: string, params: ReadonlyArray<SqlValue>): Array<Record<string, CellValue>>
  /** Runs one statement; rows come back as arrays in column order. */
  values(sql: string, params: ReadonlyArray<SqlValue>): Array<Array<CellValue>>
  /**
   * Runs one statement, reading and dropping any rows, and answers how many rows it changed (SQLite's
   * changes(); meaningful for INSERT, UPDATE and DELETE only).
   */
  run(sql: string, params: ReadonlyArray<SqlValue>): number
  /** Runs SQL that may hold several statements and no parameters (pragmas, scripts). */
  exec(sql: string): void
  /** The database as SQLite file bytes. */
  export(): Uint8Array
  close(): void
}

/**
 * One sql.js database (a single SQLite connection) with a statement cache. Synchronous, not
 * thread-safe, and not transaction-aware: callers serialise access (see `sqljs-client.ts`). Every
 * failure is thrown as a `SqlError` naming the SQL.
 */
export class SqljsDatabase implements SqliteConnection {
  private readonly statements = new StatementCache<Statement>(statementCacheMax, (statement) => statement.free())
  /** Sees every statement just before it runs, with its bound values (a benchmark's recorder). */
  observer: ((sql: string, params: ReadonlyArray<SqlValue>) => void) | undefined

  private constructor(
    private readonly sqljs: SqlJs,
    private db: initSqlJs.Database,
    private readonly pragmas: ReadonlyArray<string>
  ) {}

  /** Opens an empty database, or the one in `bytes` (an SQLite file image), and applies the pragmas. */
  static open(sqljs: SqlJs, bytes: Uint8Array | undefined, pragmas: ReadonlyArray<string> = defaultPragmas): SqljsDatabase {
    const database = new SqljsDatabase(sqljs, openImage(sqljs, bytes), pragmas)
    try {
      database.prove()
    } catch (cause) {
      database.close()
      throw cause
    }
    return database
  }

  /**
   * Replaces the database with the one in `bytes`, as `open` would open it (the pragmas applied, the
   * image proved), the old connection closed with every prepared statement. Callers hold the store's
   * lock (`SqljsStore.exclusive`): whoever holds this object sees the new database from then on. The
   * scenario runner starts each run on a fresh copy of one image this way, without building every
   * service over a new store. Throws, leaving the old database in place, if the bytes do not open.
   */
  reopen(bytes: Uint8Array): void {
    const old = this.db
    const fresh = openImage(this.sqljs, bytes)
    this.freeStatements()
    this.db = fresh
    try {
      this.prove()
    } catch (cause) {
      this.freeStatements()
      fresh.close()
      this.db = old
      throw cause
    }
    old.close()
  }

  /** Runs one statement; rows come back as objects keyed by column name. */
  query(sql: string, params: ReadonlyArray<SqlValue>): Array<Record<string, CellValue>> {
    return this.withStatement(sql, params, (statement) => {
      const columns = statement.getColumnNames()
      const rows: Array<Record<string, CellValue>> = []
      while (statement.step()) {
        const cells = readCells(statement)
        const row: Record<string, CellValue> = {}
        for (let i = 0; i < columns.length; i++) row[columns[i] as string] = cells[i] as CellValue
        rows.push(row)
      }
      return rows
    })
  }

  /** Runs one statement; rows come back as arrays in column order. */
  values(sql: string, params: ReadonlyArray<SqlValue>): Array<Array<CellValue>> {
    return this.withStatement(sql, params, (statement) => {
      const rows: Array<Array<CellValue>> = []
      while (statement.step()) rows.push(readCells(statement))
      return rows
    })
  }

  /** Runs one statement, reading and dropping any rows; answers the rows it changed. */
  run(sql: string, params: ReadonlyArray<SqlValue>): number {
    return this.withStatement(sql, params, (statement) => {
      while (statement.step()) {
        // Rows of a RETURNING clause or a query: not wanted here.
      }
      return this.db.getRowsModified()
    })
  }

  /** Runs SQL that may hold several statements and no parameters (pragmas, scripts). */
  exec(sql: string): void {
    try {
      this.db.exec(sql)
    } catch (cause) {
      throw sqlError(sql, cause)
    }
  }

  /**
   * The database as SQLite file bytes. sql.js closes and reopens its connection to do this, which
   * frees every prepared statement and resets the pragmas, so both are restored here.
   */
  export(): Uint8Array {
    this.statements.clear(false)
    let bytes: Uint8Array
    try {
      bytes = this.db.export()
    } catch (cause) {
      throw sqlError("<export database image>", cause)
    }
    this.applyPragmas()
    return bytes
  }

  close(): void {
    this.freeStatements()
    this.db.close()
  }

  private freeStatements(): void {
    this.statements.clear(true)
  }

  private applyPragmas(): void {
    for (const pragma of this.pragmas) this.exec(pragma)
  }

  /** Applies the pragmas, then reads the schema: sql.js accepts any bytes lazily, this proves they are a database. */
  private prove(): void {
    this.applyPragmas()
    this.query("SELECT count(*) AS n FROM sqlite_master", [])
  }

  private withStatement<A>(sql: string, params: ReadonlyArray<SqlValue>, use: (statement: Statement) => A): A {
    let statement: Statement | undefined
    this.observer?.(sql, params)
    try {
      statement = this.prepare(sql)
      statement.bind(params as Array<SqlValue>)
      return use(statement)
    } catch (cause) {
      throw asSqlError(cause, sql)
    } finally {
      // Reset even on failure: a statement left mid-step would hold SQLite's read lock open.
      statement?.reset()
    }
  }

  private prepare(sql: string): Statement {
    return this.statements.get(sql, (text) => this.db.prepare(text))
  }
}

const openImage = (sqljs: SqlJs, bytes: Uint8Array | undefined): initSqlJs.Database => {
  try {
    return new sqljs.Database(bytes ?? null)
  } catch (cause) {
    throw sqlError("<open database image>", cause)
  }
}

/**
 * The current row's cells. sql.js reads INTEGER columns as doubles, which is exact up to 2^53; a value
 * beyond that is read again as a bigint so that no integer is silently rounded.
 */
const readCells = (statement: Statement): Array<CellValue> => {
  const cells: Array<CellValue> = statement.get()
  let exact: Array<CellValue> | undefined
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]
    if (typeof cell === "number" && Number.isInteger(cell) && !Number.isSafeInteger(cell)) {
      exact ??= (statement.get as unknown as GetWithConfig).call(statement, null, { useBigInt: true })
      const wide = exact[i]
      if (typeof wide === "bigint") cells[i] = wide
    }
  }
  return cells
}
