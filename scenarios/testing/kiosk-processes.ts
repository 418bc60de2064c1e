import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import type { KioskAction, KioskView } from "../../adapters/kiosk-agent/journey-view.js"
import { makeSseParser } from "../../adapters/server/sse-encoding.js"
import { testDeployment } from "./kiosk-test-server.js"

/**
 * The processes of the kiosk tests and how a test drives them: the test server
 * (kiosk-test-server.ts) and `ecoupon kiosk`, each started from the sources with tsx; the touchscreen
 * driven over its local API (`/api/view`, `/api/action`, `/api/sim/*`) as the page does, without a
 * browser; the phone read from the server's phone file; the server's books read over the operators' API.
 */

const projectRoot = fileURLToPath(new URL("../../", import.meta.url))
const cliPath = fileURLToPath(new URL("../../adapters/cli/main.ts", import.meta.url))
const serverPath = fileURLToPath(new URL("./kiosk-test-server.ts", import.meta.url))
const START_TIMEOUT_MS = 90_000

export interface Running {
  readonly child: ChildProcess
  /** What the process printed on stdout and stderr, line by line. */
  readonly output: Array<string>
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

/** Starts `args` under tsx and resolves once a stdout line matches `ready` (with the match). */
const start = (args: ReadonlyArray<string>, env: Record<string, string>, ready: RegExp): Promise<Running & { readonly match: RegExpExecArray }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } })
    const output: Array<string> = []
    const exited = new Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>((done) => child.once("exit", (code, signal) => done({ code, signal })))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${args.join(" ")} did not start within ${START_TIMEOUT_MS} ms:\n${output.join("\n")}`))
    }, START_TIMEOUT_MS)
    createInterface({ input: child.stderr }).on("line", (line) => output.push(line))
    createInterface({ input: child.stdout }).on("line", (line) => {
      output.push(line)
      const match = ready.exec(line)
      if (match !== null) {
        clearTimeout(timer)
        resolve({ child, output, exited, match })
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`${args.join(" ")} exited (${code ?? signal}) before it was ready:\n${output.join("\n")}`))
    })
  })

export interface TestServer extends Running {
  readonly baseUrl: string
  readonly port: number
  readonly kioskKey: string
  readonly adminToken: string
}

/** The test server on the store in `dir` (set up on the first start with `stackerCards`); port 0 the first time. */
export const startTestServer = async (dir: string, options: { readonly port?: number; readonly stackerCards?: number } = {}): Promise<TestServer> => {
  const running = await start([serverPath, dir, String(options.port ?? 0), String(options.stackerCards ?? 0)], { ECOUPON_MASTER_KEY: "" }, /listening on (http:\/\/127\.0\.0\.1:(\d+))/)
  const credentials = JSON.parse(readFileSync(join(dir, "credentials.json"), "utf8")) as { readonly kioskKey: string; readonly adminToken: string }
  return { ...running, baseUrl: running.match[1] ?? "", port: Number(running.match[2]), ...credentials }
}

export interface Agent extends Running {
  readonly uiUrl: string
}

/** `ecoupon kiosk` with `args`, the key from the environment as a service unit would give it. */
export const startAgent = async (args: ReadonlyArray<string>, kioskKey: string): Promise<Agent> => {
  const running = await start([cliPath, "kiosk", ...args], { ECOUPON_KIOSK_KEY: kioskKey }, /touchscreen at (http:\/\/127\.0\.0\.1:\d+\/)/)
  return { ...running, uiUrl: running.match[1] ?? "" }
}

/** SIGKILL, as a power cut does to the agent; resolves when the process is gone. */
export const killHard = async (running: Running): Promise<void> => {
  running.child.kill("SIGKILL")
  await running.exited
}

/** SIGTERM; resolves with how long the process took to exit and how. */
export const stop = async (running: Running) => {
  const at = performance.now()
  running.child.kill("SIGTERM")
  const exit = await running.exited
  return { ...exit, ms: performance.now() - at }
}

/** The touchscreen as its page sees it: the view stream and the customer's taps. */
export interface Touchscreen {
  readonly view: () => KioskView
  /** Resolves with the first view (the current one included) that satisfies `accept`. */
  readonly until: (accept: (view: KioskView) => boolean, what: string, timeoutMs?: number) => Promise<KioskView>
  /** Sends a tap; retries while the kiosk answers 409 (still busy with the previous one). */
  readonly act: (action: KioskAction) => Promise<void>
  readonly take: () => Promise<boolean>
  readonly insert: () => Promise<boolean>
  readonly close: () => void
}

export const openTouchscreen = async (uiUrl: string): Promise<Touchscreen> => {
  const abort = new AbortController()
  const response = await fetch(`${uiUrl}api/view`, { signal: abort.signal })
  if (!response.ok || response.body === null) throw new Error(`the touchscreen's view answered ${response.status}`)
  let current: KioskView | undefined
  const waiters = new Set<() => void>()
  const parse = makeSseParser()
  const decoder = new TextDecoder()
  const reader = response.body.getReader()
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        for (const event of parse(decoder.decode(value, { stream: true }))) {
          current = JSON.parse(event.data) as KioskView
          for (const wake of [...waiters]) wake()
        }
      }
    } catch {
      return
    }
  })()
  const until = (accept: (view: KioskView) => boolean, what: string, timeoutMs = 30_000) =>
    new Promise<KioskView>((resolve, reject) => {
      const check = () => {
        if (current !== undefined && accept(current)) {
          waiters.delete(check)
          clearTimeout(timer)
          resolve(current)
        }
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`the touchscreen did not show ${what} within ${timeoutMs} ms; it shows ${JSON.stringify(current)}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  await until(() => true, "its first view")
  const act = async (action: KioskAction) => {
    for (let attempt = 0; ; attempt++) {
      const answer = await fetch(`${uiUrl}api/action`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(action) })
      await answer.text()
      if (answer.status === 202) return
      if (answer.status !== 409 || attempt > 200) throw new Error(`the touchscreen answered ${answer.status} to ${action._tag}`)
      await new Promise((done) => setTimeout(done, 25))
    }
  }
  const hand = async (what: "take" | "insert") => {
    const answer = await fetch(`${uiUrl}api/sim/${what}`, { method: "POST" })
    await answer.text()
    return answer.status === 204
  }
  return {
    view: () => current as KioskView,
    until,
    act,
    take: () => hand("take"),
    insert: () => hand("insert"),
    close: () => abort.abort()
  }
}

/** The newest one-time code the test server's phone received after `after` texts; waits for it. */
export const codeFromPhone = async (serverDir: string, after: number, timeoutMs = 15_000): Promise<{ readonly code: string; readonly count: number }> => {
  const file = join(serverDir, "phone.jsonl")
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((line) => line.length > 0) : []
    if (lines.length > after) {
      const text = (JSON.parse(lines.at(-1) ?? "{}") as { readonly text?: string }).text ?? ""
      const code = /code (\d+)/.exec(text)?.[1]
      if (code !== undefined) return { code, count: lines.length }
    }
    await new Promise((done) => setTimeout(done, 20))
  }
  throw new Error("no one-time code reached the test phone")
}

/** Texts the phone holds so far. */
export const textsOnPhone = (serverDir: string): number => {
  const file = join(serverDir, "phone.jsonl")
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((line) => line.length > 0).length : 0
}

const opsGet = async <A>(server: { readonly baseUrl: string; readonly adminToken: string }, path: string): Promise<A> => {
  const response = await fetch(`${server.baseUrl}/v1/ops${path}`, { headers: { authorization: `Bearer ${server.adminToken}` } })
  if (!response.ok) throw new Error(`GET /v1/ops${path} answered ${response.status}: ${await response.text()}`)
  return (await response.json()) as A
}

/** The server's card counts for the test kiosk. */
export const serverCounts = async (server: { readonly baseUrl: string; readonly adminToken: string }) => {
  const kiosks = await opsGet<ReadonlyArray<{ readonly id: string; readonly stackerCards: number; readonly binCards: number }>>(server, "/kiosks")
  const kiosk = kiosks.find((k) => k.id === testDeployment.kiosk)
  if (kiosk === undefined) throw new Error("the test kiosk is not on the server")
  return { stackerCards: kiosk.stackerCards, binCards: kiosk.binCards }
}

/** The audit's verdict and the checks that failed. */
export const serverAudit = async (server: { readonly baseUrl: string; readonly adminToken: string }) => {
  const audit = await opsGet<{ readonly ok: boolean; readonly checks: ReadonlyArray<{ readonly name: string; readonly violationCount: number }> }>(server, "/audit")
  const failed = audit.checks.filter((check) => check.violationCount > 0)
  if (!audit.ok && failed.length === 0) throw new Error("the audit failed without naming a check")
  return { ok: audit.ok, failed }
}

/** What the sim card unit holds, from its file in the agent's state directory (read while the agent is stopped or between commands). */
export const simUnitOnDisk = (stateDir: string) => {
  const saved = JSON.parse(readFileSync(join(stateDir, "sim-card-unit.json"), "utf8")) as {
    readonly unit: { readonly stackerCards: number; readonly binCards: number; readonly transport: unknown; readonly slot: unknown; readonly taken: ReadonlyArray<unknown> }
    readonly pocket: ReadonlyArray<{ readonly uid: string }>
  }
  return {
    stackerCards: saved.unit.stackerCards,
    binCards: saved.unit.binCards,
    inTransport: saved.unit.transport !== null,
    atSlot: saved.unit.slot !== null,
    /** Cards the customer holds: in the pocket, taken and not yet collected into it, or offered at the closed slot. */
    withCustomer: saved.pocket.length + saved.unit.taken.length + (saved.unit.slot !== null ? 1 : 0)
  }
}

/** Orders the agent's journal still holds. */
export const journalEntries = (stateDir: string): number => {
  const file = join(stateDir, "in-flight.json")
  if (!existsSync(file)) return 0
  const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown
  return Array.isArray(parsed) ? parsed.length : Array.isArray((parsed as { readonly entries?: unknown }).entries) ? ((parsed as { readonly entries: Array<unknown> }).entries.length) : 0
}
