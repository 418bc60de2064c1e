import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import * as os from "node:os"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { redactUrl } from "../../adapters/store/postgres.js"
import { type ServeProcess, startServe } from "../../adapters/server/serve-process.js"
import { summariseCpuProfile } from "./serve-profile.js"
import { setUpDeployment } from "./serve-deployment.js"
import { drive, floorCycle, issuanceCycle, kioskBackends, registerCustomers, timedClient, type WindowFigures } from "./serve-load.js"
import { type BenchVendor, startVendor } from "./serve-vendor.js"

/**
 * `npm run bench -- serve [seconds] [kiosks,...] [profile] [no-pg]`: `ecoupon serve` under concurrent
 * kiosks, each running issuance cycles (place, then deliver on paper) over HTTP with its own key: by
 * default 16 and then 64 kiosks, 5 s measured after a 1.5 s warm-up each, on the embedded store and
 * then on PostgreSQL (a database of its own, ecoupon_bench_serve, dropped at the end). The server is its
 * own process (`--gateways http`: the one-time codes, provider orders... go to a small vendor server
 * this benchmark runs), set up over the operator API on a fresh store. Two references in the same run:
 * - the HTTP floor: the same two requests, same client, against `serve-floor-server.ts` (the same
 *   HttpApi stack and request pipeline, endpoints that answer at once: no credentials, core or store);
 * - `pgbench -N`, 8 clients, on a database of its own (ecoupon_bench_pgbench, initialised and dropped).
 * Prints cycles/s, p50/p99 of a cycle, the ratio to the floor, where a cycle's time goes (from the
 * server's Server-Timing: HTTP = what the client waited beyond the server's own time; on the embedded
 * store statements, lock wait, fsync wait; on PostgreSQL the database's active time from
 * pg_stat_database), CPU per cycle of server and client (steadier than wall time on a loaded machine),
 * and the load average. Targets, embedded store at 16 kiosks: >= 0.3 of the floor, p99 <= 25 ms.
 * `profile` runs the embedded server under `node --cpu-prof` and prints where its CPU went.
 * PostgreSQL: ECOUPON_BENCH_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres (a
 * database the role may create others from).
 */
const WARMUP_S = 1.5
const TARGET_FLOOR_RATIO = 0.3
const TARGET_P99_MS = 25
const PGBENCH_CLIENTS = 8
const SERVE_DATABASE = "ecoupon_bench_serve"
const PGBENCH_DATABASE = "ecoupon_bench_pgbench"
const floorServerPath = fileURLToPath(new URL("./serve-floor-server.ts", import.meta.url))
const projectRoot = fileURLToPath(new URL("../../", import.meta.url))

interface StoreRun {
  readonly name: string
  readonly windows: ReadonlyArray<WindowFigures>
}

/** The journal's group commits so far, from the server's /metrics (none on PostgreSQL). */
const fsyncCounters = async (baseUrl: string, token: string): Promise<Record<string, number>> => {
  const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  const text = await response.text()
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, "m").exec(text)?.[1] ?? Number.NaN)
  const count = value("ecoupon_journal_fsync_seconds_count")
  return Number.isNaN(count) ? {} : { fsyncs: count, fsyncMs: value("ecoupon_journal_fsync_seconds_sum") * 1000 }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number)

const psql = (url: string, sql: string): string => {
  const result = spawnSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql], { encoding: "utf8" })
  if (result.status !== 0) throw new Error(`psql on ${redactUrl(url)} failed: ${(result.stderr || result.error?.message || "").trim()}`)
  return result.stdout.trim()
}

const databaseUrl = (adminUrl: string, database: string) => {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

/** The floor server as its own process: resolves with its URL once it listens. */
const startFloor = (): Promise<{ readonly child: ChildProcess; readonly baseUrl: string; readonly exited: Promise<unknown> }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", floorServerPath], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] })
    const exited = new Promise((done) => child.once("exit", done))
    const output: Array<string> = []
    createInterface({ input: child.stderr }).on("line", (line) => output.push(line))
    createInterface({ input: child.stdout }).on("line", (line) => {
      const listening = /listening on (http:\/\/[0-9.]+:\d+)/.exec(line)
      if (listening !== null) resolve({ child, baseUrl: listening[1] ?? "", exited })
    })
    void exited.then(() => reject(new Error(`the floor server exited before listening:\n${output.join("\n")}`)))
  })

