import { Effect, Option } from "effect"
import type { CardUnitError, CardUnitService } from "../../core/ports/card-unit.js"
import { asciiText, BinCounterPm, Cm, decodeStatus, encodeCommand, errorMeaning, type PositiveReply, StatusPm } from "../crt591-codec.js"
import { unitError } from "../crt591-driver.js"
import type { Crt591Link } from "../crt591-link.js"
import { type Check, expectThat, Mismatch, skip } from "./suite.js"

/**
 * The CRT-591 conformance checks, in the order they run. Safe on a real unit: nothing moves a card
 * unless `allowDispense` permits it (each card taken from the stacker counts one), every card the
 * suite takes out is captured or handed over at the gate, and the last check leaves the unit idle
 * with front entry disabled. Faults are provoked only where the host alone can provoke them: bad
 * frames, foreign addresses, undefined commands, RF without a card, a wrong key, a card not taken.
 */

export interface Crt591SuiteOptions {
  /** Cards the suite may take from the stacker (0: no check moves a card). */
  readonly allowDispense: number
  /** How long to wait for someone to take a card presented at the gate. */
  readonly takeTimeoutMs: number
  /** How long to wait for someone to insert a card at the gate (0: do not ask). */
  readonly insertWaitMs: number
  /** The sector and key the RF checks use: a blank card's transport key by default. */
  readonly sector: number
  readonly key: Uint8Array
}

export const defaultCrt591SuiteOptions: Crt591SuiteOptions = {
  allowDispense: 0,
  takeTimeoutMs: 3000,
  insertWaitMs: 0,
  sector: 1,
  key: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
}

const pattern = Uint8Array.from({ length: 16 }, (_, i) => (0xa5 ^ (i * 17)) & 0xff)

