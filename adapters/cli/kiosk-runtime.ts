import { Context, Effect, Layer, Option } from "effect"
import { KioskFlowConfig, type KioskFlowSettings } from "../../core/kiosk-flow.js"
import { CardUnit } from "../../core/ports/card-unit.js"
import { CouponPrinter } from "../../core/ports/coupon-printer.js"
import { SimCardUnitControl } from "../../sim/card-unit-control.js"
import { makeSimPrinter, SimPrinterControl } from "../../sim/printer.js"
import { KioskBackendHttp } from "../http-client/kiosk-backend-http.js"
import { KioskEventsHttp } from "../http-client/kiosk-events-http.js"
import { defaultKioskAgentSettings, KioskAgent, KioskAgentLive, type KioskAgentSettings } from "../kiosk-agent/kiosk-agent.js"
import { KioskJournalFile } from "../kiosk-agent/kiosk-journal-file.js"
import type { CustomerHands } from "../kiosk-agent/ui-server.js"
import { makeSimCardUnitFile, type SimCardUnitFileSettings } from "./sim-hardware-file.js"

/**
 * One kiosk agent composed from its settings: what `ecoupon kiosk` runs, and what a demo deployment
 * runs several of in one process. The agent (adapters/kiosk-agent/kiosk-agent.ts) over
 * - the management server: `KioskBackendHttp` for its calls, `KioskEventsHttp` for its event stream;
 * - the journal of orders in flight in `stateDir` (`KioskJournalFile`);
 * - the chosen hardware: the CRT-591 and ESC/POS drivers of hil/ on serial ports, or the simulated
 *   unit and printer of sim/ (the unit kept in `stateDir` too, so it survives a restart: see
 *   sim-hardware-file.ts; on sim hardware the touchscreen shows the customer's hands).
 * Here, in the composition root, because only the CLI may wire sim/ and hil/ in.
 */

export type CardUnitChoice =
  | ({ readonly _tag: "sim" } & Partial<SimCardUnitFileSettings>)
  | { readonly _tag: "crt591"; readonly path: string; readonly baudRate?: number; readonly address?: number }

export type PrinterChoice = { readonly _tag: "sim"; readonly seed?: number } | { readonly _tag: "escpos"; readonly path: string; readonly baudRate?: number }

export interface KioskRuntimeSettings {
  /** The management server, e.g. http://127.0.0.1:8080. */
  readonly serverUrl: string
  /** The kiosk's key as an operator issued it (`ek_...`). */
  readonly kioskKey: string
  readonly cardUnit: CardUnitChoice
  readonly printer: PrinterChoice
  /** Where the journal (and a sim unit) live: one directory per kiosk, created 0700. */
  readonly stateDir: string
  /** The touchscreen's port on 127.0.0.1; 0 lets the system choose. */
  readonly uiPort: number
  /** Anything else of the agent (timers, the journey's timeouts). */
  readonly agent?: Partial<Omit<KioskAgentSettings, "ui">>
  /** The kiosk flow's own settings (how long a card waits at the gate, the version it reports). */
  readonly flow?: Partial<KioskFlowSettings>
}

export const SIM_STACKER_CARDS_DEFAULT = 100
export const SIM_BIN_CAPACITY_DEFAULT = 100

/** The hil modules load serialport's native binding: imported only when a serial device is chosen. */
const serialCardUnit = (choice: Extract<CardUnitChoice, { _tag: "crt591" }>) =>
  Layer.unwrapEffect(
    Effect.map(Effect.promise(() => import("../../hil/crt591-driver.js")), ({ Crt591 }) =>
      Crt591.layer({ path: choice.path, ...(choice.baudRate === undefined ? {} : { baudRate: choice.baudRate }), ...(choice.address === undefined ? {} : { address: choice.address }) })
    )
  )

const serialPrinter = (choice: Extract<PrinterChoice, { _tag: "escpos" }>) =>
  Layer.unwrapEffect(
    Effect.map(Effect.promise(() => import("../../hil/escpos-driver.js")), ({ EscPos }) =>
      EscPos.layer({ path: choice.path, ...(choice.baudRate === undefined ? {} : { baudRate: choice.baudRate }) })
    )
  )

/** The card unit, with the customer's hands when it is simulated. */
const cardUnitLayer = (settings: KioskRuntimeSettings): Layer.Layer<CardUnit | KioskHands, Error> => {
  const choice = settings.cardUnit
  if (choice._tag === "crt591") return Layer.merge(serialCardUnit(choice), Layer.succeed(KioskHands, Option.none()))
  return Layer.effectContext(
    Effect.map(
      makeSimCardUnitFile(settings.stateDir, {
        ...choice,
        stackerCards: choice.stackerCards ?? SIM_STACKER_CARDS_DEFAULT,
        binCapacity: choice.binCapacity ?? SIM_BIN_CAPACITY_DEFAULT
      }),
      (made) => Context.make(CardUnit, made.port).pipe(Context.add(SimCardUnitControl, made.control), Context.add(KioskHands, Option.some(made.hands)))
    )
  ) as Layer.Layer<CardUnit | KioskHands, Error>
}

const printerLayer = (choice: PrinterChoice): Layer.Layer<CouponPrinter, Error> =>
  choice._tag === "escpos"
    ? serialPrinter(choice)
    : (Layer.effectContext(
        Effect.map(makeSimPrinter(choice.seed === undefined ? {} : { seed: choice.seed }), (made) =>
          Context.make(CouponPrinter, made.port).pipe(Context.add(SimPrinterControl, made.control))
        )
      ) as Layer.Layer<CouponPrinter>)

/** The customer's hands on simulated hardware (none on a real unit): the touchscreen's sim buttons, a demo's customers. */
export class KioskHands extends Context.Tag("ecoupon/cli/KioskHands")<KioskHands, Option.Option<CustomerHands>>() {}

/**
 * The agent, running for as long as the layer lives: start-up (Init, a card left in the unit, orders
 * in flight), the touchscreen on 127.0.0.1, the event stream and twin reports. Fails to build with
 * one message when the state directory, a serial port or the touchscreen's port cannot be used.
 */
export const kioskRuntimeLayer = (settings: KioskRuntimeSettings): Layer.Layer<KioskAgent | KioskHands, Error> => {
  const agentSettings: KioskAgentSettings = {
    ...defaultKioskAgentSettings,
    ...settings.agent,
    ui: { ...defaultKioskAgentSettings.ui, port: settings.uiPort, host: "127.0.0.1" }
  }
  const server = { baseUrl: settings.serverUrl.replace(/\/+$/, ""), kioskKey: settings.kioskKey }
  const hardware = Layer.mergeAll(cardUnitLayer(settings), printerLayer(settings.printer))
  const agent = Layer.unwrapEffect(Effect.map(KioskHands, (hands) => KioskAgentLive(agentSettings, hands)))
  const flowConfig = settings.flow === undefined ? Layer.empty : Layer.effect(KioskFlowConfig, Effect.map(KioskFlowConfig, (config) => ({ ...config, ...settings.flow })))
  return agent.pipe(
    Layer.provideMerge(hardware),
    Layer.provide(Layer.mergeAll(KioskBackendHttp.layer(server), KioskEventsHttp.layer(server), KioskJournalFile.layer(settings.stateDir), flowConfig))
  )
}
