import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Crt591Emulator, type Crt591EmulatorOptions } from "../crt591-emulator.js"
import { EscPosEmulator, type EscPosEmulatorOptions } from "../escpos-emulator.js"
import { openPtyPair, ptyPair } from "../pty.js"
import { junitXml } from "./report.js"
import { runCrt591Bench, runEscPosBench } from "./run.js"
import { counts, type SuiteReport } from "./suite.js"
import { socatAvailable } from "../testing/socat.js"

/**
 * The bench suites against the emulators through socat ptys, as a bench engineer runs them: every
 * check passes or skips for the right reason, card checks run only when allowed, the unit is left
 * idle, and a unit that misbehaves (or is not there) fails the suite.
 */

const verdicts = (report: SuiteReport) => Object.fromEntries(report.results.map((r) => [r.id, r.verdict]))
const fastDevice = { initMs: 20, moveMs: 40, rfMs: 2 }

const crt591OnPty = (emulator: Partial<Crt591EmulatorOptions>) =>
  Effect.gen(function* () {
    const pair = yield* ptyPair()
    const opened = yield* Effect.acquireRelease(
      Effect.promise(() => Crt591Emulator.open(pair.pathB, { ...emulator, device: { ...fastDevice, ...emulator.device } })),
      (o) => Effect.promise(() => o.close())
    )
    return { path: pair.pathA, emulator: opened.emulator }
  })

describe.skipIf(!socatAvailable)("CRT-591 bench suite against the emulator over a pty", () => {
  it.scopedLive("moves no card without --allow-dispense, and passes every other check", () =>
    Effect.gen(function* () {
      const { path, emulator } = yield* crt591OnPty({ wireTiming: true })
      const report = yield* runCrt591Bench({ path }, { takeTimeoutMs: 300 })
      const v = verdicts(report)
      expect(report.results.filter((r) => r.verdict === "FAIL")).toEqual([])
      for (const id of ["card.dispense", "rf.activate", "rf.write-read", "card.present", "card.capture-rf"]) expect(v[id], id).toBe("SKIP")
      expect(report.results.find((r) => r.id === "card.dispense")?.detail).toContain("--allow-dispense 1")
      expect(report.results.find((r) => r.id === "status")?.detail).toBe('before Init, status: card none, stacker ok, bin not full; firmware: "CRT-591-EMU V1.00"; bin counter: "000"')
      expect(v["line.bad-bcc"]).toBe("PASS")
      expect(v["refuse.undefined"]).toBe("PASS")
      expect(emulator.device.stackerCards).toBe(50)
      expect(emulator.device.position).toBe("none")
    })
  )

  it.scopedLive("with --allow-dispense 2 runs the card checks, captures what it dispensed, and leaves the unit idle", () =>
    Effect.gen(function* () {
      const { path, emulator } = yield* crt591OnPty({ wireTiming: false, userTakesAfterMs: null })
      const report = yield* runCrt591Bench({ path }, { allowDispense: 2, takeTimeoutMs: 300 })
      expect(report.results.filter((r) => r.verdict !== "PASS").map((r) => `${r.id} ${r.verdict} ${r.detail}`)).toEqual([])
      expect(report.results.find((r) => r.id === "card.await-taken")?.detail).toContain("CardNotTaken")
      expect(emulator.device.stackerCards).toBe(48)
      expect(emulator.device.binCards).toBe(2)
      expect(emulator.device.position).toBe("none")
      expect(emulator.device.frontEntry).toBe(false)
    })
  )

  it.scopedLive("passes against a unit that refuses everything but Init right after power-on, and says what it answered", () =>
    Effect.gen(function* () {
      const { path, emulator } = yield* crt591OnPty({ wireTiming: false, userTakesAfterMs: null, device: { refusesBeforeInit: true } })
      const report = yield* runCrt591Bench({ path }, { allowDispense: 2, takeTimeoutMs: 300 })
      expect(report.results.filter((r) => r.verdict !== "PASS").map((r) => `${r.id} ${r.verdict} ${r.detail}`)).toEqual([])
      expect(report.results.find((r) => r.id === "status")?.detail).toBe(
        "before Init, status: refused with EB0 (not initialised (send Init first)); firmware: refused with EB0 (not initialised (send Init first)); bin counter: refused with EB0 (not initialised (send Init first))"
      )
      expect(report.results.find((r) => r.id === "status.after-init")?.detail).toBe("card none, stacker ok, bin not full")
      expect([emulator.device.stackerCards, emulator.device.binCards, emulator.device.position]).toEqual([48, 2, "none"])
    })
  )

  it.scopedLive("sees a card taken at the gate, and a card inserted by hand through front entry", () =>
    Effect.gen(function* () {
      const { path, emulator } = yield* crt591OnPty({ wireTiming: false, userTakesAfterMs: 50 })
      // The "person at the bench": inserts a card as soon as front entry is enabled.
      const hand = setInterval(() => {
        if (emulator.device.frontEntry && emulator.device.position === "none") emulator.insertCard()
      }, 10)
      yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(hand)))
      const report = yield* runCrt591Bench({ path }, { allowDispense: 2, takeTimeoutMs: 1000, insertWaitMs: 2000 })
      clearInterval(hand)
      const v = verdicts(report)
      expect(v["front-entry"]).toBe("PASS")
      expect(report.results.find((r) => r.id === "front-entry")?.detail).toMatch(/card [0-9A-F]+ read and handed back/)
      expect(report.results.find((r) => r.id === "card.await-taken")?.detail).toBe("the card was taken")
      expect(v["card.capture-gate"]).toBe("SKIP")
      expect(report.results.filter((r) => r.verdict === "FAIL")).toEqual([])
    })
  )

  it.scopedLive("fails, with reasons, against a unit that misbehaves", () =>
    Effect.gen(function* () {
      const { path } = yield* crt591OnPty({ wireTiming: false, faults: [{ kind: "bin-full", at: 1 }, { kind: "sensor", at: 1 }] })
      const report = yield* runCrt591Bench({ path }, { allowDispense: 1 })
      const v = verdicts(report)
      expect(v.status).toBe("FAIL")
      expect(report.results.find((r) => r.id === "status")?.detail).toContain("SensorFault")
      expect(v["card.dispense"]).toBe("SKIP")
      expect(report.results.find((r) => r.id === "card.dispense")?.detail).toContain("bin is full")
    })
  )

  it.scopedLive("fails every check that needs the unit when nothing answers, quickly", () =>
    Effect.gen(function* () {
      const pair = yield* ptyPair()
      const report = yield* runCrt591Bench({ path: pair.pathA, link: { ackTimeoutMs: 30, retransmitsMax: 1 } })
      const { passed, failed } = counts(report)
      expect(passed).toBe(1) // "line.other-address": silence is the right answer to a foreign frame
      expect(failed).toBeGreaterThan(8)
      expect(report.results[0]?.detail).toContain("LinkTimeout")
    })
  )

  it.effect("reports a port that will not open as one FAIL, and writes JUnit XML", () =>
    Effect.gen(function* () {
      const report = yield* runCrt591Bench({ path: "/dev/ecoupon-no-such-port" })
      expect(report.results).toHaveLength(1)
      expect(report.results[0]).toMatchObject({ id: "port.open", verdict: "FAIL" })
      const xml = junitXml({ ...report, results: [...report.results, { id: "x", title: "a <b> & 'c'", verdict: "SKIP", detail: "why\u0001", durationMs: 1 }] })
      expect(xml).toContain(`<testsuite name="crt591" hostname="/dev/ecoupon-no-such-port" tests="2" failures="1" errors="0" skipped="1"`)
      expect(xml).toContain(`name="x: a &lt;b&gt; &amp; &apos;c&apos;"`)
      expect(xml).toContain(`<skipped message="why?"/>`)
      expect(xml.match(/<testcase /g)).toHaveLength(2)
    })
  )
})

