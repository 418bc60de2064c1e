import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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
 * The management server goes away in the middle of an order and comes back: `ecoupon kiosk` on sim
 * hardware sells a card, the server process is stopped after the card was dispensed and before the
 * order is delivered, the customer takes the card and gets a receipt saying the coupon is on its way,
 * and the journal keeps the order. The server starts again on the same store and port; the agent
 * delivers the order by itself. Nothing is lost (the order delivered, the card the customer's),
 * nothing charged twice (the balance is one price less), the counts agree, the audit is clean, and
 * the kiosk sells again.
 */

const STACKER = 10
const WELCOME_POINTS = 10_000
let root: string
let serverDir: string
let stateDir: string
let server: TestServer | undefined
let agent: Agent | undefined

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "ecoupon-kiosk-outage-"))
  serverDir = join(root, "server")
  stateDir = join(root, "kiosk")
  server = await startTestServer(serverDir, { stackerCards: STACKER })
}, 120_000)

afterAll(async () => {
  if (agent !== undefined) await killHard(agent)
  if (server !== undefined) await stop(server)
  rmSync(root, { recursive: true, force: true })
})

const signIn = async (screen: Touchscreen, phone: string) => {
  await screen.act({ _tag: "start" })
  await screen.until((v) => v.screen === "phone", "the phone screen")
  const texts = textsOnPhone(serverDir)
  await screen.act({ _tag: "phone", digits: phone })
  await screen.until((v) => v.screen === "code", "the code screen")
  const { code } = await codeFromPhone(serverDir, texts)
  await screen.act({ _tag: "code", code })
  return screen.until((v) => v.screen === "offers", "the offers")
}

const toConfirm = async (screen: Touchscreen) => {
  await screen.act({ _tag: "offer", offerId: testDeployment.offer })
  await screen.until((v) => v.screen === "order", "the order screen")
  await screen.act({ _tag: "order", quantity: 1, medium: "card" })
  await screen.until((v) => v.screen === "confirm", "the confirm screen")
  await screen.act({ _tag: "confirm" })
  await screen.until((v) => v.progress === "take-card", "take your card")
}

const waitFor = async (condition: () => boolean, what: string, timeoutMs: number) => {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`)
    await new Promise((done) => setTimeout(done, 100))
  }
}

describe("ecoupon kiosk through a server outage mid-order", () => {
  it("keeps the order, delivers it once when the server is back, and sells again", async () => {
    const live = server as TestServer
    agent = await startAgent(["--server", live.baseUrl, "--state", stateDir, "--ui-port", "0", "--sim-cards", String(STACKER), "--sim-move-ms", "100"], live.kioskKey)
    const screen = await openTouchscreen(agent.uiUrl)
    try {
      await signIn(screen, "01020000001")
      await toConfirm(screen)
      // The card waits at the gate: the server has been told of it (dispensing), not of the delivery.
      const stopped = await stop(live)
      server = undefined
      expect(stopped.code).toBe(0)
      expect(await screen.take()).toBe(true)
      const receipt = await screen.until((v) => v.screen === "receipt", "the receipt", 60_000)
      expect(receipt.receipt).toMatchObject({ kind: "pending" })
      expect(journalEntries(stateDir)).toBe(1)
      await screen.act({ _tag: "finish" })

      server = await startTestServer(serverDir, { port: live.port })
      await waitFor(() => journalEntries(stateDir) === 0, "the agent's reconciliation of the order", 60_000)
      const unit = simUnitOnDisk(stateDir)
      expect(unit.withCustomer).toBe(1)
      expect(await serverCounts(server)).toEqual({ stackerCards: unit.stackerCards, binCards: unit.binCards })
      expect(unit.stackerCards + unit.binCards + unit.withCustomer).toBe(STACKER)
      expect((await serverAudit(server)).failed).toEqual([])

      // The customer paid once, and the kiosk sells again.
      await screen.until((v) => v.screen === "welcome", "welcome")
      const offers = await signIn(screen, "01020000001")
      expect(offers.balancePoints).toBe(WELCOME_POINTS - testDeployment.offerPricePoints)
      await toConfirm(screen)
      expect(await screen.take()).toBe(true)
      const second = await screen.until((v) => v.screen === "receipt", "the second receipt")
      expect(second.receipt).toMatchObject({ kind: "delivered", balancePoints: WELCOME_POINTS - 2 * testDeployment.offerPricePoints })
      expect(journalEntries(stateDir)).toBe(0)
      expect((await serverAudit(server)).failed).toEqual([])
    } finally {
      screen.close()
    }
  }, 300_000)
})
