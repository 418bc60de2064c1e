/**
 * Prepared statements by SQL text, for the SQLite connections (`sqljs-database.ts`,
 * `native-database.ts`): each SQL text prepared once and reused; past `max` the least recently used
 * is dropped (`release` frees it where the engine needs that), so ad-hoc SQL keeps memory flat.
 */
export class StatementCache<S> {
  // Map order is insertion order: re-inserting an entry marks it most recently used.
  private readonly entries = new Map<string, S>()

  constructor(
    private readonly max: number,
    private readonly release: (statement: S) => void
  ) {}

  get(sql: string, prepare: (sql: string) => S): S {
    const cached = this.entries.get(sql)
    if (cached !== undefined) {
      this.entries.delete(sql)
      this.entries.set(sql, cached)
      return cached
    }
    const statement = prepare(sql)
    this.entries.set(sql, statement)
    if (this.entries.size > this.max) {
      const [oldestSql, oldest] = this.entries.entries().next().value as [string, S]
      this.entries.delete(oldestSql)
      this.release(oldest)
    }
    return statement
  }

  /** Forgets every statement; `release` too when the connection is still open. */
  clear(release: boolean): void {
    if (release) for (const statement of this.entries.values()) this.release(statement)
    this.entries.clear()
  }
}
