import { Command, Options } from "@effect/cli"
import { integerOption } from "./option-values.js"
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs"
import { join, resolve } from "node:path"
import { Console, Effect, Either, Option } from "effect"
import { describeConfig, type FleetConfig, fleetConfig } from "../../sim/fleet-config.js"
import type { FleetKpis } from "../../sim/fleet-kpis.js"
import type { EventSink } from "../../sim/fleet-log.js"
import { runFleet } from "../../sim/fleet.js"
import * as NativeSqlite from "../store/native-sqlite.js"
import { formatDuration, interruptionText, renderReport } from "../../sim/report-html.js"

/**
 * `ecoupon sim --kiosks N --merchants M --days D --seed S [--faults ...] --out DIR`: the digital twin
 * of a whole deployment in virtual time (DESIGN §2, issue 4). Progress in simulated time on stderr (a
 * bar on a terminal, a line per simulated day otherwise); a summary on stdout; `events.ndjson`,
 * `kpis.json` and `report.html` in DIR. Exit status 1 when the auditor finds a violation, 2 on bad
 * options. Ctrl-C (SIGINT) or SIGTERM stops the run within a second: it says how far it got, writes
 * the three files marked partial and exits 130; a second signal ends the process at once.
 */

const DAY_MS = 86_400_000
/** Event log lines are gathered into writes of about this many bytes. */
const WRITE_CHUNK_BYTES = 1 << 20

/** The exit status of a run stopped by a signal (SIGINT or SIGTERM): the shell's "interrupted". */
export const INTERRUPTED_EXIT = 130

const usageError = (message: string) => Effect.zipRight(Console.error(`ecoupon sim: ${message}`), Effect.sync(() => void (process.exitCode = 2)))

/** Writes lines to a file in large chunks, synchronously: the simulation runs in one synchronous stretch. */
const fileSink = (path: string): EventSink & { readonly close: () => void } => {
  const fd = openSync(path, "w")
  let chunks: Array<string> = []
  let size = 0
  const flush = () => {
    if (chunks.length === 0) return
    writeSync(fd, chunks.join(""))
    chunks = []
    size = 0
  }
  return {
    write: (line) => {
      chunks.push(line)
      size += line.length
      if (size >= WRITE_CHUNK_BYTES) flush()
    },
    close: () => {
      flush()
      closeSync(fd)
    }
  }
}

/** Progress in simulated time: a redrawn bar on a terminal, one line per simulated day elsewhere. */
const progress = (config: FleetConfig, startedAt: number) => {
  const tty = process.stderr.isTTY === true
  const totalMs = config.days * DAY_MS
  const steps = tty ? 200 : config.days
  let nextMs = config.startMs + totalMs / steps
  let lastDay = 0
  let simulating = false
  const onTime = (nowMs: number) => {
    if (!simulating) {
      // The first step of virtual time: the deployment is registered and the day begins.
      simulating = true
      process.stderr.write(`ecoupon sim: set up in ${((performance.now() - startedAt) / 1_000).toFixed(1)} s; simulating (Ctrl-C stops it and keeps partial results)\n`)
    }
    if (nowMs < nextMs) return
    const done = Math.min(1, (nowMs - config.startMs) / totalMs)
    nextMs = config.startMs + (Math.floor(done * steps) + 1) * (totalMs / steps)
    const wallS = (performance.now() - startedAt) / 1_000
    const day = Math.floor((nowMs - config.startMs) / DAY_MS)
    if (tty) {
      const width = 30
      const filled = Math.round(done * width)
      const clock = new Date(nowMs).toISOString().slice(11, 16)
      process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}%  day ${Math.min(day + 1, config.days)}/${config.days} ${clock}  ${wallS.toFixed(0)} s `)
    } else if (day > lastDay) {
      for (let d = lastDay + 1; d <= day; d++) process.stderr.write(`ecoupon sim: simulated day ${d} of ${config.days} done (${wallS.toFixed(1)} s)\n`)
      lastDay = day
    }
  }
  const end = () => {
    if (tty) process.stderr.write("\n")
  }
  return { onTime, end }
}

const n = (value: number) => value.toLocaleString("en-US")
const tally = (t: Readonly<Record<string, number>>) => {
  const entries = Object.entries(t).sort((a, b) => b[1] - a[1])
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k} ${n(v)}`).join(", ")
}

/**
 * The patent's claims (DESIGN §1), each with the figures of this run that show it happening: what a
 * newcomer reads to see that the default week exercises every one of them.
 */
