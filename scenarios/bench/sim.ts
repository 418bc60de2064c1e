import * as NativeSqlite from "../../adapters/store/native-sqlite.js"
import * as os from "node:os"
import * as v8 from "node:v8"
import { Either } from "effect"
import { fleetConfig } from "../../sim/fleet-config.js"
import { runFleet } from "../../sim/fleet.js"
import { makeSpanTimer } from "../../sim/span-timer.js"
import { makeSqlFloor } from "./sql-floor.js"

/**
 * `npm run bench -- sim [kiosks] [days] [customers-per-kiosk-per-day] [seed] [spans] [no-audit] [no-floor] [sqljs] [temp-file]`: the fleet simulator at
 * scale, by default 100 kiosks for 30 days at about 200 customers per kiosk per day (~600k journeys),
 * on the in-memory native SQLite store (`--store native`, in a temporary file with `temp-file`; `sqljs` runs it on sql.js, the embedded
 * default of `serve` and `ecoupon sim`) with every core service real. Prints wall time, peak memory (RSS),
 * journeys per second and time compression; a line per simulated day on stderr while it runs.
 * Targets (the month): <= 10 minutes and <= 1 GiB on a 2-core machine, >= 1,000 journeys/s. With `spans`, tracing is on with a tracer that
 * times every span, and the slowest core operations and statements are listed (tracing costs time).
 * With `no-audit` the auditor is skipped at the end, to time the simulation alone; the wall time up to
 * the end of the last day is printed apart from closing and checks in any case.
 * In the same run (unless `no-floor`), every statement the store runs is replayed straight on shadow
 * databases, sql.js and native SQLite (`sql-floor.ts`): the SQL floor of this very run, the most
 * journeys per second any code on that engine could reach. The replay's time is taken out of the
 * run's wall time, and the run's speed is printed as a ratio of the floor of the engine it ran on
 * (target >= 0.5).
 * CPU time per journey is printed too: steadier than wall time on a shared machine.
 */
