import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { type FleetConfig, fleetConfig, type FleetOptions } from "./fleet-config.js"
import { runFleet } from "./fleet.js"
import { faultKnobNames } from "./faults.js"
import { renderReport } from "./report-html.js"

/**
 * The fleet simulator end to end, kept small (a 2-core machine runs the whole suite): a couple of
 * kiosks for a couple of days.
 */

const configOf = (options: Partial<FleetOptions> = {}): FleetConfig => {
  const parsed = fleetConfig({ kiosks: 2, merchants: 3, days: 2, seed: 1, customersPerKioskPerDay: 30, ...options })
  if (Either.isLeft(parsed)) throw new Error(parsed.left)
  return parsed.right
}

/**
 * Every knob at a rate that makes it fire often in a small run: devices fail on some percent of their
 * many operations, outside services on a third to half of their calls.
 */
const rates: Readonly<Record<string, number>> = { card: 0.04, printer: 0.08, sms: 0.1, carrier: 0.5, provider: 0.3, payout: 0.3 }
const everyFaultHigh = faultKnobNames.map((knob) => `${knob}=${rates[knob.split(".")[0] ?? ""] ?? 0.1}`).join(",")

describe("fleet simulator", () => {
  it("gives one event log for one seed and another for another seed", async () => {
    const lines: Array<string> = []
    const first = await runFleet(configOf(), { sink: { write: (line) => void lines.push(line) } })
    const again = await runFleet(configOf())
    const other = await runFleet(configOf({ seed: 2 }))
    expect(first.kpis.eventLog.sha256).toBe(again.kpis.eventLog.sha256)
    expect(first.kpis.eventLog.lines).toBe(lines.length)
    expect(other.kpis.eventLog.sha256).not.toBe(first.kpis.eventLog.sha256)
    expect(first.ok).toBe(true)
    // It did something: customers came, bought, and some coupons were used.
    expect(first.kpis.journeys.total).toBeGreaterThan(50)
    expect(first.kpis.coupons.issued).toBeGreaterThan(30)
    expect(first.kpis.redemptions.count).toBeGreaterThan(0)
    // No phone number in the log (invariant 10); customers appear by user id.
    expect(lines.join("")).not.toMatch(/\+\d{8,15}/)
    expect(lines.some((line) => line.includes('"user":"usr_'))).toBe(true)
  }, 120_000)

  it("keeps every point and every card accounted for with every fault switched on at high rates", async () => {
    // Cards are due back the next day, so many go overdue and are charged within the run.
    const config = configOf({ kiosks: 3, days: 6, customersPerKioskPerDay: 30, faults: everyFaultHigh, seed: 7, returnDeadlineDays: 1 })
    const result = await runFleet(config)
    if (!result.ok) throw new Error(result.auditText)
    expect(result.kpis.audit.ok).toBe(true)
    expect(result.kpis.invariants.providerDelivery.ok).toBe(true)
    // The faults did fire, and customers met them.
    for (const knob of faultKnobNames) expect(result.kpis.faultsFired[knob] ?? 0, knob).toBeGreaterThan(0)
    expect(Object.keys(result.kpis.deviceFailures).length).toBeGreaterThan(2)
    // Cards went overdue and their deposits were charged, despite the carrier's faults.
    expect(result.kpis.cards.overdue).toBeGreaterThan(0)
    expect(result.kpis.carrier.chargesQueued).toBe(result.kpis.cards.overdue)
    expect(result.kpis.carrier.confirmed).toBeGreaterThan(0)
    expect(result.kpis.carrier.declined).toBeGreaterThan(0)
    expect(result.kpis.carrier.pending).toBe(0)
    expect(result.kpis.maintenance.visits).toBeGreaterThan(0)
    expect(result.kpis.settlements.statements).toBeGreaterThan(0)
  }, 120_000)

  it("reports in a self-contained page with its charts", async () => {
    const result = await runFleet(configOf({ days: 1 }))
    const html = renderReport(result.kpis, { wallMs: 1_000, eventsFile: "events.ndjson" })
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(4)
    expect(html).toContain("Audit clean")
    expect(html).toContain(result.kpis.eventLog.sha256)
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/)
  }, 60_000)

  it("defaults to a return deadline and a coupon validity inside the default week, so claims 10 and 11 happen in it", () => {
    const config = configOf({ days: 7 })
    expect(config.returnDeadlineDays).toBe(3)
    expect(config.couponValidityMs).toBe(4 * 86_400_000)
    // A card bought on day 1 and kept is overdue at the back office's run after day 4; a coupon of
    // day 1 expires on day 5: both well before the week ends.
    expect((config.returnDeadlineDays + 1) * 86_400_000).toBeLessThan(config.days * 86_400_000)
    expect(config.couponValidityMs + 86_400_000).toBeLessThan(config.days * 86_400_000)
    expect(config.customers.returnOnTimeShare + config.customers.returnLateShare).toBeLessThan(1)
  })

  it("refuses bad options, saying all that is wrong", () => {
    const bad = fleetConfig({ kiosks: 0, merchants: 5000, days: 1.5, seed: -1, faults: "card.jm=2" })
    expect(Either.isLeft(bad)).toBe(true)
    const message = Either.isLeft(bad) ? bad.left : ""
    for (const part of ["--kiosks", "--merchants", "--days", "--seed", "card.jm"]) expect(message).toContain(part)
    expect(Either.isLeft(fleetConfig({ kiosks: 2, merchants: 1, days: 1, seed: 1, regions: 3 }))).toBe(true)
  })
})
