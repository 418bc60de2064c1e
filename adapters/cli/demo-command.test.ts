import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

/**
 * `ecoupon demo` (what `npm start` runs) as its own process: it prints the dashboard's URL with a
 * token that logs in, a touchscreen and a phone page; the simulated customers' orders show on the
 * dashboard's API; a code asked for on the touchscreen arrives on the phone page; SIGINT stops it
 * within about two seconds with exit 0 and the audit's verdict printed.
 */

const mainPath = fileURLToPath(new URL("./main.ts", import.meta.url))
const projectRoot = fileURLToPath(new URL("../../", import.meta.url))

let child: ChildProcess | undefined
afterAll(() => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
})

const waitFor = async <A>(what: string, timeoutMs: number, probe: () => Promise<A | undefined>): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 200))
  }
}

describe("ecoupon demo", () => {
  it("runs a live deployment a person can log into and walk, and stops cleanly on SIGINT with the audit", async () => {
    const output: Array<string> = []
    child = spawn(process.execPath, ["--import", "tsx", mainPath, "demo", "--port", "0", "--kiosks", "3"], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ECOUPON_MASTER_KEY: "" }
    })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child?.once("exit", (code, signal) => done({ code, signal })))
    createInterface({ input: child.stdout! }).on("line", (line) => output.push(line))
    createInterface({ input: child.stderr! }).on("line", (line) => output.push(line))
    const printed = (pattern: RegExp) => async () => {
      for (const line of output) {
        const found = pattern.exec(line)?.[1]
        if (found !== undefined) return found
      }
      return undefined
    }

    const dashboard = await waitFor("the dashboard's URL", 60_000, printed(/Fleet dashboard\s+(http:\/\/\S+)\//))
    const token = await waitFor("the login", 1_000, printed(/Log in with\s+(eo_\S+)/))
    const touchscreen = await waitFor("the touchscreen's URL", 1_000, printed(/Touchscreen\s+(http:\/\/\S+?)\/?\s/))
    const phone = await waitFor("the phone page's URL", 1_000, printed(/Phone\s+(http:\/\/\S+?)\/?\s/))

    // The dashboard: the page, and its API with the printed token; the simulated customers' orders rise.
    expect((await fetch(`${dashboard}/`)).status).toBe(200)
    expect((await fetch(`${dashboard}/v1/ops/fleet`)).status).toBe(401)
    const placed = async () => {
      const response = await fetch(`${dashboard}/v1/ops/fleet`, { headers: { authorization: `Bearer ${token}` } })
      expect(response.status).toBe(200)
      const body = (await response.json()) as { today: { ordersPlaced: number }; kiosks: ReadonlyArray<unknown> }
      expect(body.kiosks).toHaveLength(3)
      return body.today.ordersPlaced
    }
    const first = await placed()
    await waitFor("orders to rise", 45_000, async () => ((await placed()) > first ? true : undefined))

    // A person at the first kiosk: Start, a number, and the code arrives on the phone page.
    const act = (action: object) => fetch(`${touchscreen}/api/action`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(action) })
    expect((await act({ _tag: "start" })).status).toBe(202)
    await waitFor("the phone screen", 5_000, async () => ((await act({ _tag: "phone", digits: "01055550001" })).status === 202 ? true : undefined))
    const code = await waitFor("the code on the phone page", 15_000, async () => {
      const response = await fetch(`${phone}/api/messages?number=010-5555-0001`)
      const body = (await response.json()) as { messages: ReadonlyArray<{ text: string }> }
      return /\b(\d{6})\b/.exec(body.messages[0]?.text ?? "")?.[1]
    })
    const page = await (await fetch(`${phone}/?number=01055550001`)).text()
    expect(page).toContain(code)

    const stoppedAt = Date.now()
    child.kill("SIGINT")
    const { code: exitCode } = await exited
    const stoppingMs = Date.now() - stoppedAt
    expect(exitCode, output.join("\n")).toBe(0)
    expect(output.join("\n")).toContain("audit clean: every invariant holds")
    expect(stoppingMs).toBeLessThan(5_000)
    // No phone number in the output, and the key of no kiosk.
    expect(output.join("\n")).not.toMatch(/5555|0001\b/)
    expect(output.join("\n")).not.toMatch(/ek_/)
  }, 120_000)
})
