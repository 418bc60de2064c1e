import { Command, Options } from "@effect/cli"
import { integerOption } from "./option-values.js"
import { appendFile } from "node:fs/promises"
import { createInterface } from "node:readline"
import { Console, Effect } from "effect"
import { describeFaults, type FaultKind, faultKinds, parseFaults } from "../../hil/crt591-faults.js"
import { parsePrinterFaults, type PrinterFaultKind, printerFaultKinds } from "../../hil/escpos-faults.js"

/**
 * `ecoupon emulate crt591|escpos --port PATH`: stands in for a card unit or a printer on a serial
 * port (usually one end of a socat pty pair) until Ctrl-C. Lines typed on stdin act on the emulated
 * device: a person inserting or taking a card, a fault arriving. Exit status 1 on bad options.
 */

const port = Options.text("port").pipe(Options.withDescription("Serial port to answer on: one end of a socat pty pair, or a real port wired to the host"))
const baud = integerOption("baud").pipe(Options.withDefault(9600), Options.withDescription("Baud rate (8N1); also sets the emulated wire time"))
const noWireTiming = Options.boolean("no-wire-timing").pipe(Options.withDescription("Answer as fast as possible instead of at the baud rate's pace"))

// The emulators load serialport's native binding: imported when the command runs (see hil-command.ts).
const loadCrt591 = () => import("../../hil/crt591-emulator.js")
const loadEscPos = () => import("../../hil/escpos-emulator.js")

const usageError = (message: string) => Effect.zipRight(Console.error(`ecoupon emulate: ${message}`), Effect.sync(() => void (process.exitCode = 1)))

const stamp = () => new Date().toISOString().slice(11, 23)
const logger = (name: string) => (line: string) => console.log(`${stamp()} ${name}: ${line}`)

/** Reads stdin lines until the scope closes; each line goes to `handle`. */
const stdinConsole = (handle: (words: ReadonlyArray<string>) => string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const rl = createInterface({ input: process.stdin, terminal: false })
      rl.on("line", (line) => {
        const words = line.trim().split(/\s+/).filter((w) => w.length > 0)
        if (words.length > 0) console.log(handle(words))
      })
      return rl
    }),
    (rl) => Effect.sync(() => rl.close())
  )

/** Opens the emulator, keeps it until interrupted, closes the port on the way out. */
const serve = <E extends { readonly close: () => Promise<void> }>(open: () => Promise<E>, path: string, describe: string) =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: open, catch: (error) => new Error(`cannot open ${path}: ${error instanceof Error ? error.message : String(error)}`) }),
    (opened) => Effect.promise(() => opened.close())
  ).pipe(Effect.tap(() => Console.log(`${describe} on ${path}; type "help" for commands, Ctrl-C to stop`)))

const crt591 = Command.make(
  "crt591",
  {
    port,
    baud,
    noWireTiming,
    faults: Options.text("faults").pipe(Options.withDefault(""), Options.withDescription(`Faults to stage, comma-separated kind or kind@N:\n${describeFaults()}`)),
    address: integerOption("address").pipe(Options.withDefault(0), Options.withDescription("Address the unit answers to, 0-15")),
    stacker: integerOption("stacker").pipe(Options.withDefault(50), Options.withDescription("Blank cards in the stacker")),
    binCapacity: integerOption("bin-capacity").pipe(Options.withDefault(100), Options.withDescription("Cards the capture bin holds")),
    moveMs: integerOption("move-ms").pipe(Options.withDefault(400), Options.withDescription("Mechanical time of one card move")),
    initMs: integerOption("init-ms").pipe(Options.withDefault(800), Options.withDescription("Mechanical time of Init")),
    takeAfterMs: integerOption("take-after-ms").pipe(Options.withDefault(2000), Options.withDescription("The simulated user takes a presented card after this long")),
    seed: integerOption("seed").pipe(Options.withDefault(1), Options.withDescription("Seeds the UIDs of the blank cards")),
    refuseBeforeInit: Options.boolean("refuse-before-init").pipe(
      Options.withDescription("Answer every command but Init with B0 (not initialised) until the first Init, as some units do right after power-on")
    ),
    trace: Options.boolean("trace").pipe(Options.withDescription("Log every command and reply"))
  },
  (o) => {
    const parsed = parseFaults(o.faults)
    if ("error" in parsed) return usageError(parsed.error)
    if (o.address < 0 || o.address > 15) return usageError(`--address ${o.address}: a CRT-591 address is 0-15`)
    if ([o.baud, o.stacker, o.binCapacity, o.moveMs, o.initMs, o.takeAfterMs].some((n) => n < 0) || o.baud === 0) {
      return usageError("counts, rates and times must not be negative")
    }
    const log = logger("crt591")
    return Effect.scoped(
      Effect.gen(function* () {
        const { emulator } = yield* serve(
          async () =>
            (await loadCrt591()).Crt591Emulator.open(o.port, {
              address: o.address,
              line: { baudRate: o.baud, dataBits: 8, parity: "none", stopBits: 1, rtscts: false },
              wireTiming: !o.noWireTiming,
              userTakesAfterMs: o.takeAfterMs,
              faults: parsed.faults,
              device: { stackerCards: o.stacker, binCapacity: o.binCapacity, moveMs: o.moveMs, initMs: o.initMs, uidSeed: o.seed, refusesBeforeInit: o.refuseBeforeInit },
              log,
              trace: o.trace
            }),
          o.port,
          `CRT-591 emulator (address ${o.address}, ${o.stacker} cards${o.refuseBeforeInit ? ", refusing all but Init until initialised" : ""}${parsed.faults.length > 0 ? `, faults ${o.faults}` : ""})`
        )
        const state = () => {
          const d = emulator.device
          return `card ${d.position}${d.card ? ` (${d.card.uidHex})` : ""}, stacker ${d.stackerCards}, bin ${d.binCards}/${d.config.binCapacity}, front entry ${d.frontEntry ? "on" : "off"}, ${d.initialised ? "initialised" : "not initialised"}${d.jammed ? ", JAMMED" : ""}`
        }
        yield* stdinConsole(([verb, arg]) => {
          switch (verb) {
            case "insert":
              return emulator.insertCard() ? "card inserted at the gate" : "refused: front entry is off or the unit holds a card"
            case "take": {
              const card = emulator.takeCard()
              return card ? `took card ${card.uidHex}` : "no card at the gate"
            }
            case "state":
              return state()
            case "fault":
              if (arg === undefined || !Object.hasOwn(faultKinds, arg)) return `fault KIND, where KIND is one of: ${Object.keys(faultKinds).join(", ")}`
              emulator.arm(arg as FaultKind)
              return `armed ${arg}, from the next command`
            case "clear":
              if (arg === undefined || !Object.hasOwn(faultKinds, arg)) return "clear KIND"
              emulator.disarm(arg as FaultKind)
              return `cleared ${arg}`
            default:
              return "commands: insert | take | state | fault KIND | clear KIND"
          }
        })
        return yield* Effect.never
      })
    ).pipe(Effect.catchAll((error) => usageError(error.message)))
  }
).pipe(Command.withDescription("Stand in for a CRT-591 card unit on --port until Ctrl-C"))

