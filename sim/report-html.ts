import { DAY_MS } from "./behaviour-customer.js"
import type { FleetKpis, Tally } from "./fleet-kpis.js"
import { barChart, escapeHtml, hbarChart, lineChart } from "./report-svg.js"

/**
 * The fleet run as a page a person reads (`report.html`): the headline figures, the auditor's verdict,
 * and charts drawn as inline SVG (coupons per day, card stock per kiosk over time, faults by kind,
 * money by account kind). One file, no scripts, nothing fetched.
 */

export interface ReportRun {
  readonly wallMs: number
  readonly eventsFile: string
}

/** Kiosks drawn in the card stock chart; a larger fleet shows the first ones and says so. */
export const STOCK_KIOSKS_DRAWN_MAX = 12

const n = (value: number): string => value.toLocaleString("en-US")
const sum = (tally: Tally): number => Object.values(tally).reduce((a, b) => a + b, 0)

const table = (rows: ReadonlyArray<readonly [string, string]>): string =>
  `<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>`

const tallyText = (tally: Tally): string => {
  const entries = Object.entries(tally).sort((a, b) => b[1] - a[1])
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k} ${n(v)}`).join(", ")
}

export const formatDuration = (ms: number): string => {
  if (ms < 1_000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`
}

/** One line on where a stopped run got to (the summary and the report say it first). */
export const interruptionText = (kpis: FleetKpis): string | undefined => {
  const stop = kpis.interrupted
  if (!kpis.partial || stop === undefined) return undefined
  const clock = new Date(stop.atMs).toISOString().slice(11, 16)
  return `PARTIAL: stopped by ${stop.reason} ${stop.phase === "closing" ? "during closing time, after" : "on"} day ${stop.day} of ${stop.days} at ${clock} simulated, ` +
    `after ${stop.journeys.toLocaleString("en-US")} journeys; the figures cover the run up to then (no final drain, no audit)`
}

const dayLabel = (startMs: number, day: number): string => new Date(startMs + day * DAY_MS).toISOString().slice(5, 10)

