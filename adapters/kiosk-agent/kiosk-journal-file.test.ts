import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Cause, Effect, Exit } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { CardUid, OrderId } from "../../core/domain/ids.js"
import type { InFlightOrder } from "../../core/ports/kiosk-journal.js"
import { JOURNAL_FILE, openKioskJournalFile } from "./kiosk-journal-file.js"

const dirs: Array<string> = []
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "ecoupon-journal-"))
  dirs.push(dir)
  return join(dir, "state")
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const entry = (n: number, stage: InFlightOrder["stage"], cardUid: string | null = null): InFlightOrder => ({
  orderId: OrderId.make(`ord_${n}`),
  medium: cardUid === null ? "paper" : "card",
  stage,
  cardUid: cardUid === null ? null : CardUid.make(cardUid),
  abortReason: stage === "aborting" ? "card not taken" : null,
  cardRetained: stage === "aborting",
  updatedAtMs: 1_000 + n
})

const run = <A>(effect: Effect.Effect<A>) => Effect.runSync(effect)

describe("the kiosk journal on disk", () => {
  it("keeps every change across a reopen, as a restarted agent finds it", () => {
    const dir = freshDir()
    const journal = run(openKioskJournalFile(dir))
    run(journal.put(entry(1, "placing")))
    run(journal.put(entry(2, "dispensing")))
    run(journal.put(entry(2, "card-issued", "04A1B2C3")))
    run(journal.put(entry(3, "aborting", "04D4E5F6")))
    run(journal.remove(OrderId.make("ord_1")))
    run(journal.remove(OrderId.make("ord_none")))
    const reopened = run(openKioskJournalFile(dir))
    expect(run(reopened.all)).toEqual([entry(2, "card-issued", "04A1B2C3"), entry(3, "aborting", "04D4E5F6")])
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, JOURNAL_FILE)).mode & 0o777).toBe(0o600)
  })

  it("ignores and removes a write torn by a power cut, keeping the last whole journal", () => {
    const dir = freshDir()
    const journal = run(openKioskJournalFile(dir))
    run(journal.put(entry(1, "handed-over")))
    const whole = readFileSync(join(dir, JOURNAL_FILE), "utf8")
    // The next write got as far as part of its temporary file.
    writeFileSync(join(dir, `${JOURNAL_FILE}.tmp`), whole.slice(0, whole.length - 7))
    const reopened = run(openKioskJournalFile(dir))
    expect(run(reopened.all)).toEqual([entry(1, "handed-over")])
    expect(() => statSync(join(dir, `${JOURNAL_FILE}.tmp`))).toThrow()
    run(reopened.remove(OrderId.make("ord_1")))
    expect(run(openKioskJournalFile(dir).pipe(Effect.flatMap((j) => j.all)))).toEqual([])
  })

  it("refuses to start on a journal it did not write, saying what to do", () => {
    const dir = freshDir()
    run(openKioskJournalFile(dir))
    writeFileSync(join(dir, JOURNAL_FILE), '{"version":1,"entries":[{"orderId":"ord_1"')
    const exit = Effect.runSyncExit(openKioskJournalFile(dir))
    expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("move it aside and reconcile its orders by hand")
  })

  it("dies rather than let the flow move on when it cannot write", () => {
    const dir = freshDir()
    const journal = run(openKioskJournalFile(dir))
    run(journal.put(entry(1, "placing")))
    rmSync(dir, { recursive: true, force: true })
    const exit = Effect.runSyncExit(journal.put(entry(2, "placing")))
    expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("cannot write")
    // Memory stays what the disk last held.
    expect(run(journal.all)).toEqual([entry(1, "placing")])
  })
})