const stop = async (child: ChildProcess, exited: Promise<unknown>) => {
  child.kill("SIGTERM")
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
  await exited
  clearTimeout(timer)
}

/** The gateways' settings for `serve --gateways http`: everything goes to the bench vendor. */
const gatewayEnv = (vendor: BenchVendor, payoutDir: string) => ({
  ECOUPON_SMS_URL: `${vendor.url}/sms`,
  ECOUPON_SMS_TOKEN: "bench-sms-token",
  ECOUPON_CARRIER_URL: `${vendor.url}/carrier`,
  ECOUPON_CARRIER_TOKEN: "bench-carrier-token",
  ECOUPON_PAYOUT_CSV_DIR: payoutDir
})

const runFloor = async (kioskCounts: ReadonlyArray<number>, seconds: number): Promise<StoreRun> => {
  const floor = await startFloor()
  try {
    const window = { startMs: Infinity, endMs: -Infinity }
    const keys = Array.from({ length: Math.max(...kioskCounts) }, (_, k) => `ek_floor_${k}`)
    const program = Effect.gen(function* () {
      const cycle = yield* floorCycle(floor.baseUrl, keys)
      return yield* Effect.forEach(kioskCounts, (kiosks) => drive({ kiosks, warmupS: WARMUP_S, seconds, serverPid: floor.child.pid ?? 0, window, cycle }))
    })
    return { name: "HTTP floor", windows: await Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(timedClient()))) }
  } finally {
    await stop(floor.child, floor.exited)
  }
}

const runStore = async (options: {
  readonly name: string
  readonly database: string
  readonly vendor: BenchVendor
  readonly kioskCounts: ReadonlyArray<number>
  readonly seconds: number
  readonly env: Readonly<Record<string, string>>
  readonly nodeArgs: ReadonlyArray<string>
  /** PostgreSQL's account of the database, read at the window's edges. */
  readonly pgCounters?: () => Record<string, number>
}): Promise<StoreRun> => {
  const server: ServeProcess = await startServe(options.database, { gateways: "http", env: options.env, nodeArgs: options.nodeArgs })
  try {
    const adminToken = server.token
    if (adminToken === undefined) throw new Error(`serve printed no bootstrap token on a fresh store:\n${server.output.join("\n")}`)
    const deployment = await setUpDeployment({ baseUrl: server.baseUrl, adminToken, vendorUrl: options.vendor.url, kiosks: Math.max(...options.kioskCounts) })
    const window = { startMs: Infinity, endMs: -Infinity }
    const program = Effect.gen(function* () {
      const backends = yield* kioskBackends(server.baseUrl, deployment.kiosks.map((kiosk) => kiosk.key))
      const customers = yield* registerCustomers({ baseUrl: server.baseUrl, adminToken, vendor: options.vendor, backends })
      const counters = async () => ({ ...(await fsyncCounters(server.baseUrl, adminToken)), ...options.pgCounters?.() })
      return yield* Effect.forEach(options.kioskCounts, (kiosks) =>
        drive({ kiosks, warmupS: WARMUP_S, seconds: options.seconds, serverPid: server.child.pid ?? 0, window, cycle: issuanceCycle(backends, customers, `${options.name.slice(0, 1)}${kiosks}`), counters }))
    })
    const windows = await Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(timedClient())))
    return { name: options.name, windows }
  } finally {
    await stop(server.child, server.exited)
  }
}

