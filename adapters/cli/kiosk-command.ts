import { Command, Options } from "@effect/cli"
import { integerOption } from "./option-values.js"
import { Config, Console, Context, Effect, Layer, Option, Redacted } from "effect"
import { KioskAgent } from "../kiosk-agent/kiosk-agent.js"
import { type CardUnitChoice, kioskRuntimeLayer, type PrinterChoice, SIM_STACKER_CARDS_DEFAULT } from "./kiosk-runtime.js"

/**
 * `ecoupon kiosk`: the kiosk agent on a kiosk PC (adapters/kiosk-agent/README.md has the installer's
 * guide). Every option also comes from the environment, so a service unit can carry them. Runs until
 * SIGINT or SIGTERM; a bad option is one line on stderr naming it, exit status 2; a start that fails
 * (a serial port that will not open, a state directory it cannot use) is one line, exit status 1.
 */

const server = Options.text("server").pipe(
  Options.withDescription("The management server's URL, e.g. https://ecoupon.example.org (default: $ECOUPON_SERVER_URL)"),
  Options.withFallbackConfig(Config.string("ECOUPON_SERVER_URL"))
)
const kioskKey = Options.redacted("kiosk-key").pipe(
  Options.withDescription("The kiosk's key as an operator issued it, ek_... (default: $ECOUPON_KIOSK_KEY; prefer the environment, a command line is visible to every user)"),
  Options.withFallbackConfig(Config.redacted("ECOUPON_KIOSK_KEY"))
)
const cardUnit = Options.text("card-unit").pipe(
  Options.withDescription("The card unit: sim (simulated, kept in the state directory), or crt591:PATH for a CRT-591 on a serial port, e.g. crt591:/dev/serial/by-id/usb-FTDI_...-if00-port0 (default: $ECOUPON_CARD_UNIT, else sim)"),
  Options.withFallbackConfig(Config.string("ECOUPON_CARD_UNIT")),
  Options.withDefault("sim")
)
const cardUnitAddress = integerOption("card-unit-address").pipe(
  Options.withDescription("The CRT-591's address, 0-15, as set on its DIP switches (default: $ECOUPON_CARD_UNIT_ADDRESS, else 0)"),
  Options.withFallbackConfig(Config.integer("ECOUPON_CARD_UNIT_ADDRESS")),
  Options.withDefault(0)
)
const printer = Options.text("printer").pipe(
  Options.withDescription("The receipt printer: sim, or escpos:PATH for an ESC/POS printer on a serial port (default: $ECOUPON_PRINTER, else sim)"),
  Options.withFallbackConfig(Config.string("ECOUPON_PRINTER")),
  Options.withDefault("sim")
)
const state = Options.text("state").pipe(
  Options.withDescription("The state directory: the journal of orders in flight (and a sim card unit). One per kiosk, never shared (default: $ECOUPON_STATE_DIR, else ./ecoupon-kiosk-state)"),
  Options.withFallbackConfig(Config.string("ECOUPON_STATE_DIR")),
  Options.withDefault("ecoupon-kiosk-state")
)
const uiPort = integerOption("ui-port").pipe(
  Options.withDescription("The touchscreen's port on 127.0.0.1; 0 lets the system choose (default: $ECOUPON_UI_PORT, else 8081)"),
  Options.withFallbackConfig(Config.integer("ECOUPON_UI_PORT")),
  Options.withDefault(8081)
)
const simCards = integerOption("sim-cards").pipe(
  Options.withDescription(`Blank cards in a new sim card unit's stacker; load the same number on the server (default: $ECOUPON_SIM_CARDS, else ${SIM_STACKER_CARDS_DEFAULT})`),
  Options.withFallbackConfig(Config.integer("ECOUPON_SIM_CARDS")),
  Options.withDefault(SIM_STACKER_CARDS_DEFAULT)
)

const simMoveMs = integerOption("sim-move-ms").pipe(
  Options.withDescription("Mechanical time of every move of a sim card unit, in ms (an RF exchange takes a tenth of it); default: a real unit's times"),
  Options.withFallbackConfig(Config.integer("ECOUPON_SIM_MOVE_MS")),
  Options.optional
)

type Parsed<A> = { readonly ok: A } | { readonly error: string }

/** `--server`: an http(s) URL with nothing after the host but an optional path. */
export const parseServerUrl = (text: string): Parsed<string> => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { error: `--server ${JSON.stringify(text)} is not a URL; give the server's address, e.g. http://127.0.0.1:8080` }
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { error: `--server ${text}: give an http:// or https:// URL` }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") return { error: `--server ${text}: give the server's base URL only (no query, fragment or credentials)` }
  return { ok: url.toString().replace(/\/+$/, "") }
}