export const claimLines = (kpis: FleetKpis): ReadonlyArray<string> => {
  const office = (key: string) => kpis.office[key] ?? 0
  const catalog = (key: string) => kpis.catalog[key] ?? 0
  const returned = (kpis.cards.returns["returned"] ?? 0) + (kpis.cards.returns["returned_after_charge"] ?? 0)
  const delivered = kpis.orders.outcomes["Delivered"] ?? 0
  const institution = kpis.money.at(-1)?.byKind["institution"] ?? 0
  return [
    `claims (DESIGN §1)`,
    `  1, 2, 7  ${n(kpis.config.merchants)} merchants' catalogs pulled ${n(catalog("pulls"))} times from their provider servers (${n(catalog("offers-changed"))} offer changes) and shown at ${n(kpis.config.kiosks)} kiosks in ${n(kpis.config.regions)} regions`,
    `  3, 5     ${n(kpis.journeys.registrations)} customers registered by their phone numbers, ${n(kpis.journeys.codeMistypes)} wrong codes refused; ${n(office("campaign-grants"))} campaign grants`,
    `  4        ${n(kpis.settlements.statements)} settlement statements, ${n(kpis.settlements.points)} points, ${n(kpis.settlements.payoutsPaid)} paid out to merchants`,
    `  6, 8     ${n(delivered)} orders delivered: coupons issued, points moved in the ledger, orders sent to the merchants' servers`,
    `  9        ${n(kpis.cards.dispensed)} coupons on cards handed over (${n(kpis.orders.byMedium["card"] ?? 0)} card orders)`,
    `  10       ${n(returned)} cards returned; ${n(office("coupons-expired"))} coupons expired (${n(office("expired-points"))} points); the institutions hold ${n(institution)} points`,
    `  11       ${n(kpis.cards.overdue)} cards overdue, ${n(kpis.carrier.chargesQueued)} deposits charged to phone bills: ${n(kpis.carrier.confirmed)} confirmed (${n(kpis.carrier.confirmedPoints)} points), ${n(kpis.carrier.declined)} declined; ${n(office("forfeited-points"))} points forfeited to the institutions`
  ]
}

export const summaryText = (kpis: FleetKpis, wallMs: number, outDir: string): string => {
  const compression = wallMs > 0 ? kpis.run.simulatedMs / wallMs : 0
  const ok = kpis.audit.ok && kpis.invariants.providerDelivery.ok
  const returned = (kpis.cards.returns["returned"] ?? 0) + (kpis.cards.returns["returned_after_charge"] ?? 0)
  const stop = interruptionText(kpis)
  return [
    ...(stop === undefined ? [] : [stop]),
    `journeys         ${n(kpis.journeys.total)} (${tally(kpis.journeys.outcomes)}); ${n(kpis.journeys.walkedAway)} walked away`,
    `orders           ${tally(kpis.orders.outcomes)}`,
    `coupons          ${n(kpis.coupons.issued)} issued, ${n(kpis.coupons.points)} points (${tally(kpis.orders.byMedium)})`,
    `redemptions      ${n(kpis.redemptions.count)}, ${n(kpis.redemptions.points)} points, ${n(kpis.redemptions.rollbacks)} rolled back`,
    `card returns     ${n(returned)} returned, ${n(kpis.cards.overdue)} not returned by their deadline, ${n(kpis.cards.outstandingAtEnd)} still out, ${n(kpis.cards.notTaken)} not taken at the gate`,
    `carrier charges  ${n(kpis.carrier.chargesQueued)} queued, ${n(kpis.carrier.confirmed)} confirmed (${n(kpis.carrier.confirmedPoints)} points), ${n(kpis.carrier.declined)} declined`,
    `settlements      ${n(kpis.settlements.statements)} statements, ${n(kpis.settlements.points)} points, ${n(kpis.settlements.payoutsPaid)} paid out`,
    ...claimLines(kpis),
    `device faults    ${tally(kpis.deviceFailures)} (injected: ${tally(kpis.faultsFired)})`,
    `stock-outs       ${tally(kpis.stockOuts)}`,
    `audit            ${kpis.partial ? "not run (partial run)" : ok ? "clean: every invariant holds" : `FAILED: ${n(kpis.audit.violations)} violations${kpis.invariants.providerDelivery.ok ? "" : `, ${n(kpis.invariants.providerDelivery.missing)} delivered orders never reached their provider`}`}`,
    `event log        ${n(kpis.eventLog.lines)} lines, sha256 ${kpis.eventLog.sha256}`,
    `wall time        ${formatDuration(wallMs)} for ${kpis.partial ? `${(kpis.run.simulatedMs / DAY_MS).toFixed(1)} of ${kpis.config.days}` : kpis.config.days} simulated days (${compression >= 10 ? n(Math.round(compression)) : compression.toFixed(1)}x faster than real time)`,
    ``,
    `report: ${join(outDir, "report.html")}`
  ].join("\n")
}