const pgbench = (adminUrl: string, seconds: number): { readonly tps: number; readonly latencyMs: number } => {
  psql(adminUrl, `DROP DATABASE IF EXISTS ${PGBENCH_DATABASE}`)
  psql(adminUrl, `CREATE DATABASE ${PGBENCH_DATABASE}`)
  try {
    const url = databaseUrl(adminUrl, PGBENCH_DATABASE)
    const init = spawnSync("pgbench", ["-i", "-q", url], { encoding: "utf8" })
    if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr.trim()}`)
    const run = spawnSync("pgbench", ["-N", "-n", "-c", String(PGBENCH_CLIENTS), "-j", "2", "-T", String(Math.max(1, Math.round(seconds))), url], { encoding: "utf8" })
    if (run.status !== 0) throw new Error(`pgbench -N failed: ${run.stderr.trim()}`)
    const tps = Number(/tps = ([0-9.]+)/.exec(run.stdout)?.[1])
    const latencyMs = Number(/latency average = ([0-9.]+) ms/.exec(run.stdout)?.[1])
    return { tps, latencyMs }
  } finally {
    psql(adminUrl, `DROP DATABASE IF EXISTS ${PGBENCH_DATABASE}`)
  }
}

const f1 = (n: number) => n.toFixed(1)
const f2 = (n: number) => n.toFixed(2)

const windowLines = (run: StoreRun, floor: StoreRun | undefined): Array<string> =>
  run.windows.flatMap((w) => {
    const perSecond = w.cycles / w.seconds
    const p50 = percentile(w.latenciesMs, 0.5)
    const p99 = percentile(w.latenciesMs, 0.99)
    const mean = w.latenciesMs.reduce((sum, x) => sum + x, 0) / Math.max(1, w.cycles)
    const floorWindow = floor?.windows.find((x) => x.kiosks === w.kiosks)
    const serverCpuUs = (w.serverCpuMs * 1000) / Math.max(1, w.cycles)
    const floorCpuUs = floorWindow === undefined ? undefined : (floorWindow.serverCpuMs * 1000) / Math.max(1, floorWindow.cycles)
    const ratio = floorWindow === undefined ? undefined : perSecond / (floorWindow.cycles / floorWindow.seconds)
    // From the Server-Timing of the completed cycles' own requests.
    const perCycle = (ms: number) => ms / Math.max(1, w.cycles)
    const app = perCycle(w.timing.appMs)
    const lines = [
      `serve: ${run.name.padEnd(10)} ${String(w.kiosks).padStart(3)} kiosks: ${f1(perSecond)} cycles/s, p50 ${f1(p50)} ms, p99 ${f1(p99)} ms` +
      (ratio === undefined ? "" : `, ${f2(ratio)} of the floor`) +
      `; ${w.cycles} cycles in ${w.seconds} s, ${w.failures} failed${w.firstFailure === undefined ? "" : ` (first: ${w.firstFailure})`}; load average ${f1(w.loadAverage)}`,
      `serve: ${"".padEnd(10)}   CPU per cycle: server ${serverCpuUs.toFixed(0)} us` +
      (floorCpuUs === undefined ? "" : ` (the floor's ${floorCpuUs.toFixed(0)} us: ${f2(floorCpuUs / serverCpuUs)} of the floor by server CPU)`) +
      `, client ${((w.clientCpuMs * 1000) / Math.max(1, w.cycles)).toFixed(0)} us`
    ]
    if (run.name === "HTTP floor") return lines
    const store = w.timing.dbMs + w.timing.dblockMs + w.timing.fsyncMs
    const fsyncs = w.counters["fsyncs"]
    const pgActive = w.counters["pgActiveMs"]
    lines.push(
      `serve: ${"".padEnd(10)}   a cycle's ${f2(mean)} ms: HTTP ${f2(mean - app)} ms (client, Node's HTTP, waiting for the CPU before the pipeline), in the server ${f2(app)} ms = ` +
        (store > 0
          ? `core ${f2(perCycle(w.timing.appMs - store))} + store statements ${f2(perCycle(w.timing.dbMs))} + store lock wait ${f2(perCycle(w.timing.dblockMs))} + fsync wait ${f2(perCycle(w.timing.fsyncMs))} ms`
          : `core and store ${f2(app)} ms`)
    )
    if (fsyncs !== undefined && fsyncs > 0) {
      lines.push(`serve: ${"".padEnd(10)}   journal: ${f2(fsyncs / Math.max(1, w.cycles))} group commits per cycle, fdatasync ${f2((w.counters["fsyncMs"] ?? 0) / fsyncs)} ms on average (/metrics)`)
    }
    if (pgActive !== undefined) {
      lines.push(`serve: ${"".padEnd(10)}   PostgreSQL: ${f2(pgActive / Math.max(1, w.cycles))} ms of backend active time and ${f1((w.counters["pgCommits"] ?? 0) / Math.max(1, w.cycles))} commits per cycle (pg_stat_database; a statement outside a transaction commits too)`)
    }
    return lines
  })

