import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { KioskView } from "../adapters/kiosk-agent/journey-view.js"
import {
  type Agent,
  codeFromPhone,
  journalEntries,
  killHard,
  openTouchscreen,
  serverAudit,
  serverCounts,
  simUnitOnDisk,
  startAgent,
  startTestServer,
  stop,
  type TestServer,
  textsOnPhone,
  type Touchscreen
} from "./testing/kiosk-processes.js"
import { testDeployment } from "./testing/kiosk-test-server.js"

/**
 * `ecoupon kiosk` on sim hardware, killed with SIGKILL (a power cut, as far as the agent can tell) at
 * every step of a card purchase and of a card return, driven through its touchscreen's local API, then
 * started again on the same state directory. After each restart: the journal holds nothing, the card
 * unit holds no card in its transport, the server's stacker and bin counts equal the unit's, every
 * card loaded is in the stacker, the bin or the customer's hands, the customer's balance is the welcome
 * grant less one price per card they walked away with, and the audit is clean. Finally SIGTERM stops
 * the agent within two seconds.
 */

const STACKER = 20
const WELCOME_POINTS = 10_000
const dirs: Array<string> = []
let server: TestServer
let serverDir: string
let stateDir: string
let agent: Agent | undefined

const phoneOf = (n: number) => `0101000${String(n).padStart(4, "0")}`

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), "ecoupon-kiosk-kill-"))
  dirs.push(root)
  serverDir = join(root, "server")
  stateDir = join(root, "kiosk")
  server = await startTestServer(serverDir, { stackerCards: STACKER })
}, 120_000)

afterAll(async () => {
  if (agent !== undefined) await killHard(agent)
  if (server !== undefined) await stop(server)
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const startKiosk = async () => {
  agent = await startAgent(["--server", server.baseUrl, "--state", stateDir, "--ui-port", "0", "--sim-cards", String(STACKER), "--sim-move-ms", "200"], server.kioskKey)
  return agent
}

/** Signs the customer with phone `n` in; the touchscreen is on the offers afterwards. */
const signIn = async (screen: Touchscreen, n: number, killAt?: string) => {
  await screen.act({ _tag: "start" })
  await screen.until((v) => v.screen === "phone", "the phone screen")
  if (killAt === "phone") return "killed"
  const texts = textsOnPhone(serverDir)
  await screen.act({ _tag: "phone", digits: phoneOf(n) })
  await screen.until((v) => v.screen === "code", "the code screen")
  if (killAt === "code") return "killed"
  const { code } = await codeFromPhone(serverDir, texts)
  await screen.act({ _tag: "code", code })
  return screen.until((v) => v.screen === "offers", "the offers")
}

/** The customer's balance, as the kiosk shows it after signing in again; the session is ended. */
const balanceOf = async (n: number) => {
  const screen = await openTouchscreen(agent?.uiUrl ?? "")
  try {
    const offers = await signIn(screen, n)
    if (offers === "killed") throw new Error("unreachable")
    await screen.act({ _tag: "finish" })
    await screen.until((v) => v.screen === "welcome", "welcome")
    return offers.balancePoints
  } finally {
    screen.close()
  }
}

type Step = "phone" | "code" | "confirm" | "placing" | "dispensing" | "writing" | "take-card" | "taken" | "receipt" | "return-wait" | "return-inserted" | "return-result"

/** One purchase by phone `n`, cut at `step` with SIGKILL. */
const purchaseCut = async (n: number, step: Step) => {
  const screen = await openTouchscreen(agent?.uiUrl ?? "")
  try {
    const offers = await signIn(screen, n, step)
    if (offers === "killed") return
    await screen.act({ _tag: "offer", offerId: testDeployment.offer })
    await screen.until((v) => v.screen === "order", "the order screen")
    await screen.act({ _tag: "order", quantity: 1, medium: "card" })
    await screen.until((v) => v.screen === "confirm", "the confirm screen")
    if (step === "confirm") return
    await screen.act({ _tag: "confirm" })
    const progressed = (stage: KioskView["progress"]) => screen.until((v) => v.progress === stage || v.screen === "receipt", `progress ${stage}`)
    if (step === "placing" || step === "dispensing" || step === "writing") {
      await progressed(step)
      return
    }
    await progressed("take-card")
    if (step === "take-card") return
    expect(await screen.take()).toBe(true)
    if (step === "taken") return
    await screen.until((v) => v.screen === "receipt", "the receipt")
  } finally {
    screen.close()
  }
}

/** One card return, cut at `step`. */
const returnCut = async (step: Step) => {
  const screen = await openTouchscreen(agent?.uiUrl ?? "")
  try {
    await screen.act({ _tag: "return" })
    await screen.until((v) => v.screen === "return-insert", "the insert-your-card screen")
    // Front entry is enabled once the flow waits for the card; the sim hand offers it at the slot.
    await new Promise((done) => setTimeout(done, 300))
    if (step === "return-wait") return
    // False when the card a cut left at the slot is the one drawn in now.
    await screen.insert()
    if (step === "return-inserted") return
    await screen.until((v) => v.screen === "return-result", "the return's result")
  } finally {
    screen.close()
  }
}

/** After a restart: nothing in flight, no card inside, the books of server and unit agree. */
const checkAccounts = async (label: string) => {
  expect(journalEntries(stateDir), `${label}: orders left in the journal`).toBe(0)
  const unit = simUnitOnDisk(stateDir)
  expect(unit.inTransport, `${label}: a card left in the unit's transport`).toBe(false)
  expect(await serverCounts(server), `${label}: the server's counts against the unit's`).toEqual({ stackerCards: unit.stackerCards, binCards: unit.binCards })
  expect(unit.stackerCards + unit.binCards + unit.withCustomer, `${label}: cards accounted for`).toBe(STACKER)
  const audit = await serverAudit(server)
  expect(audit.failed, `${label}: audit`).toEqual([])
  return unit
}

describe("ecoupon kiosk killed with SIGKILL at every step of a card journey", () => {
  it("restarts clean every time: journal empty, counts equal, every card and point accounted for, audit clean", async () => {
    await startKiosk()
    const purchaseSteps: ReadonlyArray<Step> = ["code", "confirm", "placing", "dispensing", "writing", "take-card", "taken", "receipt"]
    let held = 0
    for (const [index, step] of purchaseSteps.entries()) {
      const n = index + 1
      await purchaseCut(n, step)
      await killHard(agent as Agent)
      await startKiosk()
      const unit = await checkAccounts(`purchase cut at ${step}`)
      const gained = unit.withCustomer - held
      held = unit.withCustomer
      expect([0, 1], `purchase cut at ${step}: cards gained`).toContain(gained)
      // The customer paid for exactly the card they walked away with, or for nothing.
      expect(await balanceOf(n), `purchase cut at ${step}: balance`).toBe(WELCOME_POINTS - gained * testDeployment.offerPricePoints)
    }
    // The cards bought are in the customer's hands: bring them back, cut at each step of a return.
    expect(held).toBeGreaterThanOrEqual(2)
    for (const step of ["return-wait", "return-inserted", "return-result"] as const) {
      await returnCut(step)
      await killHard(agent as Agent)
      await startKiosk()
      await checkAccounts(`return cut at ${step}`)
    }
    const stopped = await stop(agent as Agent)
    agent = undefined
    expect(stopped.code).toBe(0)
    expect(stopped.ms).toBeLessThan(2_000)
  }, 600_000)
})
