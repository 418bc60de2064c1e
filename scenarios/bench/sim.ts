import { Effect, Either } from "effect"
import { defaultPragmas, type SqlValue } from "../../adapters/store/sqljs-database.js"
import { loadSqlJs } from "../../adapters/store/sqljs-runtime.js"
import { fleetConfig } from "../../sim/fleet-config.js"
import { runFleet } from "../../sim/fleet.js"
import { makeSpanTimer } from "../../sim/span-timer.js"

/**
 * `npm run bench -- sim [kiosks] [days] [customers-per-kiosk-per-day] [seed] [spans] [no-audit] [sql-floor]`: the fleet simulator at
 * scale, by default 100 kiosks for 30 days at about 200 customers per kiosk per day (~600k journeys),
 * on the in-memory sql.js store with every core service real. Prints wall time, peak memory (RSS),
 * journeys per second and time compression; a line per simulated day on stderr while it runs.
 * Targets: <= 60 s and <= 1 GiB on a 2-core machine. With `spans`, tracing is on with a tracer that
 * times every span, and the slowest core operations and statements are listed (tracing costs time).
 * With `no-audit` the auditor is skipped at the end, to time the simulation alone; the wall time up to
 * the end of the last day is printed apart from closing and checks in any case.
 * With `sql-floor`, every statement the store ran is recorded with its values and replayed afterwards
 * straight on sql.js (a fresh database, statements prepared once, every row read, no Effect, no
 * application code): the time the store alone needs for this run, and so the most journeys per
 * second any code on this store could reach. Recording holds every statement in memory: for small
 * runs.
 */
const TARGET_WALL_S = 60
const TARGET_RSS_BYTES = 1024 ** 3
/** The default run's journeys: 100 kiosks, 30 days, about 200 customers each a day. */
const TARGET_JOURNEYS = 100 * 30 * 200
const DAY_MS = 86_400_000