export const crt591Checks = (crt: Crt591Link, unit: CardUnitService, options: Crt591SuiteOptions): ReadonlyArray<Check<never>> => {
  const state = { dispensed: 0, ourCard: "none" as "none" | "rf" | "gate", activated: false }
  const address = crt.options.address
  const ackWindowMs = crt.options.ackTimeoutMs * 2

  const needCards = (n: number) =>
    state.dispensed + n > options.allowDispense
      ? skip(`moves cards: run with --allow-dispense ${state.dispensed + n} or more`)
      : Effect.void
  const needOurCardAt = (where: "rf" | "gate", from: string) =>
    state.ourCard === where ? Effect.void : skip(`needs the card from ${from} at the ${where === "rf" ? "RF position" : "gate"}`)

  const dispense = Effect.gen(function* () {
    const before = yield* unit.status
    if (before.position !== "none") return yield* skip(`the unit already holds a card (${before.position}); clear it first`)
    if (before.stacker === "empty") return yield* skip("the stacker is empty; load blank cards")
    if (before.binFull) return yield* skip("the capture bin is full; empty it")
    yield* unit.dispenseToRf
    state.dispensed += 1
    state.ourCard = "rf"
    const after = yield* unit.status
    yield* expectThat(after.position === "rf", `after Move to RF the status says the card is at "${after.position}"`)
    return `card at the RF position; stacker ${after.stacker}`
  })

  /** Sends raw bytes and reports the first thing the unit says within the window. */
  const firstAnswer = (bytes: Uint8Array) =>
    Effect.gen(function* () {
      yield* crt.raw.discard
      yield* crt.raw.write(bytes)
      for (;;) {
        const token = yield* crt.raw.nextToken(ackWindowMs)
        if (Option.isNone(token)) return "silence"
        if (token.value._tag !== "Corrupt") return token.value._tag
      }
    })

  const refusedWith = (expected: string, cm: number, pm: number) =>
    Effect.gen(function* () {
      const reply = yield* crt.exchange(cm, pm, new Uint8Array(0), 2000)
      yield* expectThat(reply._tag === "Negative", "the unit accepted it (positive reply)")
      const code = reply._tag === "Negative" ? reply.code : ""
      yield* expectThat(code === expected, `refused with E${code}, the manual says E${expected}`)
      return `refused with E${code}`
    })

  /**
   * What the unit says to one query before Init: an answer, or B0 "not initialised" (some units refuse
   * everything but Init right after power-on). Any other refusal fails the check with its typed error.
   */
  const beforeInit = (what: string, cm: number, pm: number, describe: (reply: PositiveReply) => Effect.Effect<string, Mismatch>) =>
    Effect.flatMap(crt.exchange(cm, pm, new Uint8Array(0), 2000), (reply): Effect.Effect<string, Mismatch | CardUnitError> =>
      reply._tag === "Positive"
        ? Effect.map(describe(reply), (text) => `${what} ${text}`)
        : reply.code === "B0"
          ? Effect.succeed(`${what} refused with EB0 (${errorMeaning("B0")})`)
          : Effect.fail(unitError(crt.device, reply.code))
    )
  const statusText = (reply: PositiveReply) => {
    const s = decodeStatus(reply.status)
    return "invalid" in s ? Effect.fail(new Mismatch({ detail: s.invalid })) : Effect.succeed(`card ${s.position}, stacker ${s.stacker}, bin ${s.binFull ? "full" : "not full"}`)
  }

  const checks: Array<Check<never>> = [
    {
      id: "status",
      title: "Before Init, status (and the firmware and bin-counter queries) are answered, or refused as not initialised (EB0)",
      run: Effect.gen(function* () {
        const status = yield* beforeInit("status:", Cm.status, StatusPm.basic, statusText)
        const firmware = yield* beforeInit("firmware:", Cm.firmware, 0x30, (r) => Effect.succeed(`"${asciiText(r.data).trim()}"`))
        const bin = yield* beforeInit("bin counter:", Cm.binCounter, BinCounterPm.read, (r) => Effect.succeed(`"${asciiText(r.data).trim()}"`))
        return `before Init, ${status}; ${firmware}; ${bin}`
      })
    },
    {
      id: "init",
      title: "Init (leaving any card where it is) resets the unit and names its firmware",
      run: Effect.map(unit.initialise("leave"), ({ firmware }) => `firmware "${firmware}"`)
    },
    {
      id: "status.after-init",
      title: "After Init, status is answered with status bytes from the manual's table",
      run: Effect.map(unit.status, (s) => `card ${s.position}, stacker ${s.stacker}, bin ${s.binFull ? "full" : "not full"}`)
    },
    {
      id: "firmware",
      title: "Firmware version (A4) is answered",
      run: Effect.flatMap(crt.exchange(Cm.firmware, 0x30, new Uint8Array(0), 2000), (r) =>
        r._tag === "Positive" ? Effect.succeed(`"${asciiText(r.data).trim()}"`) : Effect.fail(new Mismatch({ detail: `refused with E${r.code}` }))
      )
    },
    {
      id: "serial-number",
      title: "Unit serial number (A2) is answered",
      run: Effect.flatMap(crt.exchange(Cm.serialNumber, 0x30, new Uint8Array(0), 2000), (r) =>
        r._tag === "Positive" ? Effect.succeed(`"${asciiText(r.data).trim()}"`) : Effect.fail(new Mismatch({ detail: `refused with E${r.code}` }))
      )
    },
    { id: "bin-counter", title: "Capture-bin counter (A5) reads", run: Effect.map(unit.binCount, (n) => `${n} cards counted`) },
    {
      id: "line.bad-bcc",
      title: "A frame with a bad BCC is NAKed",
      run: Effect.gen(function* () {
        const frame = encodeCommand({ address, cm: Cm.status, pm: StatusPm.basic, data: new Uint8Array(0) })
        frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 0xff
        const answer = yield* firstAnswer(frame)
        yield* crt.raw.discard
        yield* expectThat(answer === "Nak", `answered a bad frame with ${answer}, not NAK`)
        return "NAK"
      })
    },
    {
      id: "line.noise",
      title: "Line noise and a cut-short frame before a command are skipped",
      run: Effect.gen(function* () {
        const good = encodeCommand({ address, cm: Cm.status, pm: StatusPm.basic, data: new Uint8Array(0) })
        yield* crt.raw.write(Uint8Array.of(0x00, 0x55, 0xaa, 0x03, ...good.subarray(0, 5)))
        yield* Effect.sleep(crt.options.interByteTimeoutMs * 4)
        const before = crt.stats().retransmits
        yield* unit.status
        return `the next command was answered (${crt.stats().retransmits - before} retransmissions)`
      })
    },
    {
      id: "line.other-address",
      title: "A frame for another address is ignored",
      run: Effect.gen(function* () {
        const other = (address + 1) & 0x0f
        const answer = yield* firstAnswer(encodeCommand({ address: other, cm: Cm.status, pm: StatusPm.basic, data: new Uint8Array(0) }))
        yield* expectThat(answer === "silence", `a frame for address ${other} was answered with ${answer} (another unit on the bus at that address answers too)`)
        return `silence for ${ackWindowMs} ms`
      })
    },
    { id: "refuse.undefined", title: "An undefined command is refused with E00", run: refusedWith("00", 0x7e, 0x30) },
    { id: "refuse.parameter", title: "A bad parameter is refused with E01", run: refusedWith("01", Cm.status, 0x3f) },
    {
      id: "refuse.rf-no-card",
      title: "RF activate with no card at the RF position fails as no card",
      run: Effect.gen(function* () {
        const s = yield* unit.status
        if (s.position !== "none") return yield* skip(`a card is in the unit (${s.position})`)
        const error = yield* Effect.flip(unit.activate)
        yield* expectThat(error._tag === "RfFailure" && error.reason === "no-card", `failed with ${error._tag}: ${error.message}`)
        return "RfFailure no-card"
      })
    },
    {
      id: "front-entry",
      title: "Front entry enables and disables; a card inserted at the gate reaches the RF position",
      timeoutMs: options.insertWaitMs + options.takeTimeoutMs + 10_000,
      run: Effect.gen(function* () {
        yield* unit.setFrontEntry(true)
        if (options.insertWaitMs <= 0) {
          yield* unit.setFrontEntry(false)
          return "enabled and disabled (run with --insert-wait-ms to test a card inserted by hand)"
        }
        const inserted = yield* unit.awaitInserted(options.insertWaitMs)
        yield* unit.setFrontEntry(false)
        yield* expectThat(inserted, `no card reached the RF position within ${options.insertWaitMs} ms`)
        const card = yield* unit.activate
        // Not ours: hand it back rather than capture someone's card, and give them time to take it.
        yield* unit.presentAtGate
        const taken = yield* Effect.either(unit.awaitTaken(options.takeTimeoutMs))
        return `card ${card.uid} read and handed back at the gate${taken._tag === "Right" ? ", and taken" : "; it is still there: take it"}`
      })
    },
    { id: "card.dispense", title: "Move to RF takes a card from the stacker", run: Effect.zipRight(needCards(1), dispense) },
    {
      id: "rf.activate",
      title: "RF activate reads the card's UID",
      run: Effect.gen(function* () {
        yield* needOurCardAt("rf", "card.dispense")
        const card = yield* unit.activate
        state.activated = true
        return `UID ${card.uid} (${card.protocol}, ATQA ${card.atqa.toString(16).padStart(4, "0")}, SAK ${card.sak.toString(16).padStart(2, "0")})`
      })
    },
    {
      id: "rf.authenticate",
      title: `Sector ${options.sector} authenticates with its key A`,
      run: Effect.gen(function* () {
        yield* needOurCardAt("rf", "card.dispense")
        if (!state.activated) return yield* skip("needs rf.activate")
        yield* unit.authenticate(options.sector, "A", options.key)
        return `sector ${options.sector}`
      })
    },
    {
      id: "rf.write-read",
      title: "A block written reads back the same",
      run: Effect.gen(function* () {
        yield* needOurCardAt("rf", "card.dispense")
        if (!state.activated) return yield* skip("needs rf.activate")
        yield* unit.writeBlock(options.sector, 0, pattern)
        const back = yield* unit.readBlock(options.sector, 0)
        yield* expectThat(back.every((b, i) => b === pattern[i]) && back.length === pattern.length, "the block read back differs from what was written")
        return `sector ${options.sector} block 0, 16 bytes`
      })
    },
    {
      id: "rf.wrong-key",
      title: "A wrong key is refused, and the sector then cannot be read",
      run: Effect.gen(function* () {
        yield* needOurCardAt("rf", "card.dispense")
        if (!state.activated) return yield* skip("needs rf.activate")
        const wrong = options.key.map((b) => b ^ 0x5a)
        const authError = yield* Effect.flip(unit.authenticate(options.sector, "A", wrong))
        yield* expectThat(authError._tag === "RfFailure" && authError.reason === "auth", `wrong key gave ${authError._tag}: ${authError.message}`)
        // A real card halts after a failed authentication: wake it before the read.
        yield* unit.activate
        const readError = yield* Effect.flip(unit.readBlock(options.sector, 0))
        yield* expectThat(readError._tag === "RfFailure", `unauthenticated read gave ${readError._tag}`)
        return "RfFailure auth, then the read is refused"
      })
    },
    {
      id: "card.present",
      title: "Move to gate presents the card",
      run: Effect.gen(function* () {
        yield* needOurCardAt("rf", "card.dispense")
        yield* unit.presentAtGate
        state.ourCard = "gate"
        const s = yield* unit.status
        yield* expectThat(s.position === "gate", `after Move to gate the status says "${s.position}"`)
        return "card at the gate"
      })
    },
    {
      id: "card.await-taken",
      title: "Waiting for the card to be taken ends in taken or CardNotTaken",
      timeoutMs: options.takeTimeoutMs + 10_000,
      run: Effect.gen(function* () {
        yield* needOurCardAt("gate", "card.present")
        const exit = yield* Effect.either(unit.awaitTaken(options.takeTimeoutMs))
        if (exit._tag === "Right") {
          state.ourCard = "none"
          return "the card was taken"
        }
        yield* expectThat(exit.left._tag === "CardNotTaken", `failed with ${exit.left._tag}: ${exit.left.message}`)
        const s = yield* unit.status
        yield* expectThat(s.position === "gate", `CardNotTaken, but the status says "${s.position}"`)
        return `not taken within ${options.takeTimeoutMs} ms: CardNotTaken, card still at the gate`
      })
    },
    {
      id: "card.capture-gate",
      title: "A card left at the gate is captured to the bin and counted",
      run: Effect.gen(function* () {
        if (state.ourCard !== "gate") return yield* skip("no card of the suite's at the gate (it was taken, or never presented)")
        const before = yield* unit.binCount
        yield* unit.capture
        state.ourCard = "none"
        const after = yield* unit.binCount
        yield* expectThat(after === before + 1, `the bin counter went from ${before} to ${after}`)
        return `bin counter ${before} -> ${after}`
      })
    },
    {
      id: "card.capture-rf",
      title: "A card at the RF position is captured to the bin and counted",
      run: Effect.gen(function* () {
        yield* needCards(1)
        yield* dispense
        const before = yield* unit.binCount
        yield* unit.capture
        state.ourCard = "none"
        const after = yield* unit.binCount
        yield* expectThat(after === before + 1, `the bin counter went from ${before} to ${after}`)
        const s = yield* unit.status
        yield* expectThat(s.position === "none", `after capture the status says "${s.position}"`)
        return `bin counter ${before} -> ${after}`
      })
    },
    {
      id: "idle",
      title: "The unit is left idle: no card of the suite's inside, front entry disabled",
      run: Effect.gen(function* () {
        if (state.ourCard !== "none") {
          yield* unit.capture
          state.ourCard = "none"
        }
        yield* unit.setFrontEntry(false)
        const s = yield* unit.status
        yield* expectThat(s.position === "none", `a card is still in the unit at "${s.position}" (not one the suite dispensed)`)
        return `${state.dispensed} card(s) dispensed in all; unit idle`
      })
    }
  ]
  return checks
}