/** `--card-unit sim | crt591:PATH`. */
export const parseCardUnit = (text: string, address: number, stackerCards: number, moveMs: Option.Option<number>): Parsed<CardUnitChoice> => {
  if (text === "sim") {
    if (Option.isNone(moveMs)) return { ok: { _tag: "sim", stackerCards } }
    const n = moveMs.value
    return { ok: { _tag: "sim", stackerCards, timing: { dispenseMs: n, presentMs: n, captureMs: n, retractMs: n, initMs: n, rfMs: Math.round(n / 10) } } }
  }
  const serial = /^crt591:(.+)$/.exec(text)
  if (serial?.[1] !== undefined) return { ok: { _tag: "crt591", path: serial[1], address } }
  return { error: `--card-unit ${JSON.stringify(text)}: give sim, or crt591:PATH (e.g. crt591:/dev/ttyUSB0)` }
}

/** `--printer sim | escpos:PATH`. */
export const parsePrinter = (text: string): Parsed<PrinterChoice> => {
  if (text === "sim") return { ok: { _tag: "sim" } }
  const serial = /^escpos:(.+)$/.exec(text)
  if (serial?.[1] !== undefined) return { ok: { _tag: "escpos", path: serial[1] } }
  return { error: `--printer ${JSON.stringify(text)}: give sim, or escpos:PATH (e.g. escpos:/dev/ttyUSB1)` }
}

const usageError = (message: string) => Effect.zipRight(Console.error(`ecoupon kiosk: ${message}`), Effect.sync(() => void (process.exitCode = 2)))

const startFailed = (message: string) => Effect.zipRight(Console.error(`ecoupon kiosk: ${message.split("\n")[0] ?? message}`), Effect.sync(() => void (process.exitCode = 1)))

const describeCardUnit = (choice: CardUnitChoice) => (choice._tag === "sim" ? "simulated card unit" : `CRT-591 on ${choice.path} (address ${choice.address ?? 0})`)
const describePrinter = (choice: PrinterChoice) => (choice._tag === "sim" ? "simulated printer" : `ESC/POS printer on ${choice.path}`)

export const kioskCommand = Command.make(
  "kiosk" as string,
  { server, kioskKey, cardUnit, cardUnitAddress, printer, state, uiPort, simCards, simMoveMs },
  (o) => {
    const serverUrl = parseServerUrl(o.server)
    if ("error" in serverUrl) return usageError(serverUrl.error)
    const kioskKey = Redacted.value(o.kioskKey).trim()
    if (kioskKey === "" || /\s/.test(kioskKey)) return usageError("--kiosk-key: give the kiosk's key as an operator issued it (ek_...), without spaces")
    if (o.cardUnitAddress < 0 || o.cardUnitAddress > 15) return usageError(`--card-unit-address ${o.cardUnitAddress}: a CRT-591 address is 0-15 (its DIP switches)`)
    if (o.simCards < 0 || o.simCards > 10_000) return usageError(`--sim-cards ${o.simCards}: give 0 to 10000 cards`)
    if (Option.isSome(o.simMoveMs) && (o.simMoveMs.value < 0 || o.simMoveMs.value > 60_000)) return usageError(`--sim-move-ms ${o.simMoveMs.value}: give 0 to 60000 ms`)
    const unit = parseCardUnit(o.cardUnit, o.cardUnitAddress, o.simCards, o.simMoveMs)
    if ("error" in unit) return usageError(unit.error)
    const paper = parsePrinter(o.printer)
    if ("error" in paper) return usageError(paper.error)
    if (o.uiPort < 0 || o.uiPort > 65_535) return usageError(`--ui-port ${o.uiPort} is not a TCP port; give 0 to 65535`)
    if (o.state.trim() === "") return usageError("--state: give a directory")
    const settings = { serverUrl: serverUrl.ok, kioskKey, cardUnit: unit.ok, printer: paper.ok, stateDir: o.state, uiPort: o.uiPort }
    return Effect.scoped(
      Effect.gen(function* () {
        const agent = Context.get(yield* Layer.build(kioskRuntimeLayer(settings)), KioskAgent)
        yield* Console.log(
          `ecoupon kiosk: touchscreen at ${agent.uiUrl}; server ${settings.serverUrl}; ${describeCardUnit(unit.ok)}, ${describePrinter(paper.ok)}; state in ${o.state}; Ctrl-C stops`
        )
        return yield* Effect.never
      })
    ).pipe(
      Effect.catchAll((error) => startFailed(error.message)),
      // What the agent refuses to start with (an unreadable journal, a port it cannot listen on) says what to do.
      Effect.catchAllDefect((defect) => startFailed(defect instanceof Error ? defect.message : String(defect)))
    )
  }
).pipe(Command.withDescription("Run the kiosk agent: the touchscreen on 127.0.0.1, the card unit and printer, orders kept through power cuts and server outages"))