const escpos = Command.make(
  "escpos",
  {
    port,
    baud,
    noWireTiming,
    faults: Options.text("faults").pipe(
      Options.withDefault(""),
      Options.withDescription(`Faults to stage, comma-separated: ${Object.keys(printerFaultKinds).join(", ")}`)
    ),
    paperLines: integerOption("paper-lines").pipe(Options.withDefault(5000), Options.withDescription("Roll length in text lines")),
    pagesFile: Options.file("pages").pipe(Options.optional, Options.withDescription("Append every printed page to this file as one JSON line"))
  },
  (o) => {
    const parsed = parsePrinterFaults(o.faults)
    if ("error" in parsed) return usageError(parsed.error)
    if (o.baud <= 0 || o.paperLines < 0) return usageError("rates and lengths must be positive")
    const log = logger("escpos")
    const pagesFile = o.pagesFile._tag === "Some" ? o.pagesFile.value : undefined
    return Effect.scoped(
      Effect.gen(function* () {
        const { emulator } = yield* serve(
          async () =>
            (await loadEscPos()).EscPosEmulator.open(o.port, {
              line: { baudRate: o.baud, dataBits: 8, parity: "none", stopBits: 1, rtscts: false },
              wireTiming: !o.noWireTiming,
              printer: { paperLines: o.paperLines },
              faults: parsed.faults,
              log,
              onPage: (page) => {
                log(`page ${page.cut} cut${page.interrupted ? " (INTERRUPTED)" : ""}: ${page.lines.length} lines, QR ${JSON.stringify(page.qr)}`)
                for (const line of page.lines) log(`  | ${line}`)
                if (pagesFile !== undefined) {
                  appendFile(pagesFile, `${JSON.stringify(page)}\n`).catch((error: unknown) => log(`cannot write ${pagesFile}: ${String(error)}`))
                }
              }
            }),
          o.port,
          `ESC/POS printer emulator (${o.paperLines} lines of paper${parsed.faults.length > 0 ? `, faults ${o.faults}` : ""})`
        )
        yield* stdinConsole(([verb, arg]) => {
          const p = emulator.printer
          switch (verb) {
            case "state":
              return `paper ${p.paperLines} lines, ${p.canPrint ? "ready" : "NOT READY"}: ${JSON.stringify(p.flags())}, ${emulator.pages.length} pages printed`
            case "fault":
              if (arg === undefined || !Object.hasOwn(printerFaultKinds, arg)) return `fault KIND, where KIND is one of: ${Object.keys(printerFaultKinds).join(", ")}`
              emulator.arm(arg as PrinterFaultKind)
              return `armed ${arg}`
            case "recover":
              emulator.recover()
              return "faults cleared, new roll loaded"
            default:
              return "commands: state | fault KIND | recover"
          }
        })
        return yield* Effect.never
      })
    ).pipe(Effect.catchAll((error) => usageError(error.message)))
  }
).pipe(Command.withDescription("Stand in for an ESC/POS receipt printer on --port until Ctrl-C; prints what it printed"))

/** `ecoupon emulate crt591|escpos`. */
export const emulateCommand = Command.make("emulate" as string).pipe(
  Command.withDescription("Wire-level emulators of the kiosk's card unit and printer, for a bench with no hardware"),
  Command.withSubcommands([crt591, escpos])
)