export const renderReport = (kpis: FleetKpis, run: ReportRun): string => {
  const { config } = kpis
  const compression = run.wallMs > 0 ? kpis.run.simulatedMs / run.wallMs : 0
  const verdict = kpis.audit.ok && kpis.invariants.providerDelivery.ok
  const days = kpis.days.map((d) => dayLabel(config.startMs, d.day))

  const couponsChart = barChart({
    categories: days,
    series: [
      { name: "coupons issued", values: kpis.days.map((d) => d.coupons) },
      { name: "redemptions", values: kpis.days.map((d) => d.redemptions) },
      { name: "cards returned", values: kpis.days.map((d) => d.cardReturns) }
    ],
    yLabel: "per day"
  })

  const stockKiosks = Object.entries(kpis.cardStock).slice(0, STOCK_KIOSKS_DRAWN_MAX)
  const endMs = config.startMs + config.days * DAY_MS
  const stockChart = lineChart({
    series: stockKiosks.map(([kiosk, samples]) => ({ name: kiosk, points: samples.map(([t, stacker]) => [t, stacker] as const) })),
    xRange: [config.startMs, endMs],
    xTicks: Array.from({ length: config.days + 1 }, (_, d) => config.startMs + d * DAY_MS).filter((_, d, all) => all.length <= 16 || d % Math.ceil(all.length / 15) === 0),
    xLabel: (x) => dayLabel(config.startMs, Math.round((x - config.startMs) / DAY_MS)),
    yLabel: "blank cards in the stacker",
    legendMax: 6
  })

  const faults: Array<readonly [string, number]> = [
    ...Object.entries(kpis.faultsFired).map(([k, v]) => [`injected ${k}`, v] as const),
    ...Object.entries(kpis.deviceFailures).map(([k, v]) => [`customer met ${k}`, v] as const)
  ]
  const lastMoney = kpis.money.at(-1)?.byKind ?? {}
  const moneyKinds = ["user", "coupon", "merchant_payable", "merchant_paid", "institution"] as const
  const moneyChart = barChart({
    categories: kpis.money.map((m) => dayLabel(config.startMs, m.day)),
    series: moneyKinds.map((kind) => ({ name: kind.replace("_", " "), values: kpis.money.map((m) => m.byKind[kind] ?? 0) })),
    yLabel: "points held at the end of the day"
  })

  const headline = table([
    ["fleet", `${config.kiosks} kiosks in ${config.regions} regions, ${config.merchants} merchants, ${config.days} days, seed ${config.seed}`],
    ["faults", config.faults === "" ? "none injected" : config.faults],
    ["journeys", `${n(kpis.journeys.total)} (${n(kpis.journeys.registrations)} registrations, ${n(kpis.journeys.walkedAway)} walked away from the queue)`],
    ["journey outcomes", tallyText(kpis.journeys.outcomes)],
    ["orders", tallyText(kpis.orders.outcomes)],
    ["coupons", `${n(kpis.coupons.issued)} issued worth ${n(kpis.coupons.points)} points (${tallyText(kpis.orders.byMedium)})`],
    ["redemptions", `${n(kpis.redemptions.count)} for ${n(kpis.redemptions.points)} points; ${n(kpis.redemptions.rollbacks)} rolled back; refused: ${tallyText(kpis.redemptions.refusals)}`],
    ["cards", `${n(kpis.cards.dispensed)} handed over, ${n(kpis.cards.notTaken)} not taken; returns: ${tallyText(kpis.cards.returns)}; ${n(kpis.cards.overdue)} went overdue; ${n(kpis.cards.outstandingAtEnd)} still out at the end`],
    ["carrier charges", `${n(kpis.carrier.chargesQueued)} queued, ${n(kpis.carrier.confirmed)} confirmed (${n(kpis.carrier.confirmedPoints)} points), ${n(kpis.carrier.declined)} declined, ${n(kpis.carrier.pending)} pending`],
    ["settlements", `${n(kpis.settlements.statements)} statements, ${n(kpis.settlements.points)} points; ${n(kpis.settlements.payoutsPaid)} payouts paid, ${n(kpis.settlements.payoutsFailed)} failed`],
    ["device failures", tallyText(kpis.deviceFailures)],
    ["stock-outs", tallyText(kpis.stockOuts)],
    ["maintenance", `${n(kpis.maintenance.visits)} visits: ${tallyText(kpis.maintenance.actions)}`],
    ["twin drift at the end", kpis.partial ? "not compared (partial run)" : kpis.twinDrift.kiosksWithDelta === 0 ? "none" : `${kpis.twinDrift.kiosksWithDelta} kiosks: ${tallyText(kpis.twinDrift.fields)}`],
    ["event log", `${n(kpis.eventLog.lines)} lines in ${run.eventsFile}, sha256 ${kpis.eventLog.sha256}`],
    ["run", `${formatDuration(run.wallMs)} of wall time for ${config.days} simulated days (${compression >= 10 ? Math.round(compression).toLocaleString("en-US") : compression.toFixed(1)}x)`]
  ])

  const checks = kpis.audit.checks
    .map((c) => `<tr class="${c.violations === 0 ? "ok" : "bad"}"><td>${c.violations === 0 ? "ok" : "FAIL"}</td><td>${c.invariant}</td><td>${escapeHtml(c.name)}</td><td>${n(c.checked)}</td><td>${n(c.violations)}</td></tr>`)
    .join("")
  const extraChecks = [
    `<tr class="${kpis.invariants.providerDelivery.ok ? "ok" : "bad"}"><td>${kpis.invariants.providerDelivery.ok ? "ok" : "FAIL"}</td><td>7</td><td>every delivered order reached its provider (or was flagged)</td><td>${n(kpis.invariants.providerDelivery.checked)}</td><td>${n(kpis.invariants.providerDelivery.missing)}</td></tr>`,
    `<tr class="ok"><td>ok</td><td>10</td><td>no phone number in the event log (every line checked as written)</td><td>${n(kpis.eventLog.lines)}</td><td>0</td></tr>`
  ].join("")

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ecoupon fleet simulation, seed ${config.seed}${kpis.partial ? " (partial)" : ""}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#111827;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.verdict{display:inline-block;padding:6px 12px;border-radius:6px;font-weight:600;margin:8px 0}
.good{background:#dcfce7;color:#166534}.badv{background:#fee2e2;color:#991b1b}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #f3f4f6;vertical-align:top}
th{width:190px;color:#374151;font-weight:600}tr.bad td{color:#991b1b;font-weight:600}
table.checks th{width:auto}table.checks td:nth-child(3){width:60%}
.note{color:#6b7280;font-size:12px}svg{max-width:100%;height:auto}
</style></head><body>
<h1>ecoupon fleet simulation</h1>
<div class="note">${escapeHtml(`${config.kiosks} kiosks, ${config.merchants} merchants, ${config.days} days from ${new Date(config.startMs).toISOString().slice(0, 10)}, seed ${config.seed}, about ${config.customersPerKioskPerDay} customers per kiosk per day`)}</div>
${kpis.partial ? `<div class="verdict badv">${escapeHtml(interruptionText(kpis) ?? "PARTIAL")}</div>` : ""}
<div class="verdict ${verdict ? "good" : "badv"}">${kpis.partial ? "Audit not run (partial run)" : kpis.audit.skipped ? "Audit skipped (benchmark run)" : verdict ? "Audit clean: every point and every card is accounted for" : `Audit FAILED: ${n(kpis.audit.violations + kpis.invariants.providerDelivery.missing)} violations`}</div>
<h2>Summary</h2>${headline}
<h2>Coupons per day</h2>${couponsChart}
<h2>Card stock per kiosk over time</h2>${stockChart}
<p class="note">Blank cards in each kiosk's stacker, sampled at every twin report; operators restock when a stacker runs low.${Object.keys(kpis.cardStock).length > STOCK_KIOSKS_DRAWN_MAX ? ` The first ${STOCK_KIOSKS_DRAWN_MAX} of ${Object.keys(kpis.cardStock).length} kiosks are drawn.` : ""}</p>
<h2>Faults by kind</h2>${hbarChart({ rows: faults, unit: "times" })}
<p class="note">"injected" counts each fault knob that fired on a device or service (${n(sum(kpis.faultsFired))} in all); "customer met" counts the device errors that ended a purchase or return.</p>
<h2>Money by account kind</h2>${moneyChart}
${hbarChart({ rows: Object.entries(lastMoney).filter(([, v]) => v !== 0), unit: "points" })}
<p class="note">Points held by each kind of ledger account at the end of each day, and at the end of the run (the issuer is negative: it is where every granted point came from).</p>
<h2>Invariants (DESIGN §5)</h2>
<table class="checks"><tr><th>verdict</th><th>#</th><th>check</th><th>rows checked</th><th>violations</th></tr>${checks}${extraChecks}</table>
${kpis.audit.ok || kpis.partial ? "" : `<pre>${escapeHtml(kpis.audit.text)}</pre>`}
</body></html>
`
}
