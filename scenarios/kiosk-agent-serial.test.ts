import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openPtyPair, type PtyPair } from "../hil/pty.js"
import {
  type Agent,
  codeFromPhone,
  journalEntries,
  killHard,
  openTouchscreen,
  serverAudit,
  serverCounts,
  startAgent,
  startTestServer,
  stop,
  type TestServer,
  textsOnPhone
} from "./testing/kiosk-processes.js"
import { testDeployment } from "./testing/kiosk-test-server.js"

/**
 * `ecoupon kiosk` with the serial drivers (`--card-unit crt591:PTY --printer escpos:PTY`) against
 * `ecoupon emulate crt591 --refuse-before-init` (a unit that answers everything but Init with "not
 * initialised", as after power-on) and `ecoupon emulate escpos`, each over a socat pty pair: the agent
 * starts cleanly, sells a card (the emulator's user takes it at the gate) and takes it back (the
 * emulator's user inserts it), and the server's counts equal what the emulated unit says it holds.
 */

const STACKER = 10
const cliPath = fileURLToPath(new URL("../adapters/cli/main.ts", import.meta.url))
const projectRoot = fileURLToPath(new URL("../", import.meta.url))

interface Emulator {
  readonly child: ChildProcess
  readonly lines: Array<string>
  /** Types a line on its console and resolves with the next line it prints that matches `answer`. */
  readonly type: (line: string, answer: RegExp) => Promise<string>
}

const emulate = (args: ReadonlyArray<string>): Promise<Emulator> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", cliPath, "emulate", ...args], { cwd: projectRoot, stdio: ["pipe", "pipe", "pipe"] })
    const lines: Array<string> = []
    const listeners = new Set<(line: string) => void>()
    createInterface({ input: child.stderr }).on("line", (line) => lines.push(line))
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line)
      for (const listen of [...listeners]) listen(line)
      if (/type "help"/.test(line)) resolve({ child, lines, type })
    })
    child.once("exit", (code) => reject(new Error(`emulate ${args.join(" ")} exited (${code}):\n${lines.join("\n")}`)))
    const type = (line: string, answer: RegExp) =>
      new Promise<string>((done) => {
        const listen = (printed: string) => {
          if (answer.test(printed)) {
            listeners.delete(listen)
            done(printed)
          }
        }
        listeners.add(listen)
        child.stdin?.write(`${line}\n`)
      })
  })

let root: string
let server: TestServer
const pairs: Array<PtyPair> = []
const emulators: Array<Emulator> = []
let agent: Agent | undefined

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "ecoupon-kiosk-serial-"))
  server = await startTestServer(join(root, "server"), { stackerCards: STACKER })
}, 120_000)

afterAll(async () => {
  if (agent !== undefined) await killHard(agent)
  for (const emulator of emulators) emulator.child.kill("SIGTERM")
  for (const pair of pairs) await pair.close()
  if (server !== undefined) await stop(server)
  rmSync(root, { recursive: true, force: true })
})

const unitState = async (crt: Emulator) => {
  const line = await crt.type("state", /stacker \d+, bin \d+/)
  const match = /card (\w+).*stacker (\d+), bin (\d+)/.exec(line)
  return { position: match?.[1], stackerCards: Number(match?.[2]), binCards: Number(match?.[3]) }
}

describe("ecoupon kiosk on the serial drivers against the emulators over socat ptys", () => {
  it("starts on a unit that refuses all but Init, sells a card and takes it back", async () => {
    const cardLine = await openPtyPair()
    const printerLine = await openPtyPair()
    pairs.push(cardLine, printerLine)
    const crt = await emulate(["crt591", "--port", cardLine.pathB, "--stacker", String(STACKER), "--move-ms", "50", "--init-ms", "100", "--take-after-ms", "300", "--refuse-before-init"])
    emulators.push(crt)
    emulators.push(await emulate(["escpos", "--port", printerLine.pathB]))
    const stateDir = join(root, "kiosk")
    agent = await startAgent(
      ["--server", server.baseUrl, "--state", stateDir, "--ui-port", "0", "--card-unit", `crt591:${cardLine.pathA}`, "--printer", `escpos:${printerLine.pathA}`],
      server.kioskKey
    )
    const screen = await openTouchscreen(agent.uiUrl)
    try {
      expect(screen.view().simulatedHardware).toBe(false)
      await screen.act({ _tag: "start" })
      await screen.until((v) => v.screen === "phone", "the phone screen")
      const texts = textsOnPhone(join(root, "server"))
      await screen.act({ _tag: "phone", digits: "01030000001" })
      await screen.until((v) => v.screen === "code", "the code screen")
      await screen.act({ _tag: "code", code: (await codeFromPhone(join(root, "server"), texts)).code })
      await screen.until((v) => v.screen === "offers", "the offers")
      await screen.act({ _tag: "offer", offerId: testDeployment.offer })
      await screen.until((v) => v.screen === "order", "the order screen")
      await screen.act({ _tag: "order", quantity: 1, medium: "card" })
      await screen.until((v) => v.screen === "confirm", "the confirm screen")
      await screen.act({ _tag: "confirm" })
      // The emulator's user takes the card from the gate after 300 ms.
      const receipt = await screen.until((v) => v.screen === "receipt", "the receipt", 60_000)
      expect(receipt.receipt).toMatchObject({ kind: "delivered", medium: "card" })
      await screen.act({ _tag: "finish" })
      await screen.until((v) => v.screen === "welcome", "welcome")

      await screen.act({ _tag: "return" })
      await screen.until((v) => v.screen === "return-insert", "insert your card")
      // Front entry opens once the flow waits for the card: the user tries until the gate takes it.
      for (let tries = 0; ; tries++) {
        const answer = await crt.type("insert", /card inserted at the gate|refused/)
        if (answer.includes("inserted")) break
        if (tries > 50) throw new Error("the emulated unit never opened its gate for the card")
        await new Promise((done) => setTimeout(done, 200))
      }
      const returned = await screen.until((v) => v.screen === "return-result", "the return's result", 60_000)
      expect(returned.returnResult).toMatchObject({ kind: "returned", forwardedPoints: testDeployment.offerPricePoints })

      const unit = await unitState(crt)
      expect(unit.position).toBe("none")
      expect(unit).toMatchObject({ stackerCards: STACKER - 1, binCards: 1 })
      expect(await serverCounts(server)).toEqual({ stackerCards: unit.stackerCards, binCards: unit.binCards })
      expect(journalEntries(stateDir)).toBe(0)
      expect((await serverAudit(server)).failed).toEqual([])
    } finally {
      screen.close()
    }
    const stopped = await stop(agent)
    agent = undefined
    expect(stopped.code).toBe(0)
    expect(stopped.ms).toBeLessThan(2_000)
  }, 300_000)
})