describe.skipIf(!socatAvailable)("ESC/POS bench suite against the emulator over a pty", () => {
  const escposOnPty = (options: Partial<EscPosEmulatorOptions>) =>
    Effect.gen(function* () {
      const pair = yield* Effect.acquireRelease(Effect.promise(() => openPtyPair()), (p) => Effect.promise(() => p.close()))
      const opened = yield* Effect.acquireRelease(Effect.promise(() => EscPosEmulator.open(pair.pathB, options)), (o) => Effect.promise(() => o.close()))
      return { path: pair.pathA, emulator: opened.emulator }
    })

  it.scopedLive("passes on a ready printer and prints one test coupon when allowed", () =>
    Effect.gen(function* () {
      const { path, emulator } = yield* escposOnPty({ wireTiming: true })
      const report = yield* runEscPosBench({ path }, { allowDispense: 1 })
      expect(report.results.map((r) => `${r.id} ${r.verdict}`)).toEqual(["status.answers PASS", "status.ready PASS", "print.coupon PASS", "status.after PASS"])
      expect(emulator.pages).toHaveLength(1)
      expect(emulator.pages[0]?.qr).toEqual(["TEST-0000-0000"])
    })
  )

  it.scopedLive("prints nothing without --allow-dispense, fails on a cover left open and on a silent printer", () =>
    Effect.gen(function* () {
      const ready = yield* escposOnPty({ wireTiming: false })
      const skipped = yield* runEscPosBench({ path: ready.path }, { allowDispense: 0 })
      expect(verdicts(skipped)["print.coupon"]).toBe("SKIP")
      expect(ready.emulator.pages).toHaveLength(0)

      const open = yield* escposOnPty({ wireTiming: false, faults: ["cover-open"] })
      const report = yield* runEscPosBench({ path: open.path }, { allowDispense: 1 })
      expect(verdicts(report)).toMatchObject({ "status.answers": "PASS", "status.ready": "FAIL", "print.coupon": "FAIL" })
      expect(report.results.find((r) => r.id === "status.ready")?.detail).toContain("cover is open")

      const silent = yield* escposOnPty({ wireTiming: false, faults: ["silent"] })
      const dead = yield* runEscPosBench({ path: silent.path }, { allowDispense: 1 })
      expect(counts(dead).passed).toBe(0)
      expect(dead.results[0]?.detail).toContain("no answer to DLE EOT 1")
    })
  )
})
