import Database from "better-sqlite3"
import { asSqlError, type CellValue, defaultPragmas, type SqliteConnection, sqlError, type SqlValue } from "./sqljs-database.js"
import { StatementCache } from "./statement-cache.js"

// Prepared statements are reused by SQL text; the bound keeps memory flat under ad-hoc SQL.
const statementCacheMax = 256

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

  private constructor(private readonly db: Database) {}

  /** An empty in-memory database with the store's pragmas. */
  static open(pragmas: ReadonlyArray<string> = defaultPragmas): NativeDatabase {
    let db: Database
    try {
      db = new Database(":memory:")
    } catch (cause) {
      throw sqlError("<open database>", cause)
    }
    const database = new NativeDatabase(db)
    try {
      for (const pragma of pragmas) database.exec(pragma)
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
    this.db.close()
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