export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const numeric = args.filter((arg) => /^[0-9.,]+$/.test(arg))
  const seconds = Number(numeric[0] ?? 5)
  const kioskCounts = (numeric[1] ?? "16,64").split(",").map(Number)
  if (!(seconds > 0) || kioskCounts.some((k) => !Number.isSafeInteger(k) || k < 1 || k > 500)) {
    throw new Error(`usage: npm run bench -- serve [seconds > 0] [kiosks,... from 1 to 500] [profile] [no-pg]; got ${args.join(" ")}`)
  }
  const profile = args.includes("profile")
  const withPg = !args.includes("no-pg")
  const adminUrl = process.env["ECOUPON_BENCH_POSTGRES_URL"] || "postgres://postgres@127.0.0.1:5432/postgres"
  const work = mkdtempSync(join(tmpdir(), "ecoupon-bench-serve-"))
  const payouts = join(work, "payouts")
  mkdirSync(payouts)
  const startedMs = performance.now()
  const vendor = await startVendor()
  const out = (line: string) => process.stdout.write(`${line}\n`)
  out(`serve: issuance cycles (place + deliver, paper) over HTTP, ${kioskCounts.join(" then ")} kiosks, ${seconds} s each after ${WARMUP_S} s warm-up; load average ${os.loadavg().map(f1).join(" ")} on ${os.availableParallelism()} cores`)
  try {
    const floor = await runFloor(kioskCounts, seconds)
    windowLines(floor, undefined).forEach(out)
    const profileDir = join(work, "profile")
    const embedded = await runStore({
      name: "embedded",
      database: join(work, "store"),
      vendor,
      kioskCounts,
      seconds,
      env: gatewayEnv(vendor, payouts),
      nodeArgs: profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []
    })
    windowLines(embedded, floor).forEach(out)
    const target = embedded.windows.find((w) => w.kiosks === 16) ?? embedded.windows[0]
    const floorTarget = floor.windows.find((w) => w.kiosks === target?.kiosks)
    if (target !== undefined && floorTarget !== undefined) {
      const ratio = target.cycles / target.seconds / (floorTarget.cycles / floorTarget.seconds)
      const p99 = percentile(target.latenciesMs, 0.99)
      out(`serve: target at ${target.kiosks} kiosks on the embedded store: ${f2(ratio)} of the floor (>= ${TARGET_FLOOR_RATIO}: ${ratio >= TARGET_FLOOR_RATIO ? "met" : "NOT met"}), p99 ${f1(p99)} ms (<= ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS ? "met" : "NOT met"})`)
    }
    if (profile) {
      const file = readdirSync(profileDir).find((name) => name.endsWith(".cpuprofile"))
      if (file !== undefined) summariseCpuProfile(join(profileDir, file), projectRoot, embedded.windows.map((w) => w.monotonicUs)).forEach((line) => out(`serve: profile ${line}`))
    }
    if (withPg) {
      psql(adminUrl, `DROP DATABASE IF EXISTS ${SERVE_DATABASE}`)
      psql(adminUrl, `CREATE DATABASE ${SERVE_DATABASE}`)
      try {
        const url = databaseUrl(adminUrl, SERVE_DATABASE)
        const postgres = await runStore({
          name: "postgres",
          database: url,
          vendor,
          kioskCounts,
          seconds,
          env: { ...gatewayEnv(vendor, payouts), ECOUPON_MASTER_KEY: randomBytes(32).toString("hex") },
          nodeArgs: [],
          pgCounters: () => {
            const [active, commits] = psql(adminUrl, `SELECT active_time, xact_commit FROM pg_stat_database WHERE datname = '${SERVE_DATABASE}'`).split("|")
            return { pgActiveMs: Number(active), pgCommits: Number(commits) }
          }
        })
        windowLines(postgres, floor).forEach(out)
      } finally {
        psql(adminUrl, `DROP DATABASE IF EXISTS ${SERVE_DATABASE} WITH (FORCE)`)
      }
      const bench = pgbench(adminUrl, seconds)
      out(`serve: pgbench -N, ${PGBENCH_CLIENTS} clients, ${Math.max(1, Math.round(seconds))} s on ${redactUrl(adminUrl)}: ${bench.tps.toFixed(0)} TPS, latency average ${f2(bench.latencyMs)} ms; load average ${f1(os.loadavg()[0] ?? 0)}`)
    }
    const sent = vendor.received()
    out(`serve: the vendor received ${sent.sms} SMS and ${sent.providerOrders} provider order submissions from the servers' outboxes; the run took ${f1((performance.now() - startedMs) / 1000)} s`)
  } finally {
    await vendor.close()
    rmSync(work, { recursive: true, force: true })
  }
}
