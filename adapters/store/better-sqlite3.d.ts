// better-sqlite3 ships no types and @types/better-sqlite3 is not installed: the little the native store
// (native-database.ts) and the SQL floor's replay (scenarios/bench/sql-floor.ts) use, as better-sqlite3
// 12 documents it.
declare module "better-sqlite3" {
  namespace Database {
    interface Statement {
      readonly reader: boolean
      raw(toggle?: boolean): this
      all(...params: ReadonlyArray<unknown>): Array<unknown>
      run(...params: ReadonlyArray<unknown>): { readonly changes: number; readonly lastInsertRowid: number | bigint }
    }
  }
  interface Database {
    prepare(sql: string): Database.Statement
    exec(sql: string): this
    close(): this
    /** The database as an SQLite file image. */
    serialize(): Buffer
  }
  const Database: new (filename: string) => Database
  export default Database
}
