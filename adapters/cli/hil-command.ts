import { Command, Options } from "@effect/cli"
import { integerOption } from "./option-values.js"
import { FileSystem } from "@effect/platform"
import { Console, Effect, Option } from "effect"
import { formatResult, formatSummary, junitXml } from "../../hil/conformance/report.js"
import { counts, type CheckResult, type SuiteReport } from "../../hil/conformance/suite.js"

// The serial modules load serialport's native binding: imported when a command runs, so that
// every other command starts without it (and still works where no prebuilt binding exists).
const bench = Effect.promise(() => import("../../hil/conformance/run.js"))
const portList = Effect.promise(() => import("../../hil/serial-ports.js"))

/**
 * `ecoupon hil crt591|escpos --port PATH`: the bench conformance suite against whatever is on the
 * port (a real unit, or `ecoupon emulate ...` on the other end of a pty); `ecoupon hil ports`.
 * Exit status 1 when a check fails or the options are wrong.
 */

const port = Options.text("port").pipe(Options.withDescription("Serial port of the device: /dev/ttyUSB0, COM3, or one end of a socat pty pair"))
const baud = integerOption("baud").pipe(Options.withDefault(9600), Options.withDescription("Baud rate (8N1, no flow control)"))
const allowDispense = integerOption("allow-dispense").pipe(
  Options.withDefault(0),
  Options.withDescription("Cards (crt591) or pages (escpos) the suite may use; checks that need more are skipped")
)
const junit = Options.file("junit").pipe(Options.optional, Options.withDescription("Also write the results as JUnit XML to this file"))

const usageError = (message: string) => Effect.zipRight(Console.error(`ecoupon hil: ${message}`), Effect.sync(() => void (process.exitCode = 1)))

const printResult = (r: CheckResult) => Console.log(formatResult(r))

const finish = (report: SuiteReport, junitPath: Option.Option<string>) =>
  Effect.gen(function* () {
    yield* Console.log(formatSummary(report))
    if (Option.isSome(junitPath)) {
      const fs = yield* FileSystem.FileSystem
      yield* fs.writeFileString(junitPath.value, junitXml(report)).pipe(
        Effect.zipRight(Console.log(`JUnit XML written to ${junitPath.value}`)),
        Effect.catchAll((error) => usageError(`cannot write ${junitPath.value}: ${error.message}`))
      )
    }
    if (counts(report).failed > 0) process.exitCode = 1
  })

const crt591 = Command.make(
  "crt591",
  {
    port,
    baud,
    allowDispense,
    junit,
    address: integerOption("address").pipe(Options.withDefault(0), Options.withDescription("Unit address set on its DIP switches, 0-15")),
    takeTimeoutMs: integerOption("take-timeout-ms").pipe(Options.withDefault(3000), Options.withDescription("How long to wait for a presented card to be taken")),
    insertWaitMs: integerOption("insert-wait-ms").pipe(
      Options.withDefault(0),
      Options.withDescription("Wait this long for a card inserted by hand at the gate (0: skip that part)")
    )
  },
  (o) => {
    if (o.address < 0 || o.address > 15) return usageError(`--address ${o.address}: a CRT-591 address is 0-15 (its DIP switches)`)
    if (o.allowDispense < 0 || o.baud <= 0 || o.takeTimeoutMs < 0 || o.insertWaitMs < 0) return usageError("counts, rates and times must not be negative")
    return Effect.gen(function* () {
      yield* Console.log(`CRT-591 conformance on ${o.port}, ${o.baud} 8N1, address ${o.address}; may dispense ${o.allowDispense} card(s)`)
      if (o.insertWaitMs > 0) yield* Console.log(`When front entry is enabled, insert a card at the gate within ${o.insertWaitMs} ms.`)
      const { runCrt591Bench } = yield* bench
      const report = yield* runCrt591Bench(
        { path: o.port, line: { baudRate: o.baud }, address: o.address, onResult: printResult },
        { allowDispense: o.allowDispense, takeTimeoutMs: o.takeTimeoutMs, insertWaitMs: o.insertWaitMs }
      )
      yield* finish(report, o.junit)
    })
  }
).pipe(Command.withDescription("Run the CRT-591 card unit conformance suite against the device on --port"))

const rtscts = Options.boolean("rtscts").pipe(Options.withDescription("Hardware (RTS/CTS) flow control, for printers set up to use it"))

const escpos = Command.make("escpos", { port, baud, allowDispense, junit, rtscts }, (o) => {
  if (o.allowDispense < 0 || o.baud <= 0) return usageError("counts and rates must not be negative")
  return Effect.gen(function* () {
    yield* Console.log(`ESC/POS conformance on ${o.port}, ${o.baud} 8N1${o.rtscts ? " RTS/CTS" : ""}; may print ${o.allowDispense} page(s)`)
    const { runEscPosBench } = yield* bench
    const report = yield* runEscPosBench({ path: o.port, line: { baudRate: o.baud, rtscts: o.rtscts }, onResult: printResult }, { allowDispense: o.allowDispense })
    yield* finish(report, o.junit)
  })
}).pipe(Command.withDescription("Run the ESC/POS printer conformance suite against the printer on --port"))

const ports = Command.make("ports", {}, () =>
  Effect.gen(function* () {
    const { listPorts } = yield* portList
    const listing = yield* Effect.promise(listPorts)
    if (listing._tag === "Enumerated") {
      if (listing.ports.length === 0) return yield* Console.log("no serial ports found")
      for (const p of listing.ports) yield* Console.log(`${p.path}${p.description ? `  ${p.description}` : ""}`)
      return
    }
    yield* Console.log(`cannot list serial ports: ${listing.reason}.`)
    if (listing.deviceNodes.length > 0) {
      yield* Console.log("Device nodes with serial-port names (present, not verified to have hardware behind them):")
      for (const node of listing.deviceNodes) yield* Console.log(`  ${node}`)
    }
    yield* Console.log("Pass the port explicitly with --port (a USB adapter is usually /dev/ttyUSB0 or /dev/ttyACM0).")
  })
).pipe(Command.withDescription("List serial ports (or say why they cannot be listed here)"))

/** `ecoupon hil crt591|escpos|ports`. */
export const hilCommand = Command.make("hil" as string).pipe(
  Command.withDescription("Hardware in the loop: conformance suites for a real card unit or printer, and the port list"),
  Command.withSubcommands([crt591, escpos, ports])
)