const TARGET_WALL_S = 600
const TARGET_RSS_BYTES = 1024 ** 3
const TARGET_JOURNEYS_PER_S = 1_000
const TARGET_FLOOR_RATIO = 0.5
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
  // Native SQLite (`--store native`) by default: ~1.5-2x sql.js on the SQL floor (sim/PERFORMANCE.md); `sqljs`
  // runs on sql.js. Both stores feed the floor's recorder.
  const native = !args.slice(4).includes("sqljs")
  const floor = args.slice(4).includes("no-floor") ? undefined : await makeSqlFloor()
  const temporaryFile = args.slice(4).includes("temp-file")
  // The wall and memory targets are the month's: 100 kiosks (or more) for 30 days at 200 a day.
  const month = kiosks >= 100 && days >= 30 && perDay >= 200
  const parsed = fleetConfig({ kiosks, merchants: Math.max(20, Math.round(kiosks / 2)), days, seed, customersPerKioskPerDay: perDay })
  if (Either.isLeft(parsed)) throw new Error(parsed.left)
  const config = parsed.right
  let peakRss = process.memoryUsage().rss
  let nextDay = config.startMs + DAY_MS
  let daysDoneS = 0
  const started = performance.now()
  const cpuStarted = process.cpuUsage()
  // Set-up (institutions, kiosks, merchants) is replayed but not counted: the floor is the journeys'.
  const result = await runFleet(config, {
    ...(spans === undefined ? {} : { tracing: true, tracer: spans.tracer }),
    audit,
    // `temp-file`: the database in a temporary file, out of RSS (~65 MiB a simulated day at 100 kiosks; sim/PERFORMANCE.md).
    ...(native ? { store: NativeSqlite.layer({ observer: floor?.observer, temporaryFile }) } : {}),
    ...(floor === undefined ? {} : { sqlObserver: floor.observer }),
    onTime: (nowMs) => {
      if (floor !== undefined) floor.timing = true
      if (nowMs < nextDay) return
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
      const day = Math.round((nextDay - config.startMs) / DAY_MS)
      daysDoneS = (performance.now() - started - (floor?.replayMs() ?? 0)) / 1_000
      process.stderr.write(`sim: day ${day} of ${days} at ${daysDoneS.toFixed(1)} s, rss ${(peakRss / 2 ** 20).toFixed(0)} MiB\n`)
      nextDay += DAY_MS
    }
  })
  floor?.flush()
  const cpu = process.cpuUsage(cpuStarted)
  const replayS = (floor?.replayMs() ?? 0) / 1_000
  // The floor's replay ran inside the run: its time is not the run's.
  const wallS = (performance.now() - started) / 1_000 - replayS
  // The kernel's own high-water mark, in KiB: catches a peak between samples.
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024)
  const { kpis } = result
  const journeys = kpis.journeys.total
  const compression = kpis.run.simulatedMs / 1_000 / wallS
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`
  process.stdout.write(
    [
      `sim: ${kiosks} kiosks, ${config.merchants} merchants, ${days} days, ~${perDay} customers/kiosk/day, seed ${seed}, store ${native ? "native SQLite" : "sql.js"}`,
      `sim: ${journeys.toLocaleString("en-US")} journeys, ${kpis.coupons.issued.toLocaleString("en-US")} coupons, ${kpis.redemptions.count.toLocaleString("en-US")} redemptions, audit ${kpis.audit.skipped ? "skipped" : result.ok ? "clean" : "FAILED"}, event log ${kpis.eventLog.lines.toLocaleString("en-US")} lines`,
      `sim: wall ${wallS.toFixed(1)} s (${month ? `target <= ${TARGET_WALL_S} s: ${wallS <= TARGET_WALL_S ? "met" : "NOT met"}` : `the month's target, <= ${TARGET_WALL_S} s, is for 100 kiosks x 30 days x 200`}); the simulated days took ${daysDoneS.toFixed(1)} s, closing and checks ${(wallS - daysDoneS).toFixed(1)} s`,
      `sim: peak RSS ${mib(peakRss)} (${month ? `target <= ${mib(TARGET_RSS_BYTES)}: ${peakRss <= TARGET_RSS_BYTES ? "met" : "NOT met"}` : `the month's target is <= ${mib(TARGET_RSS_BYTES)}`}; V8 heap limit ${mib(v8.getHeapStatistics().heap_size_limit)}); database ${mib(kpis.run.storeBytes)}${native && temporaryFile ? " in a temporary file" : " in memory"}${floor === undefined ? "" : ", and the floor's two shadow copies in memory"}`,
      `sim: ${Math.round(journeys / wallS).toLocaleString("en-US")} journeys/s (target >= ${TARGET_JOURNEYS_PER_S.toLocaleString("en-US")}: ${journeys / wallS >= TARGET_JOURNEYS_PER_S ? "met" : "NOT met"}), ${((wallS * 1e6) / Math.max(1, journeys)).toFixed(0)} us of wall time per journey${floor === undefined ? "" : " (the floor's replay taken out)"}`,
      `sim: ${((cpu.user + cpu.system) / Math.max(1, journeys)).toFixed(0)} us of CPU per journey, replay of the floor included; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores`,
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
  if (floor !== undefined) {
    const statements = floor.statements()
    const perJourney = (ms: number) => (ms * 1000) / Math.max(1, journeys)
    const sqljsUs = perJourney(floor.sqljsMs())
    const nativeUs = perJourney(floor.nativeMs())
    const ratio = (native ? nativeUs : sqljsUs) / ((wallS * 1e6) / Math.max(1, journeys))
    floor.close()
    process.stdout.write(
      [
        `sim: ${(statements / Math.max(1, journeys)).toFixed(1)} statements per journey (${statements.toLocaleString("en-US")}, transaction control included, set-up excluded)`,
        `sim: SQL floor on sql.js: ${sqljsUs.toFixed(0)} us per journey (${((floor.sqljsMs() * 1000) / Math.max(1, statements)).toFixed(1)} us per statement), at most ${Math.round(1e6 / sqljsUs).toLocaleString("en-US")} journeys/s`,
        `sim: SQL floor on native SQLite (better-sqlite3): ${nativeUs.toFixed(0)} us per journey, at most ${Math.round(1e6 / nativeUs).toLocaleString("en-US")} journeys/s; ${(sqljsUs / nativeUs).toFixed(2)}x sql.js's`,
        `sim: the run reached ${ratio.toFixed(3)} of the ${native ? "native SQLite" : "sql.js"} floor (target >= ${TARGET_FLOOR_RATIO}: ${ratio >= TARGET_FLOOR_RATIO ? "met" : "NOT met"})`
      ].join("\n") + "\n"
    )
  }
  if (!result.ok) process.exitCode = 1
}