const wholeArg = (value: string | undefined, fallback: number, name: string): number => {
  const n = value === undefined ? fallback : Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${value}`)
  return n
}

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const kiosks = wholeArg(args[0], 100, "kiosks")
  const days = wholeArg(args[1], 30, "days")
  const perDay = wholeArg(args[2], 200, "customers per kiosk per day")
  const seed = wholeArg(args[3], 1, "seed")
  const spans = args.slice(4).includes("spans") ? makeSpanTimer(() => performance.now()) : undefined
  const audit = !args.slice(4).includes("no-audit")
  const recorded: Array<{ readonly sql: string; readonly params: ReadonlyArray<SqlValue> }> | undefined = args.slice(4).includes("sql-floor") ? [] : undefined
  const parsed = fleetConfig({ kiosks, merchants: Math.max(20, Math.round(kiosks / 2)), days, seed, customersPerKioskPerDay: perDay })
  if (Either.isLeft(parsed)) throw new Error(parsed.left)
  const config = parsed.right
  let peakRss = process.memoryUsage().rss
  let nextDay = config.startMs + DAY_MS
  let daysDoneS = 0
  const started = performance.now()
  const result = await runFleet(config, {
    ...(spans === undefined ? {} : { tracing: true, tracer: spans.tracer }),
    audit,
    ...(recorded === undefined ? {} : { sqlObserver: (sql: string, params: ReadonlyArray<SqlValue>) => void recorded.push({ sql, params: [...params] }) }),
    onTime: (nowMs) => {
      if (nowMs < nextDay) return
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
      const day = Math.round((nextDay - config.startMs) / DAY_MS)
      daysDoneS = (performance.now() - started) / 1_000
      process.stderr.write(`sim: day ${day} of ${days} at ${daysDoneS.toFixed(1)} s, rss ${(peakRss / 2 ** 20).toFixed(0)} MiB\n`)
      nextDay += DAY_MS
    }
  })
  const wallS = (performance.now() - started) / 1_000
  // The kernel's own high-water mark, in KiB: catches a peak between samples.
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024)
  const { kpis } = result
  const journeys = kpis.journeys.total
  const compression = kpis.run.simulatedMs / 1_000 / wallS
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`
  process.stdout.write(
    [
      `sim: ${kiosks} kiosks, ${config.merchants} merchants, ${days} days, ~${perDay} customers/kiosk/day, seed ${seed}`,
      `sim: ${journeys.toLocaleString("en-US")} journeys, ${kpis.coupons.issued.toLocaleString("en-US")} coupons, ${kpis.redemptions.count.toLocaleString("en-US")} redemptions, audit ${kpis.audit.skipped ? "skipped" : result.ok ? "clean" : "FAILED"}, event log ${kpis.eventLog.lines.toLocaleString("en-US")} lines`,
      `sim: wall ${wallS.toFixed(1)} s (target <= ${TARGET_WALL_S} s: ${wallS <= TARGET_WALL_S ? "met" : "NOT met"}); the simulated days took ${daysDoneS.toFixed(1)} s, closing and checks ${(wallS - daysDoneS).toFixed(1)} s`,
      `sim: peak RSS ${mib(peakRss)} (target <= ${mib(TARGET_RSS_BYTES)}: ${peakRss <= TARGET_RSS_BYTES ? "met" : "NOT met"}); database ${mib(kpis.run.storeBytes)}`,
      `sim: ${Math.round(journeys / wallS).toLocaleString("en-US")} journeys/s, ${((wallS * 1e6) / Math.max(1, journeys)).toFixed(0)} us of wall time per journey`,
      `sim: time compression ${Math.round(compression).toLocaleString("en-US")}x (${days} simulated days in ${wallS.toFixed(1)} s)`
    ].join("\n") + "\n"
  )
  if (spans !== undefined) {
    const top = spans.report().filter((t) => !t.name.startsWith("sql.")).slice(0, 25)
    const statements = spans.report().filter((t) => t.name.startsWith("sql."))
    const sqlMs = statements.reduce((sum, t) => sum + t.totalMs, 0)
    const sqlCount = statements.reduce((sum, t) => sum + t.count, 0)
    process.stdout.write(`sim: spans by wall time (a span includes its children):\n`)
    for (const t of top) {
      process.stdout.write(`  ${t.totalMs.toFixed(0).padStart(8)} ms ${String(t.count).padStart(9)} x ${((t.totalMs * 1000) / t.count).toFixed(0).padStart(6)} us  ${t.name}\n`)
    }
    process.stdout.write(`  SQL statements: ${sqlCount.toLocaleString("en-US")} (${(sqlCount / Math.max(1, journeys)).toFixed(1)} per journey), ${sqlMs.toFixed(0)} ms\n`)
  }
  if (recorded !== undefined) {
    const replayMs = await replayRaw(recorded)
    const perJourneyUs = (replayMs * 1000) / Math.max(1, journeys)
    process.stdout.write(
      [
        `sim: SQL floor: ${recorded.length.toLocaleString("en-US")} statements (${(recorded.length / Math.max(1, journeys)).toFixed(1)} per journey, transaction control included) replayed straight on sql.js in ${(replayMs / 1000).toFixed(2)} s`,
        `sim: SQL floor: ${perJourneyUs.toFixed(0)} us per journey in the store alone, ${((replayMs * 1000) / Math.max(1, recorded.length)).toFixed(1)} us per statement: at most ${Math.round(1e6 / perJourneyUs).toLocaleString("en-US")} journeys/s on this store before any application code (the target, ~600k journeys in ${TARGET_WALL_S} s, needs ${Math.round(TARGET_JOURNEYS / TARGET_WALL_S).toLocaleString("en-US")}/s)`
      ].join("\n") + "\n"
    )
  }
  if (!result.ok) process.exitCode = 1
}

/** Runs the recorded statements in order on a fresh sql.js database, as directly as sql.js allows. */
const replayRaw = async (statements: ReadonlyArray<{ readonly sql: string; readonly params: ReadonlyArray<SqlValue> }>): Promise<number> => {
  const sqljs = await Effect.runPromise(loadSqlJs)
  const db = new sqljs.Database()
  for (const pragma of defaultPragmas) db.exec(pragma)
  const prepared = new Map<string, ReturnType<typeof db.prepare>>()
  const started = performance.now()
  for (const { sql, params } of statements) {
    let statement = prepared.get(sql)
    if (statement === undefined) {
      statement = db.prepare(sql)
      prepared.set(sql, statement)
    }
    statement.bind(params as Array<SqlValue>)
    while (statement.step()) statement.get()
    statement.reset()
  }
  const took = performance.now() - started
  db.close()
  return took
}
