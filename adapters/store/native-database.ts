import Database from "better-sqlite3"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { asSqlError, type CellValue, defaultPragmas, type SqliteConnection, sqlError, type SqlValue } from "./sqljs-database.js"
import { StatementCache } from "./statement-cache.js"

// Prepared statements are reused by SQL text; the bound keeps memory flat under ad-hoc SQL.
const statementCacheMax = 256
// A temporary file database's page cache: the hot pages (indexes, recent rows) stay in memory.
const temporaryFileCacheKiB = 65_536

// better-sqlite3 binds Buffers, not bare Uint8Arrays.
const bindable = (params: ReadonlyArray<SqlValue>): ReadonlyArray<SqlValue | Buffer> =>
  params.some((value) => value instanceof Uint8Array && !Buffer.isBuffer(value))
    ? params.map((value) => (value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value))
    : params

/**
 * One in-memory native SQLite database (better-sqlite3 12.11.1) behind the same `SqliteConnection` as
 * sql.js's, so the sql.js store's client runs on it unchanged (`sqljs-client.ts`: its lock, sessions,
 * short statement path, cheap transactions, and refusal of nondeterministic writes and of transaction
 * control outside `withTransaction`). Parameters are converted by the session as on sql.js (booleans
 * 0/1, Dates epoch milliseconds), so both engines see the same values. For the simulator (`--store
 * native`); not durable.
 */
export class NativeDatabase implements SqliteConnection {
  // better-sqlite3 frees a statement when it is collected: nothing to release.
  private readonly statements = new StatementCache<Database.Statement>(statementCacheMax, () => undefined)
  observer: ((sql: string, params: ReadonlyArray<SqlValue>) => void) | undefined

  private constructor(
    private readonly db: Database,
    /** The directory of a temporary file database, removed on close. */
    private readonly tempDir: string | undefined
  ) {}

  /**
   * An empty database with the store's pragmas: in memory, or with `temporaryFile` in a file of a fresh
   * directory under the OS's temporary directory, removed on close. On a file, the database is out of
   * the process's memory (a month of a 100-kiosk fleet is ~2 GiB of it, sim/README.md, "Performance") but for
   * SQLite's page cache (`temporaryFileCacheKiB`); the pragmas (no fsync, journal in memory, exclusive
   * lock) already suit a file nobody reads after a crash.
   */
  static open(pragmas: ReadonlyArray<string> = defaultPragmas, temporaryFile = false): NativeDatabase {
    let db: Database
    let tempDir: string | undefined
    try {
      if (temporaryFile) {
        tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "ecoupon-native-store-"))
        db = new Database(path.join(tempDir, "store.sqlite"))
      } else {
        db = new Database(":memory:")
      }
    } catch (cause) {
      if (tempDir !== undefined) fs.rmSync(tempDir, { recursive: true, force: true })
      throw sqlError("<open database>", cause)
    }
    const database = new NativeDatabase(db, tempDir)
    try {
      for (const pragma of pragmas) database.exec(pragma)
      if (temporaryFile) database.exec(`PRAGMA cache_size = -${temporaryFileCacheKiB}`)
    } catch (cause) {
      database.close()
      throw cause
    }
    return database
  }

  query(sql: string, params: ReadonlyArray<SqlValue>): Array<Record<string, CellValue>> {
    return this.withStatement(sql, params, (statement, values) =>
      statement.reader ? (statement.all(...values) as Array<Record<string, CellValue>>) : (statement.run(...values), [])
    )
  }

  values(sql: string, params: ReadonlyArray<SqlValue>): Array<Array<CellValue>> {
    return this.withStatement(sql, params, (statement, values) => {
      if (!statement.reader) {
        statement.run(...values)
        return []
      }
      statement.raw(true)
      try {
        return statement.all(...values) as Array<Array<CellValue>>
      } finally {
        statement.raw(false)
      }
    })
  }

  run(sql: string, params: ReadonlyArray<SqlValue>): number {
    return this.withStatement(sql, params, (statement, values) => statement.run(...values).changes)
  }

  exec(sql: string): void {
    try {
      this.db.exec(sql)
    } catch (cause) {
      throw sqlError(sql, cause)
    }
  }

  export(): Uint8Array {
    try {
      return this.db.serialize()
    } catch (cause) {
      throw sqlError("<export database image>", cause)
    }
  }

  close(): void {
    this.statements.clear(false)
    try {
      this.db.close()
    } finally {
      if (this.tempDir !== undefined) fs.rmSync(this.tempDir, { recursive: true, force: true })
    }
  }

  private withStatement<A>(sql: string, params: ReadonlyArray<SqlValue>, use: (statement: Database.Statement, values: ReadonlyArray<SqlValue | Buffer>) => A): A {
    this.observer?.(sql, params)
    try {
      return use(this.prepare(sql), bindable(params))
    } catch (cause) {
      throw asSqlError(cause, sql)
    }
  }

  private prepare(sql: string): Database.Statement {
    return this.statements.get(sql, (text) => this.db.prepare(text))
  }
}