export const simCommand = Command.make(
  "sim",
  {
    kiosks: integerOption("kiosks").pipe(Options.withDefault(10), Options.withDescription("Kiosks in the fleet (1-1000)")),
    merchants: integerOption("merchants").pipe(Options.withDefault(20), Options.withDescription("Merchants with offers (1-1000)")),
    days: integerOption("days").pipe(Options.withDefault(7), Options.withDescription("Simulated days (1-366)")),
    seed: integerOption("seed").pipe(Options.withDefault(1), Options.withDescription("The run's seed: the same seed and options give the same event log")),
    faults: Options.text("faults").pipe(
      Options.withDefault(""),
      Options.withDescription("Faults to inject, name=value pairs separated by commas, e.g. card.jam=0.01,sms.loss=0.05 (see sim/README.md)")
    ),
    customersPerDay: integerOption("customers-per-day").pipe(Options.optional, Options.withDescription("Customers per kiosk per day (default 50)")),
    regions: integerOption("regions").pipe(Options.optional, Options.withDescription("Regions the kiosks are spread over (default one per 5 kiosks, at most 20)")),
    store: Options.choice("store", ["sqljs", "native", "native-file"]).pipe(
      Options.withDefault("sqljs"),
      Options.withDescription("The SQL engine under the core: sqljs (in-memory sql.js, the default), native (in-memory better-sqlite3) or native-file (better-sqlite3 on a temporary file, removed at the end: the database out of memory, for month-long fleets); same seed, same event log")
    ),
    out: Options.directory("out").pipe(Options.withDefault("./out"), Options.withDescription("Where events.ndjson, kpis.json and report.html are written"))
  },
  (o) => {
    const parsed = fleetConfig({
      kiosks: o.kiosks,
      merchants: o.merchants,
      days: o.days,
      seed: o.seed,
      faults: o.faults,
      ...(Option.isSome(o.customersPerDay) ? { customersPerKioskPerDay: o.customersPerDay.value } : {}),
      ...(Option.isSome(o.regions) ? { regions: o.regions.value } : {})
    })
    if (Either.isLeft(parsed)) return usageError(parsed.left)
    const config = parsed.right
    const outDir = resolve(o.out)
    return Effect.gen(function* () {
      yield* Effect.try({ try: () => mkdirSync(outDir, { recursive: true }), catch: (error) => new Error(`cannot create ${outDir}: ${error instanceof Error ? error.message : String(error)}`) })
      const eventsPath = join(outDir, "events.ndjson")
      yield* Console.error(`ecoupon sim: ${describeConfig(config)}`)
      const startedAt = performance.now()
      const bar = progress(config, startedAt)
      const sink = fileSink(eventsPath)
      // Ctrl-C and SIGTERM stop the simulation, which then writes what it has (the process's own
      // handler interrupts this fiber too, so the run and its files are written uninterruptibly).
      const stop = new AbortController()
      const onSignal = (signal: NodeJS.Signals) => {
        if (stop.signal.aborted) {
          process.stderr.write(`\necoupon sim: ${signal} again: stopping without writing the partial results\n`)
          process.exit(INTERRUPTED_EXIT)
        }
        stop.abort(signal)
      }
      const signals = Effect.acquireRelease(
        Effect.sync(() => {
          process.on("SIGINT", onSignal)
          process.on("SIGTERM", onSignal)
        }),
        () =>
          Effect.sync(() => {
            process.removeListener("SIGINT", onSignal)
            process.removeListener("SIGTERM", onSignal)
          })
      )
      const result = yield* Effect.zipRight(signals, Effect.tryPromise({ try: () => runFleet(config, { sink, onTime: bar.onTime, stop: stop.signal, ...(o.store === "sqljs" ? {} : { store: NativeSqlite.layer({ temporaryFile: o.store === "native-file" }) }) }), catch: (error) => error })).pipe(
        Effect.scoped,
        Effect.ensuring(Effect.sync(() => {
          sink.close()
          bar.end()
        }))
      )
      const wallMs = performance.now() - startedAt
      writeFileSync(join(outDir, "kpis.json"), `${JSON.stringify({ ...result.kpis, wall: { ms: Math.round(wallMs), compression: Math.round(result.kpis.run.simulatedMs / Math.max(1, wallMs)) } }, null, 2)}\n`)
      writeFileSync(join(outDir, "report.html"), renderReport(result.kpis, { wallMs, eventsFile: "events.ndjson" }))
      yield* Console.log(summaryText(result.kpis, wallMs, outDir))
      if (result.kpis.partial) {
        yield* Console.error(`ecoupon sim: ${interruptionText(result.kpis) ?? "stopped"}; kpis.json, report.html and events.ndjson in ${outDir} are marked partial`)
        process.exitCode = INTERRUPTED_EXIT
      } else if (!result.ok) {
        yield* Console.error(result.auditText)
        process.exitCode = 1
      }
    }).pipe(
      Effect.catchAll((error) =>
        Effect.zipRight(Console.error(`ecoupon sim: ${error instanceof Error ? error.message : String(error)}`), Effect.sync(() => void (process.exitCode = 1)))
      ),
      Effect.uninterruptible
    )
  }
).pipe(Command.withDescription("Run the digital twin of a whole deployment (kiosks, merchants, customers, faults) in virtual time"))
